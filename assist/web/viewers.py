"""``/ws/sidebar`` (an agent's own calls) and ``/ws/supervisor`` (all calls, or one followed live)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.websockets import WebSocket

from assist.access.tokens import Principal
from assist.calls.desk import MAX_COACHING_CHARS
from assist.calls.session import check_feedback
from assist.live.hub import Outbox
from assist.messages import error_message
from assist.services import Services
from assist.web.auth import is_role, origin_allowed, websocket_principal
from assist.web.connection import CLOSE_POLICY, CLOSE_TRY_AGAIN, Sender, forward

log = logging.getLogger(__name__)


async def sidebar_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    agent_id = websocket.query_params.get("agent")
    if not origin_allowed(services.settings, websocket.headers):
        await websocket.close(CLOSE_POLICY, "origin not allowed")
        return
    principal = websocket_principal(services.access, websocket.headers, websocket.query_params)
    if principal is None or not principal.is_agent(agent_id):
        await websocket.close(CLOSE_POLICY, "invalid agent, ticket or token")
        return
    assert agent_id is not None
    await websocket.accept()
    outbox = services.hub.subscribe_agent(agent_id)
    await _serve(websocket, services, outbox, principal, agent_id=agent_id)


async def supervisor_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    if not origin_allowed(services.settings, websocket.headers):
        await websocket.close(CLOSE_POLICY, "origin not allowed")
        return
    principal = websocket_principal(services.access, websocket.headers, websocket.query_params)
    if principal is None or not is_role(principal, "supervisor"):
        await websocket.close(CLOSE_POLICY, "invalid supervisor ticket or token")
        return
    await websocket.accept()
    call_id = websocket.query_params.get("call")
    outbox = services.hub.subscribe_call(call_id) if call_id else services.hub.subscribe_overview()
    if outbox is None:
        sender = Sender(websocket, services.settings.sidebar_send_timeout_s)
        await sender.send(error_message(f"no live call {call_id}", fatal=True))
        await sender.close(1000, "call not live")
        return
    await _serve(websocket, services, outbox, principal, agent_id=None)


async def _serve(
    websocket: WebSocket, services: Services, outbox: Outbox, principal: Principal, *, agent_id: str | None
) -> None:
    sender = Sender(websocket, services.settings.sidebar_send_timeout_s)
    forwarder = asyncio.create_task(forward(outbox, sender))
    reader = asyncio.create_task(_read(websocket, services, sender, agent_id))
    # An open page loses its view when its token expires, is revoked or rotated away.
    expiry = asyncio.create_task(services.access.wait_until_invalid(principal))
    try:
        done, _ = await asyncio.wait({forwarder, reader, expiry}, return_when=asyncio.FIRST_COMPLETED)
        if forwarder in done and forwarder.result() is False:
            services.metrics.sidebar_overflows.inc()
            await sender.close(CLOSE_TRY_AGAIN, "too slow to keep up; reconnect to resume")
        elif expiry in done:
            await sender.close(CLOSE_POLICY, "token expired or revoked; sign in again")
    finally:
        services.hub.unsubscribe(outbox)
        for task in (forwarder, reader, expiry):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await sender.close()


async def _read(websocket: WebSocket, services: Services, sender: Sender, agent_id: str | None) -> None:
    """Messages from the page: feedback on cards, pings. Bad input gets an error, not a hang-up."""
    while True:
        received = await websocket.receive()
        if received["type"] == "websocket.disconnect":
            return
        try:
            data = json.loads(received.get("text") or "")
            kind = data["type"]
        except (json.JSONDecodeError, KeyError, TypeError):
            await sender.send(error_message("expected a JSON object with a 'type'"))
            continue
        if kind == "ping":
            await sender.send({"type": "pong"})
        elif kind == "coaching" and agent_id is None:  # supervisors only
            call_id, text = str(data.get("call_id")), data.get("text")
            if services.hub.calls.get(call_id) is None:
                await sender.send(error_message(f"no live call {call_id}", call_id=call_id))
            elif not isinstance(text, str) or not text.strip() or len(text) > MAX_COACHING_CHARS:
                await sender.send(error_message(f"a message is 1-{MAX_COACHING_CHARS} characters", call_id=call_id))
            else:
                await services.live.request(call_id, {"kind": "coaching", "text": text.strip(), "sender": "supervisor"})
        elif kind == "feedback":
            call_id, card_id, action = data.get("call_id"), data.get("card_id"), data.get("action")
            call = services.hub.calls.get(str(call_id))
            if call is None or (agent_id is not None and call.agent_id != agent_id):
                await sender.send(error_message(f"no live call {call_id} for you", call_id=str(call_id)))
                continue
            try:
                check_feedback(str(action))
            except ValueError as error:
                await sender.send(error_message(str(error), call_id=call.call_id))
                continue
            # Carried out by the node that owns the call (this one, or another in a fleet).
            source = "sidebar" if agent_id else "supervisor"
            await services.live.request(
                call.call_id, {"kind": "feedback", "card_id": str(card_id), "action": str(action), "source": source}
            )
        else:
            await sender.send(error_message(f"unknown message type {kind!r}"))
