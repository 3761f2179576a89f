"""``/twilio``: Twilio Media Streams (assist.ingest.twilio) over a websocket.

Twilio's ``<Start><Stream>`` is one-way: we never send media back. Transcripts and guidance go
to the agent's sidebar through the hub.
"""

from __future__ import annotations

import logging

import numpy as np
from starlette.websockets import WebSocket

from assist.audio.frontend import CallAudio
from assist.calls.session import CallMetadata, CallSession, CapacityError
from assist.errors import AudioFormatError, ProtocolError
from assist.events import SPEAKERS, Speaker
from assist.ingest import twilio
from assist.web.connection import CLOSE_NORMAL, CLOSE_TRY_AGAIN, accept_ingest

log = logging.getLogger(__name__)

RATE_HZ = twilio.WIRE_FORMAT.rate_hz
MAX_GAP_FILL_S = 5.0  # a jump in media timestamps longer than this is not filled with silence


async def twilio_endpoint(websocket: WebSocket) -> None:
    accepted = await accept_ingest(websocket)
    if accepted is None:
        return
    services, sender = accepted
    protocol = twilio.TwilioProtocol()
    session: CallSession | None = None
    decoders: dict[Speaker, CallAudio] = {}
    received: dict[Speaker, int] = {s: 0 for s in SPEAKERS}  # wire samples per track
    reason = "disconnected"
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                raise ProtocolError("Twilio sends text frames only", code=1003)
            action = protocol.receive_text(text)
            if isinstance(action, twilio.StreamStart):
                session = await CallSession.open(
                    services,
                    CallMetadata(
                        platform="twilio",
                        platform_call_id=action.call_sid,
                        caller_number=action.caller_number,
                        agent_id=action.agent_id,
                        language=action.language,
                    ),
                )
                decoders = {s: CallAudio(twilio.WIRE_FORMAT, (s,)) for s in SPEAKERS}
                if "outbound" not in action.tracks:
                    log.warning('twilio: stream has no outbound track; use track="both_tracks" to transcribe the agent')
            elif isinstance(action, twilio.Media) and session is not None:
                # Keep both tracks on the call's clock: fill a gap in a track with silence.
                gap = action.timestamp_ms * RATE_HZ // 1000 - received[action.speaker]
                if 0 < gap <= MAX_GAP_FILL_S * RATE_HZ and gap > RATE_HZ // 50:
                    # Zeros need no resampling filter: 16 kHz silence of the same duration.
                    await session.push(action.speaker, np.zeros(gap * 2, dtype=np.float32))
                    received[action.speaker] += gap
                received[action.speaker] += len(action.payload)
                for speaker, samples in decoders[action.speaker].decode(action.payload).items():
                    await session.push(speaker, samples)
            elif isinstance(action, twilio.StreamStop):
                reason = "completed"
                break
    except (ProtocolError, AudioFormatError) as error:
        code = error.code if isinstance(error, ProtocolError) else 1003
        text_reason = error.reason if isinstance(error, ProtocolError) else str(error)
        log.warning("twilio: %s", text_reason)
        services.metrics.errors.labels("protocol").inc()
        reason = "protocol_error"
        if session is not None:
            await session.end(reason)
        await sender.close(code, text_reason)
        return
    except CapacityError as error:
        await sender.close(CLOSE_TRY_AGAIN, str(error))
        return
    finally:
        if session is not None and not session.ended:
            await session.end(reason)
    await sender.close(CLOSE_NORMAL, reason)
