"""``/twilio``: Twilio Media Streams (assist.ingest.twilio) over the ingest loop.

Twilio's ``<Start><Stream>`` is one-way: we never send media back. Transcripts and guidance go
to the agent's sidebar through the hub.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from starlette.websockets import WebSocket

from assist.audio.frontend import CallAudio
from assist.audio.resample import TARGET_RATE_HZ
from assist.calls.session import CallMetadata
from assist.errors import ProtocolError
from assist.events import SPEAKERS, Speaker
from assist.ingest import twilio
from assist.ingest.twilio_signature import signature_valid
from assist.services import Services
from assist.web.connection import CLOSE_POLICY, CLOSE_TRY_AGAIN, Sender, accept_ingest
from assist.web.ingest import Audio, Close, IngestAdapter, Open, Step, serve

log = logging.getLogger(__name__)

RATE_HZ = twilio.WIRE_FORMAT.rate_hz
MAX_GAP_FILL_S = 5.0  # a jump in media timestamps longer than this is not filled with silence
# Silence is filled only while a track stays within this much of real time: timestamps that
# run ahead of the clock (a client jumping them) never turn into hours of audio to process.
AHEAD_OF_CLOCK_S = 2.0


class TwilioAdapter(IngestAdapter):
    platform = "twilio"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started_s = 0.0
        self.protocol = twilio.TwilioProtocol()
        self.decoders: dict[Speaker, CallAudio] = {}
        self.received: dict[Speaker, int] = dict.fromkeys(SPEAKERS, 0)  # wire samples per track

    def steps(self, received: Mapping[str, Any]) -> list[Step]:
        text = received.get("text")
        if text is None:
            raise ProtocolError("Twilio sends text frames only", code=1003)
        action = self.protocol.receive_text(text)
        if isinstance(action, twilio.Media):
            return self._media(action) if self.decoders else []
        if isinstance(action, twilio.StreamStart):
            self.started_s = self.clock()
            self.decoders = {s: CallAudio(twilio.WIRE_FORMAT, (s,)) for s in SPEAKERS}
            if "outbound" not in action.tracks:
                log.warning('twilio: stream has no outbound track; use track="both_tracks" to transcribe the agent')
            meta = CallMetadata(
                platform="twilio",
                platform_call_id=action.call_sid,
                caller_number=action.caller_number,
                agent_id=action.agent_id,
                language=action.language,
            )
            return [Open(meta)]
        if isinstance(action, twilio.StreamStop):
            return [Close("completed")]
        return []

    def _media(self, action: twilio.Media) -> list[Step]:
        steps: list[Step] = []
        # Keep both tracks on the call's clock: fill a gap in a track with silence.
        gap = action.timestamp_ms * RATE_HZ // 1000 - self.received[action.speaker]
        within_clock = (
            self.received[action.speaker] + gap
        ) / RATE_HZ <= self.clock() - self.started_s + AHEAD_OF_CLOCK_S
        if 0 < gap <= MAX_GAP_FILL_S * RATE_HZ and gap > RATE_HZ // 50 and within_clock:
            # Zeros need no resampling filter: 16 kHz silence of the same duration.
            silence = np.zeros(gap * TARGET_RATE_HZ // RATE_HZ, dtype=np.float32)
            steps.append(Audio({action.speaker: silence}))
            self.received[action.speaker] += gap
        self.received[action.speaker] += len(action.payload)
        steps.append(Audio(self.decoders[action.speaker].decode(action.payload)))
        return steps

    async def refuse(self, sender: Sender, reason: str) -> bool:
        await sender.close(CLOSE_TRY_AGAIN, reason)
        return True


def signed_by_twilio(websocket: WebSocket, auth_token: str, public_url: str | None) -> bool:
    """The upgrade carries Twilio's signature over the URL the TwiML named: this server's public
    URL when configured, else the Host it was reached at (a proxy may have changed the scheme)."""
    query = f"?{websocket.url.query}" if websocket.url.query else ""
    path = websocket.url.path + query
    urls = [f"wss://{websocket.headers.get('host', '')}{path}"]
    if public_url:
        urls.insert(0, public_url.rstrip("/") + path)
    return signature_valid(auth_token, websocket.headers.get("x-twilio-signature"), urls)


async def twilio_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    auth_token = services.settings.twilio_auth_token
    if auth_token is not None:
        # Twilio can set no header of ours and no query string: its signature is the credential.
        if not signed_by_twilio(websocket, auth_token, services.settings.public_url):
            log.info("twilio: upgrade without a valid X-Twilio-Signature refused")
            await websocket.close(CLOSE_POLICY, "invalid or missing X-Twilio-Signature")
            return
        await websocket.accept()
        await serve(websocket, services, TwilioAdapter())
        return
    accepted = await accept_ingest(websocket)
    if accepted is not None:
        await serve(websocket, accepted, TwilioAdapter())
