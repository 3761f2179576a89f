"""Where a node's live events go: to its own viewers, and in a fleet to every other node's.

One interface, two implementations. ``LocalBus`` (the default, one node) is the hub itself.
``RedisBus`` (assist.live.redis_bus) also ships every event to Redis, keeps replicas of the
other nodes' calls in this node's hub, carries requests to the node that owns a call, and
notices a node that has died. Ingest, the call session and the web endpoints see only this
interface, so a single server and a fleet run the same code.

Who does what: the node whose ingest holds a call *owns* it and is the only writer of its
events (``start_call``, ``publish``, ``end_call``). Any node may read any call from its hub and
may ask for something to be done to a call (``request``: a card's feedback, a transfer); the
owner does it, because the owner holds the call's session, its guidance and its call log.
"""

from __future__ import annotations

import abc
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from assist.live.hub import LiveCall, SidebarHub
from assist.messages import Message

log = logging.getLogger(__name__)

# A request for the call's owner ({"kind": "feedback" | "transfer", "call_id": ..., ...}), or a
# broadcast to every node ({"kind": "kb_reload"}): carried out where the call lives.
CommandHandler = Callable[[Message], Awaitable[None]]
# Calls whose owner died: (dead node, call ids). The node that claims them closes their call log.
LostHandler = Callable[[str, list[str]], Awaitable[None]]


class LiveBus(abc.ABC):
    kind = "abstract"

    def __init__(self, hub: SidebarHub, node_id: str) -> None:
        self.hub = hub
        # This process: unique per start, so a restarted node is a new owner and the calls of
        # its previous life are recognised as lost.
        self.instance = f"{node_id}-{uuid.uuid4().hex[:8]}"
        self._commands: CommandHandler | None = None
        self._lost: LostHandler | None = None

    def on_command(self, handler: CommandHandler) -> None:
        self._commands = handler

    def on_node_lost(self, handler: LostHandler) -> None:
        self._lost = handler

    # -- the owner's writes ---------------------------------------------------------------------

    def start_call(self, call: LiveCall) -> None:
        call.node_id = self.instance
        self._ship(call.call_id, self.hub.start_call(call))

    def publish(self, call_id: str, message: Message) -> None:
        sent = self.hub.publish(call_id, message)
        if sent is not None:
            self._ship(call_id, sent)

    def end_call(self, call_id: str, reason: str) -> None:
        sent = self.hub.end_call(call_id, reason)
        if sent is not None:
            self._ship(call_id, sent)

    # -- any node -------------------------------------------------------------------------------

    def owns(self, call: LiveCall) -> bool:
        return call.node_id in (self.instance, "")

    async def request(self, call_id: str, command: Message) -> str | None:
        """Have the call's owner carry out ``command``; returns the owner (None: no such call)."""
        call = self.hub.calls.get(call_id)
        if call is None:
            return None
        command = {**command, "call_id": call_id}
        if self.owns(call):
            await self.run_command(command)
        else:
            self._forward(call.node_id, command)
        return call.node_id

    def tell_others(self, command: Message) -> None:
        """Every other node carries out ``command`` (this one has done its part)."""
        self._broadcast({**command, "from": self.instance})

    async def run_command(self, command: Message) -> None:
        if self._commands is None:
            log.warning("no handler for live command %s", command.get("kind"))
            return
        await self._commands(command)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:  # noqa: B027 - nothing to start on one node
        """Connect and catch up (fleet); called once the event loop runs."""

    async def close(self) -> None:  # noqa: B027
        """Stop background work."""

    def status(self) -> dict[str, Any]:
        return {"kind": self.kind, "instance": self.instance, "calls": len(self.hub.calls)}

    # -- transport ------------------------------------------------------------------------------

    @abc.abstractmethod
    def _ship(self, call_id: str, message: Message) -> None:
        """Send an event of an owned call to the other nodes (never blocks)."""

    @abc.abstractmethod
    def _forward(self, instance: str, command: Message) -> None:
        """Send a request to another node (never blocks)."""

    @abc.abstractmethod
    def _broadcast(self, command: Message) -> None:
        """Send a command to every other node (never blocks)."""


class LocalBus(LiveBus):
    """One node: every call is this node's own, and there is nobody else to tell."""

    kind = "local"

    def _ship(self, call_id: str, message: Message) -> None:
        pass

    def _forward(self, instance: str, command: Message) -> None:
        log.warning("call %s belongs to %s, which this single node cannot reach", command.get("call_id"), instance)

    def _broadcast(self, command: Message) -> None:
        pass
