"""The scorecard and summary over real contact-centre dialogue: the reference transcripts of the
shared Harper Valley calls (../shared/data/calls), turned into the finals a call would produce.
Structure and sanity only: the scores themselves are what the scorecard is for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assist.qa.aggregate import aggregate
from assist.qa.rules import score_call
from assist.qa.scorecard_config import load_scorecard
from assist.qa.summary import summarize, transfer_note

CALLS = 8


def reference_events(path: Path) -> list[dict[str, Any]]:
    call = json.loads(path.read_text(encoding="utf-8"))
    events: list[dict[str, Any]] = [
        {
            "type": "call_started",
            "call_id": call["sid"],
            "agent_id": call["source"]["agent_name"],
            "caller": {"name": call["source"]["caller_name"]},
            "language": "en",
        }
    ]
    ids = {"customer": 0, "agent": 0}
    for segment in call["segments"]:
        ids[segment["speaker"]] += 1
        events.append(
            {
                "type": "final",
                "speaker": segment["speaker"],
                "utterance_id": ids[segment["speaker"]],
                "start_s": segment["start_s"],
                "end_s": segment["end_s"],
                "text": segment["text"],
                "confidence": 1.0,
            }
        )
    events.append({"type": "call_ended", "reason": "completed"})
    return events


@pytest.fixture(scope="module")
def calls(shared_data: Path) -> list[list[dict[str, Any]]]:
    paths = sorted(p for p in (shared_data / "calls").glob("*.json") if p.name != "MANIFEST.json")
    if not paths:
        pytest.skip("no reference calls")
    return [reference_events(p) for p in paths[:CALLS]]


def test_scorecard_over_reference_calls(calls: list[list[dict[str, Any]]]) -> None:
    card = load_scorecard()
    results = [score_call(events, card) for events in calls]
    for events, result in zip(calls, results, strict=True):
        texts = {(e["speaker"], e["utterance_id"]): e["text"] for e in events if e["type"] == "final"}
        assert result.score is not None and 0.0 <= result.score <= 100.0
        assert [i.id for i in result.items] == [i.id for i in card.items]
        for item in result.items:
            assert item.status in ("passed", "failed", "not_applicable")
            assert item.note
            if item.evidence is not None:  # evidence is a real utterance of this call
                assert texts[(item.evidence["speaker"], item.evidence["utterance_id"])] == item.evidence["text"]
        # Nothing offered, no signals: those items never apply to a bare transcript.
        assert result.item("eligible_offer_made").status == "not_applicable"
    # Every Harper Valley agent opens with a greeting and asks whether there is anything else.
    greeted = sum(r.item("greeting").status == "passed" for r in results)
    confirmed = sum(r.item("resolution_confirmed").status == "passed" for r in results)
    assert greeted >= CALLS - 1 and confirmed >= CALLS - 1
    stats = aggregate((r.agent_id or "unknown", r) for r in results)
    assert stats["overall"]["calls"] == len(results)
    assert sum(a["calls"] for a in stats["agents"].values()) == len(results)
    assert stats["overall"]["items"]["greeting"]["pass_rate"] >= 0.85


def test_summary_over_reference_calls(calls: list[list[dict[str, Any]]]) -> None:
    for events in calls:
        summary = summarize(events)
        assert summary.outcome in ("resolved", "escalated", "unresolved", "abandoned")
        assert summary.live is False and summary.duration_s > 0
        assert summary.request  # the customer always says why they call
        assert summary.text
        note = transfer_note(events[: len(events) // 2])  # as if transferred half way through
        assert note.startswith("Caller: ") and "Verified: " in note
    assert sum(summarize(events).outcome == "resolved" for events in calls) >= CALLS // 2
