"""``/audiohook``: Genesys Cloud AudioHook v2 (assist.ingest.audiohook) over a websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketState

from assist.audio.frontend import CallAudio
from assist.calls.session import CallMetadata, CallSession, CapacityError
from assist.errors import AudioFormatError
from assist.ingest import audiohook as ah
from assist.ingest.signature import SignatureError, SignatureVerifier
from assist.messages import Message
from assist.services import Services
from assist.web.auth import same_secret
from assist.web.hub import Outbox

log = logging.getLogger(__name__)

SESSION_HEADERS = ("audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id")
CLOSE_WAIT_S = 5.0  # after 'closed' or 'disconnect', how long the client has to close the socket


class AudioHookConnection:
    """The async shell around one AudioHookProtocol: one writer, seq assigned at send time."""

    def __init__(self, websocket: WebSocket, services: Services, protocol: ah.AudioHookProtocol) -> None:
        self.websocket = websocket
        self.services = services
        self.protocol = protocol
        self._lock = asyncio.Lock()
        self.session: CallSession | None = None
        self.audio: CallAudio | None = None
        self.language = "en-US"
        self.forwarder: asyncio.Task[None] | None = None

    async def send(self, kind: str, parameters: dict[str, Any] | None = None) -> None:
        async with self._lock:
            await self._send_now(self.protocol.message(kind, parameters))

    async def send_reply(self, reply: ah.Reply) -> None:
        if reply.message:
            async with self._lock:
                await self._send_now(reply.message)

    async def _send_now(self, message: dict[str, Any]) -> None:
        if self.websocket.client_state != WebSocketState.CONNECTED:
            return
        text = json.dumps(message, ensure_ascii=False)
        with contextlib.suppress(RuntimeError, OSError):
            await asyncio.wait_for(self.websocket.send_text(text), self.services.settings.sidebar_send_timeout_s)

    async def forward_events(self, outbox: Outbox) -> None:
        """The call's transcripts (and, later, guidance) as AudioHook ``event`` messages."""
        while (message := await outbox.get()) is not None:
            if message.get("type") == "call_ended":
                return
            entity = self.entity(message)
            if entity is not None and self.protocol.can_send_events:
                await self.send("event", {"entities": [entity]})

    def entity(self, message: Message) -> dict[str, Any] | None:
        kind = message.get("type")
        if kind in ("interim", "final"):
            return ah.transcript_entity(self.protocol, message, language=self.language)
        if kind == "suggestion" and message.get("agentassist"):
            return {"type": "agentassist", "data": message["agentassist"]}
        return None

    async def end_call(self, reason: str) -> None:
        if self.session is not None and not self.session.ended:
            await self.session.end(reason)
        if self.forwarder is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self.forwarder, timeout=5.0)


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
        log.warning("audiohook: refused upgrade: %s", refusal)
        services.metrics.errors.labels("audiohook_auth").inc()
        await websocket.send_denial_response(PlainTextResponse(refusal, status_code=status))
        return
    await websocket.accept()
    protocol = ah.AudioHookProtocol(
        websocket.headers["audiohook-session-id"], websocket.headers["audiohook-organization-id"]
    )
    conn = AudioHookConnection(websocket, services, protocol)
    reason = "disconnected"
    try:
        while protocol.state != "closed":
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                break
            if received.get("text") is not None:
                actions = protocol.receive_text(received["text"])
            else:
                actions = protocol.receive_bytes(received.get("bytes") or b"")
            for action in actions:
                reason = await _handle(conn, action) or reason
        if protocol.state == "closed":
            # The client closes the socket after 'closed'; do not hang on one that doesn't.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(websocket.receive(), CLOSE_WAIT_S)
    finally:
        await conn.end_call(reason)
        if websocket.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close(1000)


async def _handle(conn: AudioHookConnection, action: ah.Action) -> str | None:
    """Carry out one action; returns a call-end reason when the action implies one."""
    services = conn.services
    if isinstance(action, ah.Reply):
        await conn.send_reply(action)
    elif isinstance(action, ah.OpenCall):
        if action.probe:
            return None  # a connection probe: 'opened' was enough, nothing to set up
        conn.language = action.language
        custom = action.custom_config
        try:
            conn.session = await CallSession.open(
                services,
                CallMetadata(
                    platform="audiohook",
                    platform_call_id=action.conversation_id,
                    caller_number=action.ani,
                    agent_id=str(custom.get("agentId") or custom.get("agent_id") or "") or None,
                    language=action.language,
                ),
            )
        except CapacityError as error:
            await conn.send_reply(conn.protocol.disconnect("error", str(error)))
            return "capacity"
        conn.audio = CallAudio(action.format, action.speakers)

        async def on_shutdown() -> None:
            # Deliver every final as an event, then tell Genesys in AudioHook's own terms.
            await conn.end_call("server_shutdown")
            if conn.protocol.state in ("active", "paused"):
                await conn.send_reply(conn.protocol.disconnect("completed", "server shutting down"))

        conn.session.on_shutdown = on_shutdown
        outbox = conn.session.subscribe()
        if outbox is not None:
            conn.forwarder = asyncio.create_task(conn.forward_events(outbox))
    elif isinstance(action, ah.AudioFrame):
        if conn.session is not None and conn.audio is not None:
            try:
                decoded = conn.audio.decode(action.data)
            except AudioFormatError as error:
                await conn.send_reply(conn.protocol.disconnect("error", f"Client Error: {error}"))
                await conn.end_call("protocol_error")
                return "protocol_error"
            for speaker, samples in decoded.items():
                await conn.session.push(speaker, samples)
    elif isinstance(action, ah.Paused):
        if conn.session is not None:
            await conn.session.pause()
    elif isinstance(action, ah.Resumed):
        if conn.session is not None:
            conn.session.resume(action.discarded_s)
    elif isinstance(action, ah.CloseRequested):
        # Deliver every final as an event first, then 'closed' (well inside the 10 s allowed).
        await conn.end_call("completed")
        await conn.send_reply(conn.protocol.closed())
        return "completed"
    elif isinstance(action, ah.Failed):
        log.warning("audiohook: %s", action.info)
        services.metrics.errors.labels("protocol").inc()
        await conn.send_reply(action.reply)
        await conn.end_call("protocol_error")
        return "protocol_error"
    return None
