"""Fan-out of live call events to sidebars and supervisors, with a bounded outbox per connection.

The hub is one node's view of every live call: the calls it owns (it numbers their events,
``seq``) and, in a fleet, replicas of other nodes' calls that the bus (assist.live.bus) feeds
through ``apply``; a replica applies each event once, in ``seq`` order, whatever the transport
delivered twice.

A slow or stalled desktop must never slow a call: publishing only appends to outboxes. Each
outbox holds at most ``maxsize`` messages; queued interims of the same speaker are coalesced
(only the newest matters), the oldest interim is dropped when full, and if the outbox is full of
finals the connection is closed: on reconnect it receives the whole call so far (the history
every live call keeps), so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from assist.messages import Message

log = logging.getLogger(__name__)

INTERIM = "interim"


@dataclass
class LiveCall:
    call_id: str
    agent_id: str
    platform: str
    platform_call_id: str
    caller_number: str | None
    language: str
    node_id: str = ""  # the node whose ingest owns the call
    started_at: float = field(default_factory=time.time)
    caller: dict[str, Any] = field(default_factory=dict)  # profile summary, when known
    history: list[Message] = field(default_factory=list)  # every event but interims, in order
    interims: dict[str, Message] = field(default_factory=dict)  # newest interim per speaker
    alerts: list[Message] = field(default_factory=list)
    feedback: list[Message] = field(default_factory=list)
    mood: Message | None = None  # the latest: the customer's sentiment trend and the topic
    ended: bool = False
    seq: int = 0  # the last event applied (the owner numbers them; call_started is 0)

    @classmethod
    def from_summary(cls, message: Message) -> LiveCall:
        """A replica of another node's call, from its ``call_started``."""
        return cls(
            call_id=str(message["call_id"]),
            agent_id=str(message.get("agent_id") or "unassigned"),
            platform=str(message.get("platform") or ""),
            platform_call_id=str(message.get("platform_call_id") or ""),
            caller_number=message.get("caller_number"),
            language=str(message.get("language") or "en"),
            node_id=str(message.get("node_id") or ""),
            started_at=float(message.get("started_at") or time.time()),
            caller=dict(message.get("caller") or {}),
        )

    def summary(self) -> Message:
        return {
            "type": "call_started",
            "seq": 0,
            "node_id": self.node_id,
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "platform": self.platform,
            "platform_call_id": self.platform_call_id,
            "caller_number": self.caller_number,
            "caller": self.caller,
            "language": self.language,
            "started_at": self.started_at,
        }

    def snapshot(self) -> list[Message]:
        """Everything a fresh subscriber needs to show this call as if it had been there."""
        return [self.summary(), *self.history, *self.interims.values()]


class _Entry:
    __slots__ = ("message",)

    def __init__(self, message: Message) -> None:
        self.message = message


class Outbox:
    """The bounded queue of one connection. ``offer`` never blocks."""

    def __init__(self, maxsize: int, name: str = "") -> None:
        self.maxsize = maxsize
        self.name = name
        self._backlog: deque[Message] = deque()  # catch-up snapshot: outside the bound
        self._entries: deque[_Entry] = deque()
        self._interims: dict[tuple[str, str], _Entry] = {}
        self._ready = asyncio.Event()
        self.overflowed = False
        self.dropped_interims = 0

    def __len__(self) -> int:
        return len(self._backlog) + len(self._entries)

    def preload(self, messages: list[Message]) -> None:
        """The call so far, for a (re)connecting viewer. However long the call, a snapshot never
        overflows the outbox: the bound is for live messages a slow reader falls behind on."""
        self._backlog.extend(messages)
        if messages:
            self._ready.set()

    def offer(self, message: Message) -> bool:
        """Queue a message; False once the outbox has overflowed (the connection must close)."""
        if self.overflowed:
            return False
        if message.get("type") == INTERIM:
            key = (str(message.get("call_id")), str(message.get("speaker")))
            queued = self._interims.get(key)
            if queued is not None:
                queued.message = message  # coalesce: the newest interim replaces the queued one
                self.dropped_interims += 1
                return True
        else:
            # A final supersedes its speaker's queued interim.
            key = (str(message.get("call_id")), str(message.get("speaker")))
            if message.get("type") == "final" and key in self._interims:
                self._entries.remove(self._interims.pop(key))
                self.dropped_interims += 1
        if len(self._entries) >= self.maxsize and not self._drop_oldest_interim():
            self.overflowed = True
            self._ready.set()
            return False
        entry = _Entry(message)
        self._entries.append(entry)
        if message.get("type") == INTERIM:
            self._interims[(str(message.get("call_id")), str(message.get("speaker")))] = entry
        self._ready.set()
        return True

    def _drop_oldest_interim(self) -> bool:
        for entry in self._entries:
            if entry.message.get("type") == INTERIM:
                self._entries.remove(entry)
                key = (str(entry.message.get("call_id")), str(entry.message.get("speaker")))
                self._interims.pop(key, None)
                self.dropped_interims += 1
                return True
        return False

    async def get(self) -> Message | None:
        """The next message, or None once the outbox has overflowed."""
        while not self._entries and not self._backlog:
            if self.overflowed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        if self._backlog:
            return self._backlog.popleft()
        entry = self._entries.popleft()
        if entry.message.get("type") == INTERIM:
            key = (str(entry.message.get("call_id")), str(entry.message.get("speaker")))
            if self._interims.get(key) is entry:
                del self._interims[key]
        return entry.message


class SidebarHub:
    """Live calls and who watches them: agents their own calls, supervisors any call."""

    def __init__(self, outbox_size: int = 256) -> None:
        self.outbox_size = outbox_size
        self.calls: dict[str, LiveCall] = {}
        self._by_agent: dict[str, set[Outbox]] = {}
        self._by_call: dict[str, set[Outbox]] = {}
        self._overview: set[Outbox] = set()
        self.overflows = 0
        self._coalesced_closed = 0  # interims coalesced in outboxes already unsubscribed

    def _groups(self) -> list[set[Outbox]]:
        return [*self._by_agent.values(), *self._by_call.values(), self._overview]

    @property
    def interims_coalesced(self) -> int:
        """Interims some sidebar never saw because a newer one (or the final) replaced them."""
        live = set().union(*self._groups())
        return self._coalesced_closed + sum(o.dropped_interims for o in live)

    # -- calls ------------------------------------------------------------------------------------

    def start_call(self, call: LiveCall) -> Message:
        """A call this node owns (or a replica's ``call_started``): announced to its agent and
        the overview. Returns the announcement."""
        self.calls[call.call_id] = call
        summary = call.summary()
        self._send(self._by_agent.get(call.agent_id, set()), summary)
        self._send(self._overview, summary)
        return summary

    def end_call(self, call_id: str, reason: str, *, by_node: str | None = None) -> Message | None:
        """The owner ends its call (or, for a node that died, a survivor: ``by_node``)."""
        call = self.calls.get(call_id)
        if call is None:
            return None
        message: Message = {"type": "call_ended", "call_id": call_id, "reason": reason, "ended_at": time.time()}
        if by_node is not None:
            message["by_node"] = by_node
        return self.publish(call_id, message)

    def publish(self, call_id: str, message: Message) -> Message | None:
        """An event of a call this node owns: numbered, applied, fanned out. Returns it as
        sent (None for an unknown call)."""
        call = self.calls.get(call_id)
        if call is None:
            return None
        # Wall-clock time of publication: with the client's receive time it gives the push latency.
        message.setdefault("published_at", round(time.time(), 4))
        message["seq"] = call.seq + 1
        self._apply_to(call, message)
        return message

    def apply(self, message: Message) -> bool:
        """An event of another node's call, as the bus delivered it: applied once, in order.
        False when it was already applied (or belongs to a call this node no longer knows)."""
        call_id = str(message.get("call_id"))
        call = self.calls.get(call_id)
        if message.get("type") == "call_started":
            if call is not None:
                return False
            self.start_call(LiveCall.from_summary(message))
            return True
        if call is None or int(message.get("seq") or 0) <= call.seq:
            return False
        self._apply_to(call, message)
        return True

    def _apply_to(self, call: LiveCall, message: Message) -> None:
        call.seq = int(message["seq"])
        kind = message.get("type")
        speaker = str(message.get("speaker", ""))
        if kind == INTERIM:
            call.interims[speaker] = message
        else:
            if kind == "final":
                call.interims.pop(speaker, None)
            if kind != "call_ended":
                call.history.append(message)
            if kind == "signal":
                call.alerts.append(message)
                self._send(self._overview, message)
            if kind == "mood":
                call.mood = message
                self._send(self._overview, message)
            if kind == "feedback":
                call.feedback.append(message)
        self._send(self._by_agent.get(call.agent_id, set()) | self._by_call.get(call.call_id, set()), message)
        if kind == "transferred" and message.get("to_agent_id"):
            self._reassign(call, str(message["to_agent_id"]))
        elif kind == "call_ended":
            call.ended = True
            self._send(self._overview, message)
            del self.calls[call.call_id]
            self._by_call.pop(call.call_id, None)

    def _reassign(self, call: LiveCall, agent_id: str) -> None:
        """A transfer: the call moves to another agent's sidebar, with everything so far."""
        if call.agent_id == agent_id:
            return
        call.agent_id = agent_id
        for outbox in self._by_agent.get(agent_id, set()):
            outbox.preload(call.snapshot())

    def _send(self, outboxes: set[Outbox], message: Message) -> None:
        for outbox in outboxes:
            if not outbox.offer(message):
                self.overflows += 1
                log.warning("outbox %s overflowed; closing it (the client reconnects)", outbox.name)
                self.unsubscribe(outbox)  # once is enough: its connection is being closed

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe_agent(self, agent_id: str) -> Outbox:
        outbox = Outbox(self.outbox_size, f"agent:{agent_id}")
        for call in self.calls.values():
            if call.agent_id == agent_id:
                outbox.preload(call.snapshot())
        self._by_agent.setdefault(agent_id, set()).add(outbox)
        return outbox

    def subscribe_call(self, call_id: str) -> Outbox | None:
        call = self.calls.get(call_id)
        if call is None:
            return None
        outbox = Outbox(self.outbox_size, f"call:{call_id}")
        outbox.preload(call.snapshot())
        self._by_call.setdefault(call_id, set()).add(outbox)
        return outbox

    def subscribe_overview(self) -> Outbox:
        outbox = Outbox(self.outbox_size, "overview")
        for call in self.calls.values():
            outbox.preload([call.summary(), *call.alerts[-3:], *([call.mood] if call.mood else [])])
        self._overview.add(outbox)
        return outbox

    def unsubscribe(self, outbox: Outbox) -> None:
        subscribed = False
        for group in self._groups():
            subscribed |= outbox in group
            group.discard(outbox)
        if subscribed:
            self._coalesced_closed += outbox.dropped_interims

    def live_calls(self) -> list[Message]:
        now = time.time()
        return [
            {
                **call.summary(),
                "duration_s": round(now - call.started_at, 1),
                "latest_alerts": call.alerts[-3:],
                "mood": call.mood,
            }
            for call in self.calls.values()
        ]
