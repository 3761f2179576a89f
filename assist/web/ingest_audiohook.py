"""``/audiohook``: Genesys Cloud AudioHook v2 (assist.ingest.audiohook) over the ingest loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket

from assist.audio.frontend import CallAudio
from assist.calls.session import CallMetadata, CallSession
from assist.errors import AudioFormatError
from assist.ingest import audiohook as ah
from assist.ingest.signature import SignatureError, SignatureVerifier
from assist.messages import Message
from assist.services import Services
from assist.web.auth import same_secret
from assist.web.connection import Sender
from assist.web.ingest import Audio, Close, Fail, IngestAdapter, Open, Pause, Resume, Send, Step, serve

log = logging.getLogger(__name__)

SESSION_HEADERS = ("audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id")
CLOSE_WAIT_S = 5.0  # after 'closed', how long the client has to close the socket


class AudioHookAdapter(IngestAdapter):
    platform = "audiohook"
    forwards_events = True  # transcripts (and Agent Assist cards) as AudioHook 'event' messages

    def __init__(self, protocol: ah.AudioHookProtocol, close_flush_s: float) -> None:
        self.protocol = protocol
        self.close_flush_s = close_flush_s  # Genesys allows 10 s for 'closed'; we answer well inside
        self.audio: CallAudio | None = None
        self.language = "en-US"

    def steps(self, received: Mapping[str, Any]) -> list[Step]:
        if received.get("text") is not None:
            actions = self.protocol.receive_text(received["text"])
        else:
            actions = self.protocol.receive_bytes(received.get("bytes") or b"")
        return [step for action in actions for step in self._step(action)]

    def _step(self, action: ah.Action) -> list[Step]:
        if isinstance(action, ah.AudioFrame):
            if self.audio is None:
                return []
            try:
                return [Audio(self.audio.decode(action.data))]
            except AudioFormatError as error:
                info = f"Client Error: {error}"
                return [Fail(info, reply=self.protocol.disconnect("error", info).message)]
        if isinstance(action, ah.Reply):
            return [Send(action.message)] if action.message else []
        if isinstance(action, ah.OpenCall):
            if action.probe:
                return [Send(self.protocol.opened().message)]  # a connection probe: no call
            self.language = action.language
            self.audio = CallAudio(action.format, action.speakers)
            custom = action.custom_config
            meta = CallMetadata(
                platform="audiohook",
                platform_call_id=action.conversation_id,
                caller_number=action.ani,
                agent_id=str(custom.get("agentId") or custom.get("agent_id") or "") or None,
                language=action.language,
            )
            return [Open(meta)]
        if isinstance(action, ah.Paused):
            return [Pause()]
        if isinstance(action, ah.Resumed):
            return [Resume(action.discarded_s)]
        if isinstance(action, ah.CloseRequested):
            return [Close("completed")]
        if isinstance(action, ah.Failed):
            return [Fail(action.info, reply=action.reply.message or None)]
        return []

    async def accepted(self, sender: Sender, session: CallSession) -> None:
        await sender.send(self.protocol.opened().message)

    async def refuse(self, sender: Sender, reason: str) -> bool:
        # AudioHook's way to turn a session down: 'disconnect' in answer to 'open'; the client
        # then sends 'close' and gets 'closed'.
        await sender.send(self.protocol.disconnect("error", reason).message)
        return False

    async def fail(self, sender: Sender, step: Fail) -> bool:
        if step.reply:
            await sender.send(step.reply)
        return False  # after 'disconnect' the client closes the session: answered with 'closed'

    async def acknowledge_close(self, sender: Sender) -> None:
        await sender.send(self.protocol.closed().message)

    def events(self, message: Message) -> list[Message]:
        if not self.protocol.can_send_events:
            return []
        entity = self._entity(message)
        return [self.protocol.message("event", {"entities": [entity]})] if entity is not None else []

    def _entity(self, message: Message) -> dict[str, Any] | None:
        kind = message.get("type")
        if kind in ("interim", "final"):
            return ah.transcript_entity(self.protocol, message, language=self.language)
        if kind == "suggestion" and message.get("agentassist"):
            return {"type": "agentassist", "data": message["agentassist"]}
        return None

    async def after_close(self, websocket: WebSocket) -> None:
        # The client closes the socket after 'closed'; do not hang on one that doesn't.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(websocket.receive(), CLOSE_WAIT_S)

    def shutdown_notice(self) -> Message | None:
        if self.protocol.state in ("active", "paused"):
            return self.protocol.disconnect("completed", "server shutting down").message
        return None


def _authorise(websocket: WebSocket, services: Services) -> str | None:
    """Why the upgrade must be refused (HTTP 401), or None."""
    settings = services.settings
    if not settings.audiohook_api_key:
        return "AudioHook is not enabled on this server (set ASSIST_AUDIOHOOK_API_KEY)"
    api_key = websocket.headers.get("x-api-key", "")
    if not same_secret(settings.audiohook_api_key, api_key):
        return "invalid X-API-KEY"
    if settings.audiohook_client_secret:
        verifier: SignatureVerifier = websocket.app.state.audiohook_verifier
        target = websocket.url.path + (f"?{websocket.url.query}" if websocket.url.query else "")
        host = websocket.headers.get("host", "")
        try:
            verifier.verify(host=host, target=target, headers=dict(websocket.headers))
        except SignatureError as error:
            return f"signature verification failed: {error}"
    return None


async def audiohook_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    refusal = _authorise(websocket, services)
    if refusal is None and not all(ah.is_uuid(websocket.headers.get(h)) for h in SESSION_HEADERS):
        refusal = "Audiohook-Organization-Id, -Session-Id and -Correlation-Id must be UUIDs"
        status = 400
    else:
        status = 401
    if refusal is not None:
        # Anyone can knock: a refused upgrade is worth a line, not an alarm.
        log.info("audiohook: refused upgrade: %s", refusal)
        services.metrics.errors.labels("audiohook_auth").inc()
        await websocket.send_denial_response(PlainTextResponse(refusal, status_code=status))
        return
    await websocket.accept()
    protocol = ah.AudioHookProtocol(
        websocket.headers["audiohook-session-id"], websocket.headers["audiohook-organization-id"]
    )
    await serve(websocket, services, AudioHookAdapter(protocol, services.settings.close_flush_s))
