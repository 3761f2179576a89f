"""The wrap-up proposal: the disposition from what the agent acted on, the pinned topic, the
signals; the outcome from the summary; the lists each knowledge base ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.errors import ConfigError
from assist.qa.disposition import OUTCOMES, load_dispositions, propose
from tests.unit.qa.calls import CallBuilder, good_call

REPO_ROOT = Path(__file__).resolve().parents[3]
BANK = load_dispositions(REPO_ROOT / "kb" / "bank")


def test_the_used_card_decides_over_a_topic_merely_shown() -> None:
    events = good_call()  # replace card (used) and report fraud (shown)
    proposal = propose(events, BANK)
    assert proposal["disposition"] == "cards" and "used" in proposal["why"]
    assert proposal["outcome"] == "resolved" and proposal["summary"].startswith("Patricia Brown")
    assert proposal["outcome"] in OUTCOMES


def test_the_pinned_topic_then_the_default() -> None:
    call = (
        CallBuilder()
        .customer("what time do you open tomorrow")
        .suggestion("branch-hours", "get branch hours", "Branch hours")
    )
    assert propose(call.events, BANK)["disposition"] == "branch"
    assert propose(CallBuilder().customer("hello").events, BANK)["disposition"] == "general"


def test_a_churn_signal_makes_it_a_retention_call() -> None:
    call = CallBuilder().customer("I want to close my account, I'm moving to another bank")
    call = call.suggestion("close-account", "close account", "Close an account")
    call.events.append({"type": "signal", "kind": "churn", "severity": "high", "at_s": 3.0})
    proposal = propose(call.events, BANK)
    assert proposal["disposition"] == "retention" and proposal["why"] == "the churn signal"


def test_every_shipped_list_loads_and_a_broken_one_is_named(tmp_path: Path) -> None:
    for kb in ("bank", "telecom"):
        codes = [d.code for d in load_dispositions(REPO_ROOT / "kb" / kb)]
        assert codes and len(codes) == len(set(codes))
    assert [d.code for d in load_dispositions(None)][-1] == "general"
    (tmp_path / "dispositions.yaml").write_text("dispositions: [{label: no code}]")
    with pytest.raises(ConfigError, match=r"dispositions\.yaml"):
        load_dispositions(tmp_path)
    (tmp_path / "dispositions.yaml").write_text("dispositions: [{code: a, label: A}, {code: a, label: B}]")
    with pytest.raises(ConfigError, match="distinct"):
        load_dispositions(tmp_path)
