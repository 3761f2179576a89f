"""The stored review of a finished call: never worded as a call in progress, whether its
``call_ended`` was logged yet (a call closing) or never (a node that died mid-call)."""

from __future__ import annotations

from assist.qa.review import review
from assist.qa.scorecard_config import default_scorecard
from tests.unit.qa.calls import live_call


def test_a_finished_call_without_its_end_event_is_summarised_as_finished() -> None:
    events = [e for e in live_call() if e.get("type") != "call_ended"]
    _, summary = review(events, default_scorecard())
    assert summary["live"] is False and "so far" not in summary["text"] and "in progress" not in summary["text"]
    _, interrupted = review(events, default_scorecard(), "node_lost")
    assert interrupted["live"] is False
