"""Helpers shared by every websocket handler: serialised sends and outbox forwarding."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from assist.live.hub import Outbox
from assist.messages import Message
from assist.services import Services
from assist.web.auth import bearer, ingest_allowed

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013


MAX_CLOSE_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, 2 of them the code


def close_reason(reason: str) -> str:
    """The reason cut to fit a close frame in UTF-8 bytes, not characters: a reason that quotes
    a client's non-ASCII input would otherwise break the close itself."""
    return reason.encode("utf-8", "replace")[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


class Sender:
    """One writer per websocket: messages from several tasks never interleave mid-frame."""

    def __init__(self, websocket: WebSocket, timeout_s: float) -> None:
        self.websocket = websocket
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self.closed = False

    async def send(self, message: Message) -> bool:
        if self.closed or self.websocket.client_state != WebSocketState.CONNECTED:
            return False
        try:
            async with self._lock:
                await asyncio.wait_for(
                    self.websocket.send_text(json.dumps(message, ensure_ascii=False)), self.timeout_s
                )
            return True
        except (TimeoutError, RuntimeError, OSError, WebSocketDisconnect) as error:
            # A client that has gone (or stalled past the timeout) is an ordinary end.
            log.info("send failed (%s); dropping the connection", error.__class__.__name__)
            self.closed = True
            return False

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        if self.closed and self.websocket.client_state != WebSocketState.CONNECTED:
            return
        self.closed = True
        try:
            async with self._lock:
                if self.websocket.client_state == WebSocketState.CONNECTED:
                    await self.websocket.close(code, close_reason(reason))
        except (RuntimeError, OSError, WebSocketDisconnect):
            pass


async def forward(
    outbox: Outbox,
    sender: Sender,
    *,
    transform: Callable[[Message], list[Message]] | None = None,
) -> bool:
    """Send everything the outbox receives; returns False if the outbox overflowed."""
    while True:
        message = await outbox.get()
        if message is None:
            return False
        outgoing = transform(message) if transform else [message]
        for item in outgoing:
            if not await sender.send(item):
                return True


async def accept_ingest(websocket: WebSocket) -> Services | None:
    """Check the ingest token and accept; None when the connection was refused."""
    services: Services = websocket.app.state.services
    if not ingest_allowed(services.settings, bearer(websocket.headers)):
        await websocket.close(CLOSE_POLICY, "invalid or missing ingest token")
        return None
    await websocket.accept()
    return services
