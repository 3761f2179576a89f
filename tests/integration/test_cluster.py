"""A fleet for real: Redis, PostgreSQL, three nodes and HAProxy in front (scripts/cluster.py).

A call enters through the load balancer; its agent's sidebar and a supervisor on the other
nodes see every event in order; a knowledge-base reload reaches every node; a Redis restart
mid-call loses no final; a node killed mid-call has its call ended as interrupted by the others,
whose own calls go on untouched. No timing assertions: every wait is on an event, with a
generous bound for a busy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
import websockets

from assist.bench.clients import StreamResult, stream_native, watch_sidebar
from assist.config import Settings
from tests.conftest import ARTIFACTS, REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from cluster import SECRET_KEY, Cluster, Node

pytestmark = [pytest.mark.model, pytest.mark.cluster]
CALL = "0002f70f7386445b"
CLIP_S = 22.0
WAIT_S = 60.0  # bound for anything the fleet must do on its own (a dead node: ~6 s)
SETTINGS = Settings(secret_key=SECRET_KEY)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    fleet = Cluster(
        3,
        state_dir=tmp_path_factory.mktemp("cluster"),
        # One decode worker per node (three nodes share two cores here); the knowledge-base
        # index cached beside the other tests'; interims at their configured spacing.
        # A busy machine's decode backlog must not take the nodes out of HAProxy's rotation here.
        node_env={
            "ASSIST_STT_WORKERS": "1",
            "ASSIST_DATA_DIR": str(ARTIFACTS),
            "ASSIST_MAX_CALLS": "8",
            "ASSIST_MAX_FINAL_WAIT_S": "3600",
        },
    )
    try:
        fleet.up()
        yield fleet
    finally:
        fleet.down()
        for log in fleet.state_dir.glob("node*.log"):
            assert "Traceback" not in log.read_text(), f"traceback in {log.name}"


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> np.ndarray:
    audio, _ = sf.read(shared_data / "calls" / f"{CALL}.flac", dtype="float32")
    return audio[: int(CLIP_S * 16000)]


def ws(url: str) -> str:
    return url.replace("http", "ws", 1)


def ticket(node: Node, token: str) -> str:
    return str(httpx.post(f"{node.url}/api/ticket", headers=bearer(token), timeout=10).json()["ticket"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sidebar(node: Node, agent: str) -> str:
    return f"{ws(node.url)}/ws/sidebar?agent={agent}&ticket={ticket(node, SETTINGS.agent_token(agent))}"


def follower(node: Node, call_id: str) -> str:
    return f"{ws(node.url)}/ws/supervisor?call={call_id}&ticket={ticket(node, SETTINGS.role_token('supervisor'))}"


def live_calls(node: Node) -> list[dict]:
    token = SETTINGS.role_token("supervisor")
    return httpx.get(f"{node.url}/api/live/calls", headers=bearer(token), timeout=10).json()["calls"]


async def until(check: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


class Viewer:
    """A sidebar (or a supervisor following a call) on one node, collecting until stopped."""

    def __init__(self, url: str) -> None:
        self.result = StreamResult()
        self.stop = asyncio.Event()
        self.connected = asyncio.Event()
        self.task = asyncio.create_task(watch_sidebar(url, self.result, self.stop, self.connected))

    async def __aenter__(self) -> Viewer:
        await asyncio.wait_for(self.connected.wait(), WAIT_S)
        return self

    async def close(self) -> list[dict]:
        self.stop.set()
        await self.task
        return [m for _, m in self.result.messages]

    async def __aexit__(self, *exc: object) -> None:
        if not self.stop.is_set():
            await self.close()

    def of_call(self, call_id: str, kind: str | None = None) -> list[dict]:
        return [
            m for _, m in self.result.messages if m.get("call_id") == call_id and (kind is None or m["type"] == kind)
        ]


def events(messages: list[dict]) -> list[tuple[int, str, str]]:
    """What a viewer must see identically, in order: every event but interims."""
    return [(m["seq"], m["type"], m.get("text", "")) for m in messages if m["type"] not in ("interim",)]


def assert_in_order_once(messages: list[dict]) -> None:
    seqs = [m["seq"] for m in messages if "seq" in m and m["type"] != "call_started"]
    assert seqs == sorted(set(seqs)), seqs


def finals_of(messages: list[dict]) -> list[tuple[str, int, str]]:
    """Each utterance's final as it stands (a revision replaces the first text)."""
    latest = {(m["speaker"], m["utterance_id"]): m["text"] for m in messages if m["type"] == "final"}
    return sorted((speaker, utterance, text) for (speaker, utterance), text in latest.items())


def stored_finals(call: dict) -> list[tuple[str, int, str]]:
    return sorted((u["speaker"], u["utterance_id"], u["text"]) for u in call["utterances"])


def owner_of(cluster: Cluster, call_id: str) -> Node:
    for node in cluster.nodes:
        for call in live_calls(node):
            if call["call_id"] == call_id:
                name = str(call["node_id"]).rsplit("-", 1)[0]
                return next(n for n in cluster.nodes if n.name == name)
    raise AssertionError(f"call {call_id} is not live anywhere")


async def test_a_call_through_the_load_balancer_reaches_viewers_on_every_node(
    cluster: Cluster, clip: np.ndarray
) -> None:
    agent = "agent-fleet"
    viewers = [Viewer(sidebar(node, agent)) for node in cluster.nodes]
    for viewer in viewers:
        await viewer.__aenter__()
    direct_result = StreamResult()
    streaming = asyncio.create_task(
        stream_native(
            f"{ws(cluster.entry)}/native", clip, call_id="fleet-1", agent_id=agent, speed=2.0, result=direct_result
        )
    )
    await until(lambda: direct_result.of_type("started"), "the call to start")
    call_id = direct_result.of_type("started")[0]["call_id"]
    owner = owner_of(cluster, call_id)
    others = [n for n in cluster.nodes if n is not owner]
    async with Viewer(follower(others[-1], call_id)) as supervisor:
        result = await streaming
        await until(lambda: all(v.of_call(call_id, "call_ended") for v in viewers), "call_ended everywhere")
        await until(lambda: supervisor.of_call(call_id, "call_ended"), "call_ended at the supervisor")
        followed = await supervisor.close()
    seen = [await v.close() for v in viewers]
    direct = [m for _, m in result.messages if m.get("call_id") == call_id and "seq" in m]
    assert [m for m in direct if m["type"] == "final"], "the call produced finals"
    expected = events(direct)
    for node, messages in zip(cluster.nodes, seen, strict=True):
        of_call = [m for m in messages if m.get("call_id") == call_id]
        assert_in_order_once(of_call)
        assert events(of_call) == expected, f"sidebar on {node.name} (owner {owner.name})"
    of_call = [m for m in followed if m.get("call_id") == call_id]
    assert_in_order_once(of_call)
    assert events(of_call) == expected, "supervisor following on another node"
    # The call log (PostgreSQL, shared) has the call, whichever node is asked.
    qa = {"Authorization": f"Bearer {SETTINGS.role_token('qa')}"}
    stored = httpx.get(f"{others[0].url}/api/calls/{call_id}", headers=qa, timeout=10).json()
    assert stored["status"] == "completed"


async def test_a_knowledge_base_reload_on_one_node_reaches_all(cluster: Cluster) -> None:
    token = SETTINGS.role_token("supervisor")

    def loaded_at(node: Node) -> float:
        return float(httpx.get(f"{node.url}/api/kb", headers=bearer(token), timeout=10).json()["loaded_at"])

    before = {node.name: loaded_at(node) for node in cluster.nodes}
    reply = httpx.post(f"{cluster.nodes[0].url}/api/kb/reload", headers=bearer(token), timeout=120)
    assert reply.status_code == 200, reply.text
    await until(lambda: all(loaded_at(node) > before[node.name] for node in cluster.nodes), "every node reloaded", 180)


async def test_feedback_and_a_transfer_asked_of_other_nodes_are_done_by_the_owner(
    cluster: Cluster, clip: np.ndarray
) -> None:
    owner, asked, watching = cluster.nodes
    first, second = "agent-before", "agent-after"
    async with Viewer(sidebar(asked, first)) as before, Viewer(sidebar(watching, second)) as after:
        streaming = asyncio.create_task(
            stream_native(f"{ws(owner.url)}/native", clip, call_id="handover-1", agent_id=first, speed=1.0)
        )
        await until(lambda: before.result.of_type("final"), "a first final on the first agent's sidebar")
        call_id = before.result.of_type("call_started")[0]["call_id"]
        # Feedback from a sidebar on another node than the call's.
        async with websockets.connect(sidebar(asked, first)) as page:
            await page.send(json.dumps({"type": "feedback", "call_id": call_id, "card_id": "k1", "action": "used"}))
            await until(lambda: before.of_call(call_id, "feedback"), "the feedback echoed by the owner")
        # A transfer asked of a third node.
        token = SETTINGS.role_token("supervisor")
        reply = httpx.post(
            f"{asked.url}/api/live/calls/{call_id}/transfer", headers=bearer(token), json={"agent_id": second}
        )
        assert reply.status_code == 202, reply.text
        await until(lambda: before.of_call(call_id, "transferred"), "the first agent told where the call went")
        await until(lambda: after.of_call(call_id, "call_started"), "the call on the new agent's sidebar")
        await streaming
        await until(lambda: after.of_call(call_id, "call_ended"), "the rest of the call on the new agent's sidebar")
    [feedback] = before.of_call(call_id, "feedback")
    assert (feedback["card_id"], feedback["action"], feedback["source"]) == ("k1", "used", "sidebar")
    finals_after = after.of_call(call_id, "final")
    assert finals_after and {m["text"] for m in before.of_call(call_id, "final")} <= {m["text"] for m in finals_after}
    qa = {"Authorization": f"Bearer {SETTINGS.role_token('qa')}"}
    stored = httpx.get(f"{watching.url}/api/calls/{call_id}", headers=qa, timeout=10).json()
    assert stored["agent_id"] == second


async def test_a_redis_restart_mid_call_loses_no_final(cluster: Cluster, clip: np.ndarray) -> None:
    node_a, node_b = cluster.nodes[0], cluster.nodes[1]
    agent = "agent-redis"
    async with Viewer(sidebar(node_b, agent)) as remote:
        streaming = asyncio.create_task(
            stream_native(f"{ws(node_a.url)}/native", clip, call_id="redis-1", agent_id=agent, speed=1.5)
        )
        await until(lambda: any(m["type"] == "final" for _, m in remote.result.messages), "a first final on B")
        cluster.stop_redis()  # Redis goes away mid-call, and comes back empty
        cluster.start_redis()
        result = await streaming
        call_id = next(m["call_id"] for _, m in result.messages if m["type"] == "started")
        await until(lambda: remote.of_call(call_id, "call_ended"), "call_ended on B after the restart")
        seen = await remote.close()
    direct = [m for _, m in result.messages if m.get("call_id") == call_id and "seq" in m]
    of_call = [m for m in seen if m.get("call_id") == call_id]
    assert_in_order_once(of_call)
    assert events(of_call) == events(direct), "the sidebar on B caught up on everything"
    qa = {"Authorization": f"Bearer {SETTINGS.role_token('qa')}"}
    stored = httpx.get(f"{node_b.url}/api/calls/{call_id}", headers=qa, timeout=10).json()
    assert stored_finals(stored) == finals_of(direct), "every final is in the call log"


async def test_a_killed_node_s_call_is_interrupted_and_other_calls_go_on(cluster: Cluster, clip: np.ndarray) -> None:
    node_a, node_b = cluster.nodes[0], cluster.nodes[1]
    doomed_agent, safe_agent = "agent-doomed", "agent-safe"
    async with Viewer(sidebar(node_b, doomed_agent)) as watcher:
        doomed = asyncio.create_task(
            stream_native(f"{ws(node_a.url)}/native", clip, call_id="doomed", agent_id=doomed_agent, speed=1.0)
        )
        safe = asyncio.create_task(
            stream_native(f"{ws(node_b.url)}/native", clip, call_id="safe", agent_id=safe_agent, speed=1.5)
        )
        await until(lambda: watcher.result.of_type("final"), "a first final of the doomed call on B")
        call_id = watcher.result.of_type("call_started")[0]["call_id"]
        cluster.kill_node(node_a, signal.SIGKILL)
        await until(lambda: watcher.of_call(call_id, "call_ended"), "the doomed call ended on B")
        [ended] = watcher.of_call(call_id, "call_ended")
        assert ended["reason"] == "interrupted"
        safe_result = await safe
        with contextlib.suppress(Exception):  # its server died under it: however the client ends
            await doomed
    safe_finals = safe_result.of_type("final")
    assert safe_finals and safe_result.of_type("call_ended")[0]["reason"] == "completed"
    qa = {"Authorization": f"Bearer {SETTINGS.role_token('qa')}"}

    def status() -> str:
        return str(httpx.get(f"{node_b.url}/api/calls/{call_id}", headers=qa, timeout=10).json().get("status"))

    await until(lambda: status() == "interrupted", "the call log marks the call interrupted")
    safe_id = safe_result.of_type("started")[0]["call_id"]
    stored = httpx.get(f"{node_b.url}/api/calls/{safe_id}", headers=qa, timeout=10).json()
    assert stored_finals(stored) == finals_of(safe_finals)
