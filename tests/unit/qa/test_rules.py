"""The QA scorecard rules: each rule over the default scorecard, scores, results (en, zh)."""

from __future__ import annotations

import json

from assist.qa.rules import score_call
from assist.qa.scorecard_config import parse_scorecard
from tests.unit.qa.calls import ITEMS, CallBuilder, bad_call, chinese_call, good_call, live_call, statuses

# -- the default scorecard -----------------------------------------------------------------------------


def test_good_call_passes_every_item_with_evidence() -> None:
    result = score_call(good_call())
    assert statuses(result) == dict.fromkeys(ITEMS, "passed")
    assert result.score == 100.0
    assert (result.call_id, result.agent_id, result.language) == ("call-1", "alice", "en")
    identity = result.item("identity_verified_before_account_details")
    assert identity.evidence is not None
    assert "date of birth" in identity.evidence["text"]
    assert identity.evidence["speaker"] == "agent"
    offer = result.item("eligible_offer_made")
    assert offer.evidence is not None and "Premium card" in offer.evidence["text"]
    closing = result.item("proper_closing")
    assert closing.evidence is not None and closing.evidence["text"].startswith("Thank you for calling")


def test_bad_call_fails_every_item_and_says_why() -> None:
    result = score_call(bad_call())
    assert statuses(result) == dict.fromkeys(ITEMS, "failed")
    assert result.score == 0.0
    identity = result.item("identity_verified_before_account_details")
    assert identity.evidence is not None and identity.evidence["text"].startswith("Your balance is")
    assert "before any identity check" in identity.note
    empathy = result.item("empathy_when_negative")
    assert "escalation signal" in empathy.note
    assert "Goodwill fee refund" in result.item("eligible_offer_made").note


def test_chinese_call() -> None:
    result = score_call(chinese_call())
    assert result.language == "zh"
    assert statuses(result) == dict.fromkeys(ITEMS, "passed")
    assert "核实" in result.item("identity_verified_before_account_details").note


def test_not_applicable_items_leave_the_score() -> None:
    events = (
        CallBuilder()
        .agent("Hello, how can I help?")
        .customer("I'd like to know your branch opening hours please.")
        .agent("Sure, I can help with that. We open at nine.")
        .agent("Is there anything else?")
        .customer("No thanks.")
        .agent("Okay.")
        .end()
    )
    result = score_call(events)
    assert statuses(result) == {
        "greeting": "passed",
        "identity_verified_before_account_details": "not_applicable",
        "problem_acknowledged": "passed",
        "empathy_when_negative": "not_applicable",
        "resolution_confirmed": "passed",
        "eligible_offer_made": "not_applicable",
        "proper_closing": "failed",
    }
    # weights 1 + 1 + 1 passed of 1 + 1 + 1 + 1 applicable
    assert result.score == 75.0
    assert result.item("eligible_offer_made").note == "no offer was shown"
    assert result.item("empathy_when_negative").note == "the customer was not negative"


def test_a_call_the_agent_never_spoke_in_has_no_score() -> None:
    events = CallBuilder().customer("Hello? Hello?").end("caller_hangup")
    result = score_call(events)
    assert set(statuses(result).values()) == {"not_applicable"}
    assert result.score is None
    assert result.item("greeting").note == "the agent did not speak"


def test_negative_words_without_a_signal_make_empathy_applicable() -> None:
    events = (
        CallBuilder()
        .agent("Hello, how can I help?")
        .customer("My router is broken again and I'm fed up with it.")
        .agent("I'm sorry to hear that, let me look into it.")
        .end()
    )
    empathy = score_call(events).item("empathy_when_negative")
    assert empathy.status == "passed"
    assert "fed up" in empathy.note


def test_offer_counts_as_made_from_feedback() -> None:
    events = (
        CallBuilder()
        .agent("Hello")
        .customer("I lost my card")
        .offer("premium-card-upgrade", "Premium card upgrade", "replace card")
        .feedback("offer:premium-card-upgrade", "offered")
        .end()
    )
    offer = score_call(events).item("eligible_offer_made")
    assert offer.status == "passed"
    assert "marked offered" in offer.note


def test_mentioning_an_offer_before_it_was_shown_does_not_count() -> None:
    events = (
        CallBuilder()
        .agent("Hello, you could upgrade to a premium card")
        .customer("I lost my card")
        .offer("premium-card-upgrade", "Premium card upgrade", "replace card")
        .agent("Let me order a new one.")
        .end()
    )
    assert score_call(events).item("eligible_offer_made").status == "failed"


def test_greeting_after_the_opening_does_not_count() -> None:
    builder = CallBuilder().agent("Right.").agent("Go on.").agent("Yes.", 40).agent("Hello there.")
    assert score_call(builder.end()).item("greeting").status == "failed"


def test_a_live_call_can_be_scored() -> None:
    result = score_call(live_call())
    assert result.score is not None
    assert result.item("greeting").status == "passed"
    assert result.item("eligible_offer_made").status == "passed"


def test_result_dict_is_json_ready() -> None:
    data = score_call(good_call()).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["scorecard"] == {"name": "default", "version": "1.0"}
    assert data["counts"] == {"passed": 7, "failed": 0, "not_applicable": 0}
    item = data["items"][0]
    assert set(item) == {"id", "title", "status", "weight", "evidence", "note"}
    assert set(item["evidence"]) == {"utterance_id", "speaker", "start_s", "text"}


# -- a language without phrases ----------------------------------------------------------------------


def test_a_language_with_no_phrases_is_not_applicable() -> None:
    card = parse_scorecard(
        "name: zh-only\nitems:\n- {id: hello, title: Hello, weight: 1, rule: anywhere, phrases: {zh: [您好]}}\n"
    )
    assert score_call(good_call(), card).item("hello").note == "no phrases for language 'en'"
    assert score_call(chinese_call(), card).item("hello").status == "passed"
