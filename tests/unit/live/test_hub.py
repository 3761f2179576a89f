"""Outbox back-pressure, SidebarHub fan-out, and replicas of other nodes' calls."""

from __future__ import annotations

import asyncio
import time

import pytest

from assist.live.hub import LiveCall, Outbox, SidebarHub

WAIT_S = 5.0  # generous bound for a hand-off between tasks; never a timing assertion


def interim(call: str, speaker: str, text: str, utterance: int = 1) -> dict:
    return {"type": "interim", "call_id": call, "speaker": speaker, "utterance_id": utterance, "text": text}


def final(call: str, speaker: str, text: str, utterance: int = 1) -> dict:
    return {"type": "final", "call_id": call, "speaker": speaker, "utterance_id": utterance, "text": text}


def signal(call: str, name: str) -> dict:
    return {"type": "signal", "call_id": call, "name": name}


async def drain(outbox: Outbox) -> list[dict]:
    """Everything queued now (get() never blocks while entries remain)."""
    messages = []
    while len(outbox):
        message = await outbox.get()
        assert message is not None
        messages.append(message)
    return messages


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", m["type"]) for m in messages]


# -- Outbox ---------------------------------------------------------------------------------------


async def test_outbox_is_fifo():
    outbox = Outbox(8)
    for i in range(3):
        assert outbox.offer(final("c", "agent", f"f{i}", i))
    assert len(outbox) == 3
    assert texts(await drain(outbox)) == ["f0", "f1", "f2"]


async def test_interims_of_one_speaker_coalesce_to_the_newest():
    outbox = Outbox(8)
    assert outbox.offer(interim("c", "agent", "hel"))
    assert outbox.offer(interim("c", "agent", "hello"))
    assert outbox.offer(interim("c", "agent", "hello the"))
    assert len(outbox) == 1
    assert outbox.dropped_interims == 2
    assert texts(await drain(outbox)) == ["hello the"]


async def test_interims_of_other_speakers_or_calls_do_not_coalesce():
    outbox = Outbox(8)
    outbox.offer(interim("c", "agent", "a"))
    outbox.offer(interim("c", "customer", "b"))
    outbox.offer(interim("d", "agent", "c"))
    assert texts(await drain(outbox)) == ["a", "b", "c"]
    assert outbox.dropped_interims == 0


async def test_coalesced_interim_keeps_its_place_in_the_queue():
    outbox = Outbox(8)
    outbox.offer(interim("c", "agent", "one"))
    outbox.offer(final("c", "customer", "F"))
    outbox.offer(interim("c", "agent", "one two"))
    assert texts(await drain(outbox)) == ["one two", "F"]


async def test_interim_after_delivery_is_queued_again():
    outbox = Outbox(8)
    outbox.offer(interim("c", "agent", "one"))
    assert (await outbox.get())["text"] == "one"
    outbox.offer(interim("c", "agent", "one two"))
    outbox.offer(interim("c", "agent", "one two three"))
    assert texts(await drain(outbox)) == ["one two three"]


async def test_final_removes_its_speakers_queued_interim():
    outbox = Outbox(8)
    outbox.offer(interim("c", "agent", "hello th"))
    outbox.offer(interim("c", "customer", "hi"))
    outbox.offer(final("c", "agent", "Hello there."))
    assert texts(await drain(outbox)) == ["hi", "Hello there."]
    assert outbox.dropped_interims == 1
    # The slot is free again: a new interim is queued, not merged into a removed entry.
    outbox.offer(interim("c", "agent", "and"))
    assert texts(await drain(outbox)) == ["and"]


async def test_other_messages_do_not_remove_interims():
    outbox = Outbox(8)
    outbox.offer(interim("c", "agent", "hel"))
    outbox.offer({"type": "suggestion", "call_id": "c", "speaker": "agent", "text": "card"})
    assert texts(await drain(outbox)) == ["hel", "card"]


async def test_full_outbox_drops_the_oldest_interim():
    outbox = Outbox(3)
    outbox.offer(interim("c", "agent", "old agent"))
    outbox.offer(interim("c", "customer", "old customer"))
    outbox.offer(final("d", "agent", "F1"))
    assert outbox.offer(final("d", "agent", "F2"))
    assert len(outbox) == 3
    assert outbox.dropped_interims == 1
    assert not outbox.overflowed
    assert texts(await drain(outbox)) == ["old customer", "F1", "F2"]


async def test_dropped_interim_frees_its_coalescing_slot():
    outbox = Outbox(2)
    outbox.offer(interim("c", "agent", "dropped"))
    outbox.offer(final("d", "agent", "F1"))
    outbox.offer(final("d", "agent", "F2"))  # drops the interim
    outbox.offer(final("d", "agent", "F3"))  # full of finals: overflow
    assert outbox.overflowed


async def test_new_interim_into_a_full_outbox_replaces_an_older_interim():
    outbox = Outbox(2)
    outbox.offer(interim("c", "agent", "a"))
    outbox.offer(final("c", "customer", "F"))
    assert outbox.offer(interim("c", "customer", "b"))
    assert texts(await drain(outbox)) == ["F", "b"]


async def test_outbox_full_of_finals_overflows():
    outbox = Outbox(3)
    for i in range(3):
        assert outbox.offer(final("c", "agent", f"f{i}", i))
    assert outbox.offer(final("c", "agent", "f3", 3)) is False
    assert outbox.overflowed
    assert await outbox.get() is None
    assert outbox.offer(interim("c", "agent", "late")) is False
    assert outbox.offer(final("c", "agent", "later")) is False
    assert await outbox.get() is None


async def test_finals_are_never_dropped_before_overflow():
    outbox = Outbox(4)
    sent = []
    for i in range(4):
        outbox.offer(interim("c", "agent", f"i{i}", i))
        outbox.offer(interim("c", "customer", f"j{i}", i))
        message = final("c", "customer" if i % 2 else "agent", f"f{i}", i)
        assert outbox.offer(message)
        sent.append(message["text"])
    assert not outbox.overflowed
    delivered = texts(await drain(outbox))
    assert [t for t in delivered if t.startswith("f")] == sent


async def test_get_waits_for_an_offer():
    outbox = Outbox(4)
    waiter = asyncio.create_task(outbox.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    outbox.offer(final("c", "agent", "hi"))
    message = await asyncio.wait_for(waiter, WAIT_S)
    assert message["text"] == "hi"


# -- SidebarHub -----------------------------------------------------------------------------------


def live_call(call_id: str, agent_id: str, *, started_at: float | None = None) -> LiveCall:
    call = LiveCall(call_id, agent_id, "native", f"p-{call_id}", "+15551234567", "en")
    if started_at is not None:
        call.started_at = started_at
    return call


async def test_hub_counts_coalesced_interims_of_live_and_departed_sidebars():
    hub = SidebarHub(16)
    hub.start_call(live_call("c1", "a1"))
    staying, leaving = hub.subscribe_agent("a1"), hub.subscribe_call("c1")
    assert leaving is not None
    for text in ("hel", "hello", "hello the"):
        hub.publish("c1", interim("c1", "customer", text))
    assert hub.interims_coalesced == 4  # two replaced in each outbox
    hub.unsubscribe(leaving)
    hub.unsubscribe(leaving)  # a second unsubscribe must not count it twice
    hub.publish("c1", final("c1", "customer", "hello there"))  # supersedes the queued interim
    assert hub.interims_coalesced == 5
    assert staying.dropped_interims == 3


async def test_start_call_announces_to_the_agent_and_overview():
    hub = SidebarHub(16)
    mine = hub.subscribe_agent("a1")
    theirs = hub.subscribe_agent("a2")
    overview = hub.subscribe_overview()
    hub.start_call(live_call("c1", "a1"))
    (started,) = await drain(mine)
    assert started["type"] == "call_started"
    assert started["call_id"] == "c1" and started["agent_id"] == "a1"
    assert started["platform"] == "native" and started["platform_call_id"] == "p-c1"
    assert [m["call_id"] for m in await drain(overview)] == ["c1"]
    assert len(theirs) == 0


async def test_subscribe_agent_gets_a_snapshot_of_that_agents_live_calls_only():
    hub = SidebarHub(32)
    hub.start_call(live_call("c1", "a1"))
    hub.start_call(live_call("c2", "a2"))
    hub.start_call(live_call("c3", "a1"))
    hub.publish("c1", final("c1", "customer", "I lost my card"))
    hub.publish("c1", interim("c1", "agent", "let me"))
    hub.publish("c1", interim("c1", "agent", "let me check"))
    hub.publish("c1", interim("c1", "customer", "it was"))
    hub.publish("c1", final("c1", "customer", "It was stolen", 2))  # supersedes customer interim
    hub.publish("c1", {"type": "suggestion", "call_id": "c1", "text": "Block card"})
    hub.publish("c2", final("c2", "customer", "not for a1"))
    outbox = hub.subscribe_agent("a1")
    messages = await drain(outbox)
    assert [(m["type"], m["call_id"]) for m in messages] == [
        ("call_started", "c1"),
        ("final", "c1"),
        ("final", "c1"),
        ("suggestion", "c1"),
        ("interim", "c1"),
        ("call_started", "c3"),
    ]
    assert texts(messages[1:5]) == ["I lost my card", "It was stolen", "Block card", "let me check"]
    assert all(m["call_id"] != "c2" for m in messages)


async def test_subscribe_agent_without_calls_gets_nothing():
    hub = SidebarHub(8)
    hub.start_call(live_call("c1", "a1"))
    assert len(hub.subscribe_agent("a9")) == 0


async def test_publish_reaches_the_agent_and_followers_but_not_other_agents():
    hub = SidebarHub(16)
    hub.start_call(live_call("c1", "a1"))
    hub.start_call(live_call("c2", "a2"))
    agent_tabs = [hub.subscribe_agent("a1"), hub.subscribe_agent("a1")]
    other_agent = hub.subscribe_agent("a2")
    follower = hub.subscribe_call("c1")
    other_follower = hub.subscribe_call("c2")
    for outbox in (*agent_tabs, other_agent, follower, other_follower):
        await drain(outbox)  # snapshots
    hub.publish("c1", final("c1", "agent", "Hello"))
    for outbox in (*agent_tabs, follower):
        assert texts(await drain(outbox)) == ["Hello"]
    assert len(other_agent) == 0
    assert len(other_follower) == 0


async def test_publish_for_an_unknown_call_is_ignored():
    hub = SidebarHub(8)
    outbox = hub.subscribe_overview()
    hub.publish("nope", signal("nope", "fraud"))
    assert len(outbox) == 0
    assert hub.calls == {}


async def test_publish_keeps_history_and_current_interims():
    hub = SidebarHub(8)
    call = live_call("c1", "a1")
    hub.start_call(call)
    hub.publish("c1", interim("c1", "agent", "hel"))
    hub.publish("c1", interim("c1", "customer", "hi"))
    assert call.history == []
    assert set(call.interims) == {"agent", "customer"}
    hub.publish("c1", final("c1", "agent", "Hello"))
    assert texts(call.history) == ["Hello"]
    assert set(call.interims) == {"customer"}
    hub.publish("c1", signal("c1", "angry"))
    assert [m["type"] for m in call.history] == ["final", "signal"]
    [alert] = call.alerts
    assert alert.pop("published_at") > 0  # stamped for push latency
    assert alert.pop("seq") == 4  # numbered in order: two interims, a final, the signal
    assert alert == signal("c1", "angry")


async def test_subscribe_call_snapshot_and_unknown_call():
    hub = SidebarHub(8)
    hub.start_call(live_call("c1", "a1"))
    hub.publish("c1", final("c1", "agent", "Hello"))
    follower = hub.subscribe_call("c1")
    assert [m["type"] for m in await drain(follower)] == ["call_started", "final"]
    assert hub.subscribe_call("missing") is None


async def test_end_call_sends_call_ended_and_removes_the_call():
    hub = SidebarHub(16)
    call = live_call("c1", "a1")
    hub.start_call(call)
    agent = hub.subscribe_agent("a1")
    follower = hub.subscribe_call("c1")
    overview = hub.subscribe_overview()
    for outbox in (agent, follower, overview):
        await drain(outbox)
    hub.end_call("c1", "hangup")
    for outbox in (agent, follower, overview):
        (ended,) = await drain(outbox)
        assert ended["type"] == "call_ended"
        assert ended["call_id"] == "c1" and ended["reason"] == "hangup"
        assert isinstance(ended["ended_at"], float)
    assert call.ended
    assert "c1" not in hub.calls
    assert all(m["type"] != "call_ended" for m in call.history)
    assert hub.live_calls() == []
    assert hub.subscribe_call("c1") is None
    hub.publish("c1", final("c1", "agent", "too late"))
    assert len(agent) == 0 and len(follower) == 0
    assert [m["type"] for m in await drain(hub.subscribe_agent("a1"))] == []
    hub.end_call("c1", "again")  # unknown call: no-op
    assert len(agent) == 0


async def test_slow_subscriber_overflow_does_not_affect_others():
    hub = SidebarHub(8)
    hub.start_call(live_call("c1", "a1"))
    fast = hub.subscribe_agent("a1")
    slow = hub.subscribe_agent("a1")
    follower = hub.subscribe_call("c1")
    overview = hub.subscribe_overview()
    received: dict[str, list[str]] = {"fast": [], "follower": []}
    for outbox in (fast, slow, follower, overview):
        await drain(outbox)
    sent = []
    for i in range(20):
        message = final("c1", "agent", f"f{i}", i)
        hub.publish("c1", message)  # must not raise nor block
        sent.append(message["text"])
        received["fast"] += texts(await drain(fast))
        received["follower"] += texts(await drain(follower))
    assert received["fast"] == sent
    assert received["follower"] == sent
    assert slow.overflowed
    assert await slow.get() is None
    assert hub.overflows >= 1
    assert not fast.overflowed and not follower.overflowed
    hub.publish("c1", signal("c1", "fraud"))
    assert [m["type"] for m in await drain(overview)] == ["signal"]
    assert [m["type"] for m in await drain(fast)] == ["signal"]
    hub.unsubscribe(slow)
    overflows = hub.overflows
    hub.publish("c1", final("c1", "agent", "after"))
    assert hub.overflows == overflows
    assert texts(await drain(fast)) == ["after"]


async def test_unsubscribe_stops_delivery():
    hub = SidebarHub(8)
    hub.start_call(live_call("c1", "a1"))
    agent = hub.subscribe_agent("a1")
    follower = hub.subscribe_call("c1")
    overview = hub.subscribe_overview()
    for outbox in (agent, follower, overview):
        await drain(outbox)
        hub.unsubscribe(outbox)
    hub.publish("c1", signal("c1", "fraud"))
    hub.start_call(live_call("c2", "a1"))
    assert len(agent) == 0 and len(follower) == 0 and len(overview) == 0


async def test_subscribe_overview_gets_summaries_and_latest_signals():
    hub = SidebarHub(32)
    hub.start_call(live_call("c1", "a1"))
    hub.start_call(live_call("c2", "a2"))
    for name in ("s1", "s2", "s3", "s4"):
        hub.publish("c1", signal("c1", name))
    hub.publish("c1", final("c1", "agent", "not for the overview"))
    overview = hub.subscribe_overview()
    messages = await drain(overview)
    assert [(m["type"], m["call_id"]) for m in messages] == [
        ("call_started", "c1"),
        ("signal", "c1"),
        ("signal", "c1"),
        ("signal", "c1"),
        ("call_started", "c2"),
    ]
    assert [m["name"] for m in messages if m["type"] == "signal"] == ["s2", "s3", "s4"]
    hub.publish("c2", final("c2", "agent", "still not"))
    hub.publish("c2", interim("c2", "agent", "nor this"))
    hub.publish("c2", signal("c2", "angry"))
    assert [(m["type"], m["call_id"]) for m in await drain(overview)] == [("signal", "c2")]


async def test_live_calls_lists_duration_and_latest_alerts():
    hub = SidebarHub(8)
    hub.start_call(live_call("c1", "a1", started_at=time.time() - 42.0))
    for name in ("s1", "s2", "s3", "s4"):
        hub.publish("c1", signal("c1", name))
    (listed,) = hub.live_calls()
    assert listed["type"] == "call_started"
    assert listed["call_id"] == "c1" and listed["agent_id"] == "a1"
    assert listed["duration_s"] == pytest.approx(42.0, abs=5.0)
    assert [a["name"] for a in listed["latest_alerts"]] == ["s2", "s3", "s4"]


async def test_reconnect_to_a_long_call_receives_its_history():
    hub = SidebarHub(8)
    hub.start_call(live_call("c1", "a1"))
    for i in range(10):
        hub.publish("c1", final("c1", "agent", f"f{i}", i))
    outbox = hub.subscribe_agent("a1")
    assert not outbox.overflowed
    first = await outbox.get()
    assert first is not None and first["type"] == "call_started"


# -- replicas: another node's call, as the bus delivers it ---------------------------------------


def replica_feed(owner: SidebarHub, call_id: str = "r1", agent: str = "a1") -> list[dict]:
    """What an owner sends out for one call: call_started, then numbered events."""
    sent = [owner.start_call(LiveCall(call_id, agent, "native", "p", None, "en", node_id="node-a"))]
    for message in (
        interim(call_id, "customer", "I lost"),
        final(call_id, "customer", "I lost my card."),
        signal(call_id, "churn"),
    ):
        stamped = owner.publish(call_id, dict(message))
        assert stamped is not None
        sent.append(dict(stamped))
    return sent


async def test_a_replica_applies_each_event_once_in_order():
    owner, replica = SidebarHub(), SidebarHub()
    sent = replica_feed(owner)
    assert [m["seq"] for m in sent] == [0, 1, 2, 3]
    viewer = replica.subscribe_agent("a1")
    for message in sent:
        assert replica.apply(dict(message))
    for message in sent:  # delivered twice (a resync after an outage): nothing new
        assert not replica.apply(dict(message))
    assert texts(await drain(viewer)) == ["call_started", "I lost my card.", "signal"]  # the interim was superseded
    call = replica.calls["r1"]
    assert call.node_id == "node-a" and call.seq == 3
    assert texts(call.history) == ["I lost my card.", "signal"]


async def test_a_replica_ignores_an_event_older_than_what_it_has():
    owner, replica = SidebarHub(), SidebarHub()
    sent = replica_feed(owner)
    replica.apply(dict(sent[0]))
    replica.apply(dict(sent[3]))  # a resync can deliver the newest first
    assert not replica.apply(dict(sent[2]))
    assert replica.calls["r1"].seq == 3


async def test_events_of_an_unknown_call_are_dropped_until_its_start_arrives():
    replica = SidebarHub()
    assert not replica.apply({"type": "final", "call_id": "zz", "seq": 4, "speaker": "agent", "text": "x"})
    assert "zz" not in replica.calls


async def test_transferred_moves_the_call_to_the_new_agent_on_every_node():
    owner, replica = SidebarHub(), SidebarHub()
    sent = replica_feed(owner)
    for message in sent:
        replica.apply(dict(message))
    old, new = replica.subscribe_agent("a1"), replica.subscribe_agent("a2")
    await drain(old)
    moved = owner.publish("r1", {"type": "transferred", "call_id": "r1", "from_agent_id": "a1", "to_agent_id": "a2"})
    assert moved is not None and replica.apply(dict(moved))
    assert texts(await drain(old)) == ["transferred"]  # the previous agent sees where it went
    assert texts(await drain(new))[:2] == ["call_started", "I lost my card."]  # the new one gets it all
    assert replica.calls["r1"].agent_id == "a2" == owner.calls["r1"].agent_id


async def test_call_ended_by_a_survivor_for_a_dead_owner_reaches_viewers():
    owner, replica = SidebarHub(), SidebarHub()
    for message in replica_feed(owner):
        replica.apply(dict(message))
    viewer, overview = replica.subscribe_agent("a1"), replica.subscribe_overview()
    await drain(viewer)
    await drain(overview)
    ended = replica.end_call("r1", "interrupted", by_node="node-b")
    assert ended is not None and ended["reason"] == "interrupted" and ended["by_node"] == "node-b"
    assert texts(await drain(viewer)) == ["call_ended"]
    assert texts(await drain(overview)) == ["call_ended"]
    assert "r1" not in replica.calls
