"""From socket records to measurements: send-time correction, cards, pushes, summaries."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from assist.bench.analysis import SendClock, analyse_call, intent_utterance, p95_with_lost, stats, summarise_run
from assist.bench.clients import StreamResult
from assist.bench.dataset import Recording
from assist.bench.reference import CallReference
from assist.bench.replay import CallRun
from assist.bench.scoring import RefSegment

REFS = [
    RefSegment("agent", 1.0, 2.0, "how can i help"),
    RefSegment("customer", 3.0, 5.0, "i lost my debit card"),
    RefSegment("agent", 6.0, 7.0, "i can help"),
]


def recording() -> Recording:
    return Recording(
        name="call-1",
        audio16=np.zeros((8 * 16000, 2), dtype=np.float32),
        speakers=("customer", "agent"),
        references=REFS,
        texts={"customer": "i lost my debit card", "agent": "how can i help i can help"},
        timed=True,
        intents=("replace card",),
        digest="abc",
    )


def final(speaker: str, uid: int, start: float, end: float, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "final",
        "speaker": speaker,
        "utterance_id": uid,
        "start_s": start,
        "end_s": end,
        "text": text,
        **extra,
    }


def make_run(lag_s: float = 0.0) -> CallRun:
    """Audio sent 0.1 s at a time but ``lag_s`` late; events arrive 0.4 s after the audio they cover."""
    ingest = StreamResult(started_wall=1000.0)
    ingest.sent = [(round(0.1 * i, 1), round(0.1 * i + lag_s, 3)) for i in range(1, 81)]
    latency = {"endpoint": 300.0, "queue": 5.0, "decode": 90.0, "total": 400.0}
    ingest.messages = [
        (2.4 + lag_s, final("agent", 0, 1.0, 2.0, "How can I help?", latency_ms=latency)),
        (
            4.0 + lag_s,
            {
                "type": "interim",
                "speaker": "customer",
                "utterance_id": 0,
                "start_s": 3.0,
                "end_s": 3.8,
                "text": "I lost",
            },
        ),
        (5.4 + lag_s, final("customer", 0, 3.0, 5.0, "I lost my debit card.", latency_ms=latency)),
        (7.4 + lag_s, final("agent", 1, 6.0, 7.0, "I can help.", latency_ms=latency)),
        (7.5 + lag_s, {"type": "call_ended"}),
    ]
    ingest.close_code = 1000
    sidebar = StreamResult(started_wall=999.0)  # opened a second earlier
    sidebar.messages = [
        (at + 1.0, {**m, "published_at": 1000.0 + at - 0.002}) for at, m in ingest.messages if m["type"] == "final"
    ]
    sidebar.messages.append(
        (
            6.5 + lag_s,  # = 5.5 s on the ingest clock
            {
                "type": "suggestion",
                "intent": "replace card",
                "at_s": 5.0,
                "match_ms": 12.0,
                "trigger": {"final": True},
                "published_at": 999.0 + 6.5 + lag_s - 0.001,
            },
        )
    )
    sidebar.messages.append(
        (7.0, {"type": "suggestion", "intent": "check balance", "at_s": 5.0, "published_at": 1005.999})
    )
    return CallRun(0, recording(), "native", "agent-0", ingest=ingest, sidebar=sidebar)


def test_stats_and_lost() -> None:
    st = stats([0.1, 0.2, None, 0.3])
    assert st["n"] == 3 and st["p50"] == pytest.approx(0.2) and st["max"] == pytest.approx(0.3)
    assert stats([])["p50"] is None
    assert math.isinf(p95_with_lost([0.1] * 19 + [None]))
    assert p95_with_lost([0.1] * 100) == pytest.approx(0.1)
    assert p95_with_lost([]) is None
    latencies: list[float | None] = [0.3, 0.4, 0.35, 2.3, 0.5, 0.45, 0.6, 0.38, 0.41, 0.9, 1.0, 0.33, 0.36, 0.37, 0.39]
    assert p95_with_lost(latencies) == pytest.approx(stats(latencies)["p95"])  # the table and the rule agree


def test_send_clock() -> None:
    clock = SendClock([(0.1, 0.15), (0.2, 0.25), (0.3, 0.4)])
    assert clock.at(0.2) == 0.25
    assert clock.at(0.15) == 0.25  # the frame that carried it
    assert clock.at(9.0) == 0.4
    assert clock.position(0.3) == 0.2
    assert clock.position(0.0) == 0.0


def test_intent_utterance() -> None:
    assert intent_utterance(REFS, 4.0) == REFS[1]
    assert intent_utterance(REFS, 5.2) == REFS[1]
    assert intent_utterance(REFS, 9.0) == REFS[1]  # the last customer turn begun before
    assert intent_utterance(REFS, 0.5) is None


@pytest.mark.parametrize("lag_s", [0.0, 0.7])
def test_call_latencies_are_measured_from_when_the_audio_left(lag_s: float) -> None:
    m = analyse_call(
        make_run(lag_s),
        CallReference({"customer": "i lost my debit card", "agent": "how can i help"}, [80.0, 90.0, 100.0]),
    )
    assert m.utterances == 3 and m.lost == 0
    assert m.final_latency_s == pytest.approx([0.4, 0.4, 0.4], abs=1e-6)  # whatever the client's own lag
    assert m.interim_lag_s == pytest.approx([0.2], abs=1e-6)
    assert m.endpoint_s == [0.3] * 3 and m.recognition_s == [0.09] * 3
    assert m.floor_compute_s == pytest.approx([0.08, 0.09, 0.1])
    assert m.floor_latency_s == pytest.approx([0.4, 0.41, 0.42])
    assert m.right_card and m.unrelated_cards == 1
    assert m.card_latency_s == pytest.approx(0.5, abs=1e-6)
    assert m.match_s == [0.012]
    assert all(0 <= p < 0.01 for p in m.push_s) and len(m.push_s) == 5
    assert m.sidebar_finals == m.finals == 3
    summary = m.summary()
    assert summary["wer"]["customer"]["streaming"] == 0.0
    assert summary["wer"]["agent"]["offline"] == pytest.approx(3 / 7)  # three of seven words missing


def test_errors_and_refusals_are_counted() -> None:
    run = make_run()
    run.ingest.messages.append((0.1, {"type": "error", "reason": "server is at its limit of 4 calls", "fatal": True}))
    m = analyse_call(run, None)
    assert m.refused and m.errors == ["server is at its limit of 4 calls"]
    assert m.floor_latency_s == []


def test_run_summary() -> None:
    measures = [analyse_call(make_run(), None), analyse_call(make_run(0.3), None)]
    summary = summarise_run(measures)
    assert summary["calls"] == 2 and summary["utterances"] == 6 and summary["lost"] == 0
    assert summary["latency"]["final_s"]["p95"] == pytest.approx(0.4, abs=1e-6)
    assert summary["cards"] == {
        "right": 2,
        "calls": 2,
        "right_rate": 1.0,
        "unrelated_total": 2,
        "unrelated_per_call": 1.0,
    }
    assert summary["wer"]["streaming"]["overall"] == 0.0
    assert summary["wer"]["offline"]["overall"] is None  # no offline reference given
    assert len(summary["per_call"]) == 2 and len(summary["samples"]["final_s"]) == 6
