"""``/native``: our own protocol (assist.ingest.native) over a websocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket

from assist.audio.frontend import CallAudio
from assist.calls.session import CallMetadata, CallSession, CapacityError, record_feedback
from assist.errors import AudioFormatError, ProtocolError
from assist.events import SPEAKERS
from assist.ingest import native
from assist.messages import error_message
from assist.web.connection import CLOSE_NORMAL, CLOSE_TRY_AGAIN, accept_ingest, forward

log = logging.getLogger(__name__)


async def native_endpoint(websocket: WebSocket) -> None:
    accepted = await accept_ingest(websocket)
    if accepted is None:
        return
    services, sender = accepted
    protocol = native.NativeProtocol()
    session: CallSession | None = None
    audio: CallAudio | None = None
    per_speaker: dict[str, CallAudio] = {}
    forwarder: asyncio.Task[bool] | None = None
    end_reason = "disconnected"
    try:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                break
            try:
                if received.get("text") is not None:
                    action = protocol.receive_text(received["text"])
                else:
                    action = protocol.receive_bytes(received.get("bytes") or b"")
                if isinstance(action, native.Start):
                    session = await CallSession.open(
                        services,
                        CallMetadata(
                            platform="native",
                            platform_call_id=action.call_id,
                            caller_number=action.caller_number,
                            agent_id=action.agent_id,
                            language=action.language,
                        ),
                    )
                    if action.tagged:
                        per_speaker = {s: CallAudio(action.format, (s,)) for s in SPEAKERS}
                    else:
                        audio = CallAudio(action.format, SPEAKERS)
                    await sender.send(
                        {"type": "started", "call_id": session.call_id, "platform_call_id": action.call_id}
                    )
                    outbox = session.subscribe()
                    if outbox is not None:
                        forwarder = asyncio.create_task(forward(outbox, sender, stop_on_call_end=session.call_id))
                elif isinstance(action, native.Audio) and session is not None:
                    decoder = audio if action.speaker is None else per_speaker[action.speaker]
                    assert decoder is not None
                    for speaker, samples in decoder.decode(action.data).items():
                        await session.push(speaker, samples)
                elif isinstance(action, native.Pause) and session is not None:
                    await session.pause()
                elif isinstance(action, native.Resume) and session is not None:
                    session.resume()
                elif isinstance(action, native.Ping):
                    await sender.send({"type": "pong"})
                elif isinstance(action, native.Feedback) and session is not None:
                    record_feedback(services, session.call_id, action.card_id, action.action, "softphone")
                elif isinstance(action, native.Stop):
                    end_reason = "completed"
                    break
            except (ProtocolError, AudioFormatError) as error:
                code = error.code if isinstance(error, ProtocolError) else 1003
                reason = error.reason if isinstance(error, ProtocolError) else str(error)
                log.warning("native: %s", reason)
                services.metrics.errors.labels("protocol").inc()
                await sender.send(error_message(reason, fatal=True))
                end_reason = "protocol_error"
                await _finish(session, forwarder, end_reason)
                await sender.close(code, reason)
                return
            except CapacityError as error:
                await sender.send(error_message(str(error), fatal=True))
                await sender.close(CLOSE_TRY_AGAIN, str(error))
                return
    finally:
        await _finish(session, forwarder, end_reason)
    await sender.close(CLOSE_NORMAL, end_reason)


async def _finish(session: CallSession | None, forwarder: asyncio.Task[bool] | None, reason: str) -> None:
    """End the call (its finals are still delivered and logged) and let the forwarder drain."""
    if session is not None and not session.ended:
        await session.end(reason)
    if forwarder is not None and not forwarder.done():
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(forwarder, timeout=5.0)
