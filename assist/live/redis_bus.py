"""The live bus of a fleet, on Redis (``ASSIST_REDIS_URL``).

Redis holds:
- ``assist:live``, one stream of everything: each event of each call (its owner numbers them,
  ``seq``), requests for a call's owner, broadcasts. Every node tails it and applies other
  nodes' events to the replicas in its hub, so a sidebar or supervisor on any node sees every
  call, in order. A stream, not pub/sub: a reader that blinks resumes from the last entry it read.
- ``assist:call:<id>``, each live call's history (its ``call_started`` and every event but
  interims): a node that starts, or a viewer that connects, mid-call catches up from it.
- ``assist:calls``, the registry of live calls (call id → owning instance), and
  ``assist:node:<instance>``, each node's heartbeat, a key that expires unless renewed.

When a node stops renewing its heartbeat, the others end its calls as ``interrupted`` within
``dead_after_s`` and tell their viewers; one of them (whoever claims the call first) closes the
call in the call log. When Redis itself goes away, every node carries on with its own calls
(sidebars on the same node still see everything, the call log is not on Redis), and once Redis
is back each node writes its live calls again in full (``resync``): replicas apply what they
missed, in order, and skip what they had.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from assist.live.bus import LiveBus
from assist.live.hub import INTERIM, SidebarHub
from assist.messages import Message

log = logging.getLogger(__name__)

STREAM = "assist:live"
CALLS = "assist:calls"
STREAM_MAXLEN = 100_000  # about ten minutes of a busy fleet; history keys hold the rest
HISTORY_TTL_S = 3600  # an ended call's history stays this long (late viewers, debugging)
CLAIM_TTL_S = 3600
READ_BLOCK_MS = 1000
BATCH_MAX = 500
CLOSE_FLUSH_S = 2.0


def node_key(instance: str) -> str:
    return f"assist:node:{instance}"


def history_key(call_id: str) -> str:
    return f"assist:call:{call_id}"


def _dumps(message: Message) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class RedisBus(LiveBus):
    kind = "redis"

    def __init__(
        self,
        hub: SidebarHub,
        node_id: str,
        url: str,
        *,
        heartbeat_s: float = 1.0,
        dead_after_s: float = 6.0,
        retry_s: float = 0.5,
    ) -> None:
        super().__init__(hub, node_id)
        self.url = url
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = dead_after_s
        self.retry_s = retry_s
        self._redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=READ_BLOCK_MS / 1000 + 3, socket_connect_timeout=2
        )
        # Entries waiting for the writer: ("event", call_id, message) | ("command", to, command)
        # | ("broadcast", "", command). A deque, not a queue: after an outage the entries of calls
        # still live are dropped (a resync carries their whole state) and the rest are kept.
        self._outgoing: deque[tuple[str, str, Message]] = deque()
        self._wake = asyncio.Event()
        self._writing = False
        self._up = asyncio.Event()
        self._up_since = 0.0
        self._recovering: asyncio.Task[None] | None = None
        self._last_id = "0-0"
        self._seen: dict[str, float] = {}  # instance -> monotonic time its heartbeat was last seen
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[None]] = set()  # commands being carried out
        self.outages = 0
        self.resyncs = 0
        self.interrupted = 0

    # -- transport ------------------------------------------------------------------------------

    def _ship(self, call_id: str, message: Message) -> None:
        self._queue(("event", call_id, message))

    def _forward(self, instance: str, command: Message) -> None:
        self._queue(("command", instance, command))

    def _broadcast(self, command: Message) -> None:
        self._queue(("broadcast", "", command))

    def _queue(self, entry: tuple[str, str, Message]) -> None:
        self._outgoing.append(entry)
        self._wake.set()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up on the fleet's live calls, then follow. Never fails: without Redis the node
        serves its own calls and keeps trying."""
        try:
            await self._catch_up()
            await self._heartbeat_once()
            self._mark_up()
        except RedisError as error:
            log.warning("live bus: Redis at %s unreachable (%s); serving this node's calls, retrying", self.url, error)
            self._connection_lost()
        self._tasks = [
            asyncio.create_task(self._write_forever(), name="bus-writer"),
            asyncio.create_task(self._read_forever(), name="bus-reader"),
            asyncio.create_task(self._watch_forever(), name="bus-heartbeat"),
        ]

    async def close(self) -> None:
        # What this node already said (a call's end, above all) still reaches the others.
        deadline = time.monotonic() + CLOSE_FLUSH_S
        while (self._outgoing or self._writing) and self._up.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for task in [*self._tasks, *([self._recovering] if self._recovering else [])]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(RedisError, OSError, RuntimeError):
            if self._up.is_set():
                await self._redis.delete(node_key(self.instance))
        with contextlib.suppress(RedisError, OSError, RuntimeError):
            await self._redis.aclose()

    def status(self) -> dict[str, Any]:
        return {
            **super().status(),
            "connected": self._up.is_set(),
            "nodes_seen": sorted(i for i, t in self._seen.items() if time.monotonic() - t < self.dead_after_s),
            "outages": self.outages,
            "resyncs": self.resyncs,
            "calls_interrupted": self.interrupted,
            "queued": len(self._outgoing),
        }

    # -- connection state -----------------------------------------------------------------------

    def _mark_up(self) -> None:
        self._up_since = time.monotonic()
        # Liveness is judged only on what was observed while connected.
        self._seen = dict.fromkeys(self._seen, self._up_since)
        self._up.set()

    def _connection_lost(self, error: Exception | None = None) -> None:
        if self._up.is_set() or self._recovering is None:
            if error is not None:
                log.warning("live bus: lost Redis (%s); this node's calls go on, other nodes wait", error)
            self.outages += 1
        self._up.clear()
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.create_task(self._recover(), name="bus-recover")

    async def _recover(self) -> None:
        delay_s = self.retry_s
        while True:
            await asyncio.sleep(delay_s)
            try:
                await self._redis.ping()
                await self._resync()
                await self._heartbeat_once()
            except RedisError:
                delay_s = min(delay_s * 2, 5.0)
                continue
            log.info("live bus: Redis is back; this node's live calls written again")
            self._mark_up()
            self._wake.set()
            return

    # -- writing --------------------------------------------------------------------------------

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outgoing and self._up.is_set():
                batch = [self._outgoing.popleft() for _ in range(min(BATCH_MAX, len(self._outgoing)))]
                self._writing = True
                try:
                    await self._write(batch)
                except RedisError as error:
                    self._outgoing.extendleft(reversed(batch))
                    self._drop_covered()
                    self._connection_lost(error)
                finally:
                    self._writing = False

    async def _write(self, batch: list[tuple[str, str, Message]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for kind, target, message in batch:
            fields: dict[str, str] = {"n": self.instance, "k": kind, "m": _dumps(message)}
            if kind == "command":
                fields["to"] = target
            pipe.xadd(STREAM, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
            if kind != "event" or message.get("type") == INTERIM:
                continue
            history = history_key(target)
            pipe.rpush(history, fields["m"])
            if message.get("type") == "call_started":
                pipe.hset(CALLS, target, self.instance)
            elif message.get("type") == "call_ended":
                pipe.hdel(CALLS, target)
                pipe.expire(history, HISTORY_TTL_S)
        await pipe.execute()

    def _drop_covered(self) -> None:
        """After a failed write: events of calls still live will be resent whole by the resync;
        the rest (ended calls, requests) stay queued, in order."""
        live = {call_id for call_id, call in self.hub.calls.items() if self.owns(call)}
        kept = [entry for entry in self._outgoing if not (entry[0] == "event" and entry[1] in live)]
        self._outgoing = deque(kept)

    async def _resync(self) -> None:
        """Write every live call this node owns again, whole: after an outage (Redis may have
        restarted empty), replicas apply what they missed and skip what they had."""
        pipe = self._redis.pipeline(transaction=False)
        own = [call for call in self.hub.calls.values() if self.owns(call)]
        for call in own:
            history = [call.summary(), *call.history]
            pipe.delete(history_key(call.call_id))
            pipe.rpush(history_key(call.call_id), *[_dumps(m) for m in history])
            pipe.hset(CALLS, call.call_id, self.instance)
            snapshot = {"call_id": call.call_id, "messages": call.snapshot()}
            fields = {"n": self.instance, "k": "resync", "m": _dumps(snapshot)}
            pipe.xadd(STREAM, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
        await pipe.execute()
        self.resyncs += 1

    # -- reading --------------------------------------------------------------------------------

    async def _catch_up(self) -> None:
        """The fleet's live calls as they stand: the stream's position first, then each call's
        history, so nothing published in between is missed (seq drops what comes twice)."""
        latest: Any = await self._redis.xrevrange(STREAM, count=1)
        self._last_id = str(latest[0][0]) if latest else "0-0"
        registry: dict[str, str] = await self._redis.hgetall(CALLS)  # type: ignore[misc,assignment]
        now = time.monotonic()
        for call_id, owner in registry.items():
            for raw in await self._redis.lrange(history_key(call_id), 0, -1):  # type: ignore[misc]
                self.hub.apply(json.loads(raw))
            self._seen.setdefault(owner, now)

    async def _read_forever(self) -> None:
        while True:
            await self._up.wait()
            try:
                response: Any = await self._redis.xread({STREAM: self._last_id}, block=READ_BLOCK_MS, count=1000)
            except RedisError as error:
                self._connection_lost(error)
                continue
            for _stream, entries in response or []:
                for entry_id, fields in entries:
                    self._last_id = entry_id
                    if fields.get("n") != self.instance:
                        self._receive(fields)

    def _receive(self, fields: dict[str, str]) -> None:
        try:
            kind, message = fields.get("k"), json.loads(fields.get("m") or "{}")
        except json.JSONDecodeError:
            log.warning("live bus: unreadable entry from %s", fields.get("n"))
            return
        self._seen[str(fields.get("n"))] = time.monotonic()  # it wrote, so it is alive
        if kind == "event":
            self.hub.apply(message)
        elif kind == "resync":
            for item in message.get("messages", []):
                self.hub.apply(item)
        elif (kind == "command" and fields.get("to") == self.instance) or kind == "broadcast":
            task = asyncio.create_task(self._run_safely(message))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_safely(self, command: Message) -> None:
        try:
            await self.run_command(command)
        except Exception:
            log.exception("live command %s failed", command.get("kind"))

    # -- liveness -------------------------------------------------------------------------------

    async def _heartbeat_once(self) -> None:
        status = {"active_calls": sum(1 for c in self.hub.calls.values() if self.owns(c)), "at": time.time()}
        await self._redis.set(node_key(self.instance), _dumps(status), ex=max(2, int(self.dead_after_s - 1)))

    async def _watch_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if not self._up.is_set():
                continue
            try:
                await self._heartbeat_once()
                await self._find_dead_nodes()
            except RedisError as error:
                self._connection_lost(error)

    async def _find_dead_nodes(self) -> None:
        owners = sorted({c.node_id for c in self.hub.calls.values() if not self.owns(c)})
        if not owners:
            return
        alive = await self._redis.mget([node_key(o) for o in owners])
        now = time.monotonic()
        for owner, beat in zip(owners, alive, strict=True):
            if beat is not None:
                self._seen[owner] = now
                continue
            seen = self._seen.setdefault(owner, now)
            if now - max(seen, self._up_since) > self.dead_after_s:
                await self._interrupt(owner)

    async def _interrupt(self, owner: str) -> None:
        """``owner`` stopped: its calls end here as interrupted; the node that claims a call
        first closes it in the call log (every node tells its own viewers)."""
        calls = [c.call_id for c in self.hub.calls.values() if c.node_id == owner]
        claimed = []
        for call_id in calls:
            if await self._redis.set(f"assist:interrupted:{call_id}", self.instance, nx=True, ex=CLAIM_TTL_S):
                claimed.append(call_id)
                pipe = self._redis.pipeline(transaction=False)
                pipe.hdel(CALLS, call_id)
                pipe.expire(history_key(call_id), HISTORY_TTL_S)
                await pipe.execute()
            self.hub.end_call(call_id, "interrupted", by_node=self.instance)
        self._seen.pop(owner, None)
        self.interrupted += len(calls)
        log.warning("live bus: node %s stopped; %d of its call(s) ended as interrupted", owner, len(calls))
        if claimed and self._lost is not None:
            try:
                await self._lost(owner, claimed)
            except Exception:
                log.exception("closing the call log of %s's calls failed", owner)
