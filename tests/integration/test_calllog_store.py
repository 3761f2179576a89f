"""The call log store against both databases: SQLite (embedded) and a real PostgreSQL server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assist.calllog.store import CallQuery, CallStore, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CallStore]:
    if request.param == "sqlite":
        opened = open_store(None, tmp_path)
    else:
        opened = open_store(request.getfixturevalue("postgres_db_url"), tmp_path)
    yield opened
    opened.close()


def call_row(call_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "node_id": "node-a",
        "platform": "native",
        "platform_call_id": f"P-{call_id}",
        "caller_number": "+12025550143",
        "agent_id": "alice",
        "language": "en",
        "caller": {"name": "Patricia Brown", "segment": "Gold"},
        "started_at": 1_700_000_000.0,
        **overrides,
    }


def final(utterance_id: int, speaker: str, text: str, start_s: float) -> dict[str, Any]:
    return {
        "type": "final",
        "speaker": speaker,
        "utterance_id": utterance_id,
        "start_s": start_s,
        "end_s": start_s + 1.5,
        "emitted_s": start_s + 1.9,
        "text": text,
        "words": [{"text": w, "start_s": start_s, "end_s": start_s + 0.2, "confidence": 0.9} for w in text.split()],
        "confidence": 0.91,
        "language": "en",
        "latency_ms": {"endpoint": 320.0, "decode": 90.0, "total": 400.0},
    }


def add_call(store: CallStore, call_id: str, lines: list[tuple[str, str]], **overrides: Any) -> None:
    from assist.calllog.call import utterance_row

    store.start_call(call_row(call_id, **overrides))
    events = []
    for i, (speaker, text) in enumerate(lines):
        message = final(i, speaker, text, 2.0 * i)
        events.append((i, message))
        store.append(call_id, events=[(i, message)], utterances=[utterance_row(message)])
    del events


def test_round_trip_keeps_everything(store: CallStore) -> None:
    from assist.calllog.call import utterance_row

    store.start_call(call_row("c1"))
    message = {**final(0, "customer", "My card number is [card] thanks", 1.0)}
    message["redactions"] = [{"kind": "card", "start": 18, "end": 24}]
    card = {"type": "suggestion", "card_id": "kb:lost-card", "intent": "lost_card", "title": "Lost card", "at_s": 3.0}
    store.append(
        "c1",
        events=[(0, message), (1, card)],
        utterances=[utterance_row(message)],
        feedback=[{"card_id": "kb:lost-card", "action": "used", "source": "sidebar", "at": 1_700_000_005.0}],
    )
    store.finish_call(
        "c1",
        status="completed",
        end_reason="completed",
        ended_at=1_700_000_060.0,
        duration_s=60.0,
        tags=[("intent", "lost_card"), ("intent", "lost_card"), ("signal", "churn")],
        qa={"score": 85.7, "items": []},
        summary={"text": "Lost card."},
    )
    call = store.get_call("c1")
    assert call is not None
    assert call["status"] == "completed" and call["qa_score"] == pytest.approx(85.7)
    assert call["caller"] == {"name": "Patricia Brown", "segment": "Gold"}
    assert call["summary"] == {"text": "Lost card."}
    [utterance] = call["utterances"]
    assert utterance["text"] == "My card number is [card] thanks"
    assert utterance["redactions"] == [{"kind": "card", "start": 18, "end": 24}]
    assert utterance["latency"]["total"] == 400.0 and len(utterance["words"]) == 6
    assert [g["type"] for g in call["guidance"]] == ["suggestion"]
    assert call["feedback"][0]["action"] == "used"
    assert call["tags"] == {"intent": ["lost_card"], "signal": ["churn"]}
    assert [e["type"] for e in store.events("c1")] == ["final", "suggestion"]


def test_a_retried_batch_is_harmless(store: CallStore) -> None:
    from assist.calllog.call import utterance_row

    store.start_call(call_row("c1"))
    store.start_call(call_row("c1"))
    message = final(0, "agent", "Hello", 0.0)
    for _ in range(2):
        store.append("c1", events=[(0, message)], utterances=[utterance_row(message)])
    assert len(store.utterances("c1")) == 1 and len(store.events("c1")) == 1


def test_filters_and_paging(store: CallStore) -> None:
    for i in range(7):
        add_call(store, f"c{i}", [("customer", "hello")], agent_id="alice" if i % 2 else "bob", started_at=1000.0 + i)
        store.finish_call(
            f"c{i}",
            status="completed",
            end_reason="completed",
            ended_at=2000.0,
            duration_s=10.0,
            tags=[("intent", "refund" if i < 3 else "lost_card")] + ([("signal", "churn")] if i == 4 else []),
            qa={"score": 10.0 * i},
        )
    page = store.list_calls(CallQuery(limit=3))
    assert page.total == 7 and [c["id"] for c in page.calls] == ["c6", "c5", "c4"]
    assert [c["id"] for c in store.list_calls(CallQuery(limit=3, offset=6)).calls] == ["c0"]
    assert store.list_calls(CallQuery(agent_id="alice")).total == 3
    assert {c["id"] for c in store.list_calls(CallQuery(intent="refund")).calls} == {"c0", "c1", "c2"}
    assert [c["id"] for c in store.list_calls(CallQuery(signal="churn")).calls] == ["c4"]
    assert store.list_calls(CallQuery(min_score=30, max_score=50)).total == 3
    assert store.list_calls(CallQuery(since=1002.0, until=1004.0)).total == 2
    assert store.list_calls(CallQuery(status="live")).total == 0
    assert store.tags_for(["c4"])["c4"] == {"intent": ["lost_card"], "signal": ["churn"]}


def test_full_text_search(store: CallStore) -> None:
    add_call(
        store, "a", [("customer", "I want a refund for the double charge"), ("agent", "Sure, refunds take 5 days.")]
    )
    add_call(store, "b", [("customer", "I lost my debit card yesterday"), ("agent", "I've blocked the card.")])
    add_call(store, "c", [("customer", "我的银行卡丢了"), ("agent", "好的")])
    ids = lambda text: {c["id"] for c in store.list_calls(CallQuery(text=text)).calls}  # noqa: E731
    assert ids("refunds") == {"a"}  # stemming: refund / refunds
    assert ids("lost card") == {"b"}
    assert ids('"debit card"') == {"b"}
    assert ids('"card debit"') == set()
    assert ids("bloc*") == {"b"}
    assert ids("银行卡") == {"c"}
    # Query syntax typed by a person is read as words, never as operators, and never raises.
    assert ids("card's 100% (NEAR) OR \"") == set()  # "100" and "near" are in no call
    assert ids('lost" (card') == ids("(lost card)") == ids("lost {card}") == ids("lost: card^") == {"b"}
    assert ids("") == {"a", "b", "c"}
    page = store.list_calls(CallQuery(text="refund"))
    assert [h["speaker"] for h in page.hits["a"]] == ["customer", "agent"]
    assert store.search_utterances("card")[0]["call_id"] == "b"


def test_crashed_calls_are_marked_interrupted_and_scored(store: CallStore) -> None:
    from assist.qa.review import load_scorecard, recover_open_calls

    add_call(store, "mine", [("agent", "Good morning, thank you for calling"), ("customer", "I lost my card")])
    add_call(store, "other-node", [("agent", "Hello")], node_id="node-b")
    assert [c["id"] for c in store.open_calls("node-a")] == ["mine"]
    assert recover_open_calls(store, "node-a", load_scorecard(None)) == ["mine"]
    call = store.get_call("mine")
    assert call is not None and call["status"] == "interrupted" and call["end_reason"] == "server_restart"
    assert call["qa"] is not None and call["summary"] is not None
    assert store.get_call("other-node")["status"] == "live"  # type: ignore[index]
    assert store.open_calls("node-a") == []


def test_delete_and_retention(store: CallStore) -> None:
    add_call(store, "old", [("customer", "old words")], started_at=100.0)
    add_call(store, "new", [("customer", "new words")], started_at=time.time())
    store.finish_call("old", status="completed", end_reason="completed", ended_at=200.0, duration_s=1.0)
    assert store.delete_before(1000.0) == 1
    assert store.get_call("old") is None
    assert store.list_calls(CallQuery(text="old")).total == 0  # the search index forgets it too
    assert store.delete_before(time.time() + 10) == 0  # a live call is never deleted by retention
    assert store.delete_call("new") and not store.delete_call("new")
    assert store.count_utterances() == 0


def test_legs_of_a_conversation(store: CallStore) -> None:
    add_call(store, "leg1", [("customer", "hi")], platform_call_id="CONV-1", started_at=100.0)
    add_call(store, "leg2", [("customer", "hi again")], platform_call_id="CONV-1", started_at=200.0)
    add_call(store, "other", [("customer", "hi")], platform_call_id="CONV-2", caller_number="+1999", started_at=150.0)
    assert [c["id"] for c in store.find_by_platform_id("CONV-1")] == ["leg1", "leg2"]
    recent = store.recent_calls(platform_call_id="CONV-1", caller_number=None, since=0.0)
    assert [c["id"] for c in recent] == ["leg2", "leg1"]
    store.link_transfer("leg2", "leg1")
    assert store.get_call("leg2")["transferred_from"] == "leg1"  # type: ignore[index]


def test_agent_aggregates(store: CallStore) -> None:
    for i, (agent, score) in enumerate([("alice", 80.0), ("alice", 100.0), ("bob", 50.0)]):
        add_call(store, f"c{i}", [("agent", "hello")], agent_id=agent)
        qa = {
            "score": score,
            "items": [
                {"id": "greeting", "title": "Greeting", "status": "passed" if score > 60 else "failed", "weight": 1}
            ],
        }
        store.finish_call(f"c{i}", status="completed", end_reason="completed", ended_at=1.0, duration_s=1.0, qa=qa)
    from assist.qa.aggregate import aggregate

    stats = {agent: {"agent_id": agent, **a} for agent, a in aggregate(store.qa_results())["agents"].items()}
    assert stats["alice"]["calls"] == 2 and stats["alice"]["mean_score"] == pytest.approx(90.0)
    assert stats["bob"]["mean_score"] == pytest.approx(50.0)


def test_migrations_are_idempotent(store: CallStore) -> None:
    store.migrate()
    store.migrate()
    assert store.count_utterances() == 0


def test_a_revised_final_replaces_the_stored_one_and_a_repeat_does_not(store: CallStore) -> None:
    from assist.calllog.call import utterance_row

    store.start_call(call_row("rev"))
    first = final(0, "customer", "I need a new chat book", 1.0)
    store.append("rev", events=[(0, first)], utterances=[utterance_row(first)])
    revised = {**final(0, "customer", "I need a new checkbook", 1.0), "revision": 1}
    store.append("rev", events=[(1, revised)], utterances=[utterance_row(revised)])
    store.append("rev", events=[(0, first)], utterances=[utterance_row(first)])  # a retried older batch

    (row,) = store.utterances("rev")
    assert row["text"] == "I need a new checkbook" and row["revision"] == 1
    assert [e["text"] for e in store.events("rev")] == ["I need a new chat book", "I need a new checkbook"]
    assert [h["call_id"] for h in store.search_utterances("checkbook")] == ["rev"]
    assert store.search_utterances("chat") == []
