"""``/native``: our own protocol (assist.ingest.native) over the ingest loop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket

from assist.audio.frontend import CallAudio
from assist.calls.session import CallMetadata, CallSession
from assist.events import SPEAKERS
from assist.ingest import native
from assist.messages import Message, error_message
from assist.web.connection import CLOSE_TRY_AGAIN, Sender, accept_ingest
from assist.web.ingest import Audio, Close, Fail, Feedback, IngestAdapter, Open, Pause, Resume, Send, Step, serve


class NativeAdapter(IngestAdapter):
    platform = "native"
    forwards_events = True  # every event of the call, as the sidebar sees it

    def __init__(self) -> None:
        self.protocol = native.NativeProtocol()
        self.decoders: dict[str | None, CallAudio] = {}  # None: interleaved stereo
        self.platform_call_id = ""

    def steps(self, received: Mapping[str, Any]) -> list[Step]:
        if received.get("text") is not None:
            action = self.protocol.receive_text(received["text"])
        else:
            action = self.protocol.receive_bytes(received.get("bytes") or b"")
        if isinstance(action, native.Audio):
            decoder = self.decoders.get(action.speaker)
            return [Audio(decoder.decode(action.data))] if decoder is not None else []
        if isinstance(action, native.Ping):
            return [Send({"type": "pong"})]
        if isinstance(action, native.Start):
            if action.tagged:
                self.decoders = {s: CallAudio(action.format, (s,)) for s in SPEAKERS}
            else:
                self.decoders = {None: CallAudio(action.format, SPEAKERS)}
            self.platform_call_id = action.call_id
            meta = CallMetadata(
                platform="native",
                platform_call_id=action.call_id,
                caller_number=action.caller_number,
                agent_id=action.agent_id,
                language=action.language,
            )
            return [Open(meta)]
        if isinstance(action, native.Pause):
            return [Pause()]
        if isinstance(action, native.Resume):
            return [Resume()]
        if isinstance(action, native.Feedback):
            return [Feedback(action.card_id, action.action)]
        if isinstance(action, native.Stop):
            return [Close("completed")]
        return []

    async def accepted(self, sender: Sender, session: CallSession) -> None:
        await sender.send({"type": "started", "call_id": session.call_id, "platform_call_id": self.platform_call_id})

    async def refuse(self, sender: Sender, reason: str) -> bool:
        await sender.send(error_message(reason, fatal=True))
        await sender.close(CLOSE_TRY_AGAIN, reason)
        return True

    async def fail(self, sender: Sender, step: Fail) -> bool:
        await sender.send(error_message(step.reason, fatal=True))
        return True

    def events(self, message: Message) -> list[Message]:
        return [message]


async def native_endpoint(websocket: WebSocket) -> None:
    accepted = await accept_ingest(websocket)
    if accepted is not None:
        await serve(websocket, accepted, NativeAdapter())
