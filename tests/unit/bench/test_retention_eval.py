"""The retention evaluation's scripts and its scoring of precision, recall and ranking."""

from __future__ import annotations

import csv

from assist.bench.retention_eval import CUSTOMERS, load_scripts, report
from assist.knowledge.corpus import load_kb
from tests.conftest import REPO_ROOT

PATTERNS = {"silent", "slowly_escalating", "repeat_caller", "valuable_unresolved", "loud_churn"}


def test_the_scripts_label_enough_calls_of_each_kind() -> None:
    calls = load_scripts()
    with CUSTOMERS.open(encoding="utf-8") as handle:
        known = {row["phone"] for row in csv.DictReader(handle)}
    intents = {a.intent for a in load_kb(REPO_ROOT / "kb" / "telecom").articles if a.language == "en"}
    assert len(calls) >= 40 and sum(c["at_risk"] for c in calls) >= 15
    assert {c["pattern"] for c in calls if c["at_risk"]} == PATTERNS
    assert all(c["caller"] in known and c["intent"] in intents for c in calls)
    assert len({c["id"] for c in calls}) == len(calls)


def test_precision_recall_and_ranking_inversions() -> None:
    calls = [
        {"id": "a", "caller": "+1", "at_risk": True, "pattern": "silent"},
        {"id": "b", "caller": "+2", "at_risk": False, "pattern": "satisfied"},
        {"id": "c", "caller": "+3", "at_risk": True, "pattern": "loud_churn"},
    ]
    found = {
        "a": {"at_risk": True, "score": 0.7, "priority": 2.8},
        "b": {"at_risk": True, "score": 0.6, "priority": 0.6},
        "c": {"at_risk": True, "score": 0.7, "priority": 0.7},
    }
    result = report(calls, found, {"+1": "vip", "+2": "standard", "+3": "standard"})
    assert result["precision"] == 2 / 3 and result["recall"] == 1.0
    assert result["valuable_below_standard_at_equal_risk"] == 0
    found["a"]["priority"] = 0.5  # a VIP below a standard customer at the same risk
    assert (
        report(calls, found, {"+1": "vip", "+2": "standard", "+3": "standard"})["valuable_below_standard_at_equal_risk"]
        == 1
    )
