"""The retention evaluation's scripts and its scoring of precision, recall and ranking."""

from __future__ import annotations

import csv

import pytest

from assist.bench.retention_eval import CUSTOMERS, SETS, load_scripts, report
from assist.bench.voices import voice
from assist.bench.zh_voice import ZH_VOICES_BY_NAME
from assist.knowledge.corpus import load_kb
from tests.conftest import REPO_ROOT

PATTERNS = {"silent", "slowly_escalating", "repeat_caller", "valuable_unresolved", "loud_churn"}


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_scripts_label_enough_calls_of_each_kind(name: str) -> None:
    calls = load_scripts(SETS[name].scripts)
    with CUSTOMERS.open(encoding="utf-8") as handle:
        known = {row["phone"] for row in csv.DictReader(handle)}
    chosen = SETS[name]
    intents = {a.intent for a in load_kb(REPO_ROOT / "kb" / "telecom").articles if a.language == chosen.language}
    least = {
        "tuning": 40,
        "held-out": 30,
        "zh-tuning": 24,
        "zh": 18,
        "held-out-2": 24,
        "held-out-3": 24,
        "held-out-4": 24,
    }.get(name, 18)
    assert len(calls) >= least and sum(c["at_risk"] for c in calls) >= least // 2 - 1
    assert {c["pattern"] for c in calls if c["at_risk"]} == PATTERNS
    assert all(c["caller"] in known and c["intent"] in intents for c in calls)
    assert len({c["id"] for c in calls}) == len(calls)
    assert all(len(turn) == 3 and turn[0] in ("agent", "customer") for c in calls for turn in c["turns"])


@pytest.mark.parametrize(("tuning_set", "name"), [("tuning", "held-out"), ("zh-tuning", "zh")])
def test_the_held_out_sets_are_apart_from_the_tuning_set(tuning_set: str, name: str) -> None:
    tuning, held_out = (load_scripts(SETS[n].scripts) for n in (tuning_set, name))
    assert not {c["id"] for c in tuning} & {c["id"] for c in held_out}
    assert not {c["caller"] for c in tuning} & {c["caller"] for c in held_out}
    # spoken by the speech benchmarks' held-out voices, which no setting was tuned on
    assert all(
        ZH_VOICES_BY_NAME[v].held_out if v in ZH_VOICES_BY_NAME else voice(v).held_out
        for v in SETS[name].voices.values()
    )


def test_every_set_has_calls_of_its_own() -> None:
    """The later held-out sets were written apart too: no call shared with any other set."""
    ids = [c["id"] for name in SETS for c in load_scripts(SETS[name].scripts)]
    assert len(ids) == len(set(ids))


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
