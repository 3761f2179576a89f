"""The Redis live bus against a real redis-server (started here on a free port): replicas on
other nodes, requests to the owner, broadcasts, catching up mid-call, a dead node's calls, and a
Redis restart mid-call. Several buses in one process stand for several nodes."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assist.live.hub import LiveCall, SidebarHub
from assist.live.redis_bus import RedisBus
from assist.messages import Message

WAIT_S = 15.0  # generous bound for anything crossing Redis; never a timing assertion

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="make system-deps installs redis-server")


class RedisServer:
    def __init__(self, directory: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


async def until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def node(server: RedisServer, name: str, **options: float) -> RedisBus:
    bus = RedisBus(SidebarHub(), name, server.url, **options)
    await bus.start()
    return bus


def new_call(call_id: str, agent: str = "a1") -> LiveCall:
    return LiveCall(call_id, agent, "native", f"p-{call_id}", None, "en")


def final(call_id: str, text: str, utterance: int) -> Message:
    return {"type": "final", "call_id": call_id, "speaker": "customer", "utterance_id": utterance, "text": text}


def texts(messages: list[Message]) -> list[str]:
    return [m.get("text", m["type"]) for m in messages]


async def test_events_reach_the_other_nodes_in_order(redis_server: RedisServer) -> None:
    a, b = await node(redis_server, "a"), await node(redis_server, "b")
    try:
        viewer = b.hub.subscribe_agent("a1")
        a.start_call(new_call("c1"))
        for index in range(5):
            a.publish("c1", final("c1", f"sentence {index}", index))
        await until(lambda: "c1" in b.hub.calls and b.hub.calls["c1"].seq == 5, "the replica on b")
        got = [await asyncio.wait_for(viewer.get(), WAIT_S) for _ in range(6)]
        assert texts([m for m in got if m]) == ["call_started", *[f"sentence {i}" for i in range(5)]]
        assert b.hub.calls["c1"].node_id == a.instance  # b knows who owns it
        a.end_call("c1", "completed")
        await until(lambda: "c1" not in b.hub.calls, "the end of the call on b")
    finally:
        await a.close()
        await b.close()


async def test_requests_go_to_the_owner_and_broadcasts_to_everyone(redis_server: RedisServer) -> None:
    a, b = await node(redis_server, "a"), await node(redis_server, "b")
    received: dict[str, list[Message]] = {"a": [], "b": []}

    async def on_a(command: Message) -> None:
        received["a"].append(command)

    async def on_b(command: Message) -> None:
        received["b"].append(command)

    a.on_command(on_a)
    b.on_command(on_b)
    try:
        a.start_call(new_call("c2"))
        await until(lambda: "c2" in b.hub.calls, "the replica on b")
        owner = await b.request("c2", {"kind": "feedback", "card_id": "k", "action": "used"})
        assert owner == a.instance
        await until(lambda: received["a"], "the request at the owner")
        assert received["a"][0] == {"kind": "feedback", "card_id": "k", "action": "used", "call_id": "c2"}
        assert received["b"] == []  # carried out where the call lives, nowhere else
        b.tell_others({"kind": "kb_reload"})
        await until(lambda: len(received["a"]) == 2, "the broadcast at a")
        assert received["a"][1]["kind"] == "kb_reload" and received["a"][1]["from"] == b.instance
        a.end_call("c2", "completed")
    finally:
        await a.close()
        await b.close()


async def test_a_node_that_starts_mid_call_catches_up(redis_server: RedisServer) -> None:
    a = await node(redis_server, "a")
    try:
        a.start_call(new_call("c3"))
        a.publish("c3", final("c3", "before", 1))
        a.publish("c3", {"type": "interim", "call_id": "c3", "speaker": "agent", "utterance_id": 1, "text": "hm"})
        await until(lambda: not a._outgoing, "a's writes")
        late = await node(redis_server, "late")
        try:
            assert texts(late.hub.calls["c3"].history) == ["before"]
            a.publish("c3", final("c3", "after", 2))
            await until(lambda: late.hub.calls["c3"].seq == 3, "the next event on the late node")
            assert texts(late.hub.calls["c3"].history) == ["before", "after"]
        finally:
            await late.close()
        a.end_call("c3", "completed")
    finally:
        await a.close()


async def test_a_dead_node_s_calls_are_ended_as_interrupted_by_the_others(redis_server: RedisServer) -> None:
    options = {"heartbeat_s": 0.2, "dead_after_s": 1.5}
    doomed, b, c = [await node(redis_server, name, **options) for name in ("doomed", "b", "c")]
    lost: list[tuple[str, list[str]]] = []

    async def on_lost(instance: str, call_ids: list[str]) -> None:
        lost.append((instance, call_ids))

    b.on_node_lost(on_lost)
    c.on_node_lost(on_lost)
    try:
        viewer = b.hub.subscribe_agent("a9")
        doomed.start_call(new_call("c4", "a9"))
        doomed.publish("c4", final("c4", "hello", 1))
        await until(lambda: "c4" in b.hub.calls and "c4" in c.hub.calls, "the replicas")
        for task in doomed._tasks:  # the process dies: no more heartbeats, nothing cleaned up
            task.cancel()
        await until(lambda: "c4" not in b.hub.calls and "c4" not in c.hub.calls, "the call ended everywhere")
        seen = []
        while len(viewer):
            message = await viewer.get()
            assert message is not None
            seen.append(message)
        assert seen[-1]["type"] == "call_ended" and seen[-1]["reason"] == "interrupted"
        await until(lambda: lost, "the call log closed by one survivor")
        assert lost == [(doomed.instance, ["c4"])]  # claimed once, by one node
    finally:
        for bus in (b, c):
            await bus.close()


async def test_a_redis_restart_mid_call_loses_nothing(redis_server: RedisServer) -> None:
    a, b = await node(redis_server, "a", retry_s=0.1), await node(redis_server, "b", retry_s=0.1)
    try:
        a.start_call(new_call("c5"))
        a.publish("c5", final("c5", "one", 1))
        await until(lambda: "c5" in b.hub.calls and b.hub.calls["c5"].seq == 1, "the replica")
        redis_server.stop()
        a.publish("c5", final("c5", "two", 2))  # while Redis is away
        await until(lambda: not a.status()["connected"], "a noticing the outage")
        a.publish("c5", final("c5", "three", 3))
        redis_server.start()  # back, empty
        await until(lambda: "c5" in b.hub.calls and b.hub.calls["c5"].seq == 3, "b catching up")
        assert texts(b.hub.calls["c5"].history) == ["one", "two", "three"]
        a.publish("c5", final("c5", "four", 4))
        await until(lambda: b.hub.calls["c5"].seq == 4, "events after the restart")
        a.end_call("c5", "completed")
        await until(lambda: "c5" not in b.hub.calls, "the end of the call on b")
    finally:
        await a.close()
        await b.close()
