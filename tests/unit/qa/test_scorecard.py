"""The QA scorecard: loading and validating YAML, each rule, scores, aggregates (en, zh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assist.errors import ConfigError
from assist.qa.scorecard import (
    Normalized,
    PhraseSet,
    QaResult,
    Scorecard,
    ScorecardError,
    aggregate,
    load_scorecard,
    normalize,
    parse_scorecard,
    score_call,
)
from tests.unit.qa.calls import CallBuilder, bad_call, chinese_call, good_call, live_call

ITEMS = (
    "greeting",
    "identity_verified_before_account_details",
    "problem_acknowledged",
    "empathy_when_negative",
    "resolution_confirmed",
    "eligible_offer_made",
    "proper_closing",
)


def statuses(result: QaResult) -> dict[str, str]:
    return {item.id: item.status for item in result.items}


# -- text matching -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've blocked it!", "i have blocked it"),
        ("We’ll send you a card.", "we will send you a card"),
        ("I can't, won't, didn't", "i cannot will not did not"),
        ("Your card [card] is BLOCKED", "your card card is blocked"),
        ("  thank-you,   for calling ", "thank you for calling"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_phrases_match_whole_words_case_and_punctuation_insensitively() -> None:
    phrases = PhraseSet.of({"en": ["hi", "I'm sorry", "thank you for calling"]})
    assert phrases.search(Normalized.of("This is Harper Valley"), "en") is None  # "hi" inside "this"
    assert phrases.search(Normalized.of("Oh, I am SORRY."), "en") == (3, "I'm sorry")
    assert phrases.search(Normalized.of("Thank you, for calling!"), "en") is not None


def test_chinese_phrases_match_as_substrings_and_other_languages_fall_back_to_english() -> None:
    phrases = PhraseSet.of({"en": ["hello"], "zh": ["感谢您的来电"]})
    assert phrases.search(Normalized.of("好的，感谢 您的来电！"), "zh") is not None
    assert phrases.search(Normalized.of("hello there"), "zh") is None
    assert phrases.search(Normalized.of("hello there"), "es") is not None
    assert phrases.search(Normalized.of("好的，感谢您的来电"), "zh-CN") is not None


# -- the default scorecard -----------------------------------------------------------------------------


def test_default_scorecard_ships_with_the_package() -> None:
    card = load_scorecard()
    assert card.name == "default"
    assert card.version == "1.0"
    assert tuple(item.id for item in card.items) == ITEMS
    assert all(item.weight > 0 for item in card.items)


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


# -- custom scorecards ---------------------------------------------------------------------------------

CUSTOM = """
name: retail
version: 3
items:
- id: brand_greeting
  title: Says the brand name
  weight: 2
  rule: opening
  first_n: 1
  phrases:
    en: [harper valley]
    zh: [流明]
- id: says_goodbye
  title: Says goodbye
  weight: 1
  rule: closing
  last_n: 1
  phrases:
    en: [goodbye]
"""


def test_custom_scorecard_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "retail.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    card = load_scorecard(path)
    assert (card.name, card.version, [i.id for i in card.items]) == ("retail", "3", ["brand_greeting", "says_goodbye"])
    result = score_call(good_call(), card)
    assert statuses(result) == {"brand_greeting": "passed", "says_goodbye": "passed"}
    events = CallBuilder().agent("Harper Valley National Bank, hello").agent("Have a nice day").end()
    assert score_call(events, card).score == pytest.approx(66.7)
    # Chinese phrases for the Chinese call; English ones where a language has none of its own.
    zh = score_call(chinese_call(), card)
    assert zh.item("brand_greeting").status == "passed"
    assert zh.item("says_goodbye").status == "failed"


def test_a_language_with_no_phrases_is_not_applicable() -> None:
    card = parse_scorecard(
        "name: zh-only\nitems:\n- {id: hello, title: Hello, weight: 1, rule: anywhere, phrases: {zh: [您好]}}\n"
    )
    assert score_call(good_call(), card).item("hello").note == "no phrases for language 'en'"
    assert score_call(chinese_call(), card).item("hello").status == "passed"


H = "name: x\nitems:\n"
GOOD_ITEM = "- {id: hello, title: Hello, weight: 1, rule: anywhere, phrases: {en: [hello]}}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nitems: [\n", "x.yaml:3: invalid YAML"),
        ("- just a list\n", "expected a mapping with name"),
        ("name: x\nitems: []\n", "items: List should have at least 1 item"),
        ("name: x\ncolour: red\nitems:\n" + GOOD_ITEM, "colour: Extra inputs are not permitted"),
        (
            "name: x\nitems:\n- {id: hello, title: Hello, rule: anywhere, phrases: {en: [hi]}}\n",
            "item 1 ('hello'): weight",
        ),
        (
            "name: x\nitems:\n" + GOOD_ITEM + "- {id: bye, title: Bye, weight: 1, rule: farewell}\n",
            "item 2 ('bye'): rule",
        ),
        (
            "name: x\nitems:\n- {id: bye, title: Bye, weight: -1, rule: closing, phrases: {en: [bye]}}\n",
            "greater than 0",
        ),
        ("name: x\nitems:\n- {id: bye, title: Bye, weight: 1, rule: closing}\n", "rule 'closing' needs 'phrases'"),
        (
            "name: x\nitems:\n- {id: v, title: V, weight: 1, rule: before, phrases: {en: [verify]}}\n",
            "needs 'before_phrases'",
        ),
        (
            "name: x\nitems:\n- {id: e, title: E, weight: 1, rule: after_negative, phrases: {en: [sorry]}}\n",
            "needs 'signal_kinds' or 'negative_phrases'",
        ),
        (
            "name: x\nitems:\n- {id: bye, title: Bye, weight: 1, rule: closing, within_s: 3, phrases: {en: [bye]}}\n",
            "item 1 ('bye'): 'within_s' is not used by rule 'closing'",
        ),
        ("name: x\nitems:\n- {id: bye, title: Bye, weight: 1, rule: closing, phrases: {en: ['!!']}}\n", "has no words"),
        ("name: x\nitems:\n" + GOOD_ITEM + GOOD_ITEM, "duplicate item ids ['hello']"),
        ("name: x\nitems:\n- hello\n", "item 1: expected a mapping"),
    ],
)
def test_broken_scorecards_are_reported_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScorecardError) as caught:
        load_scorecard(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_missing_scorecard_file(tmp_path: Path) -> None:
    with pytest.raises(ScorecardError, match="cannot read scorecard"):
        load_scorecard(tmp_path / "nope.yaml")


# -- aggregates ----------------------------------------------------------------------------------------


def test_aggregate_per_agent_ignores_not_applicable() -> None:
    good, bad = score_call(good_call()), score_call(bad_call())
    silent = score_call(CallBuilder().customer("Hello?").end())
    quiet_offerless = score_call(
        CallBuilder().agent("Hello, how can I help?").customer("What time do you open on Saturday?").end()
    )
    stats = aggregate([("alice", good), ("alice", bad.to_dict()), ("bob", silent), ("bob", quiet_offerless.to_dict())])
    assert list(stats["agents"]) == ["alice", "bob"]
    alice, bob = stats["agents"]["alice"], stats["agents"]["bob"]
    assert (alice["calls"], alice["scored_calls"], alice["mean_score"]) == (2, 2, 50.0)
    assert alice["items"]["greeting"] == {
        "title": "Greets the caller",
        "passed": 1,
        "failed": 1,
        "not_applicable": 0,
        "pass_rate": 0.5,
    }
    assert (bob["calls"], bob["scored_calls"], bob["mean_score"]) == (2, 1, 25.0)
    assert bob["items"]["eligible_offer_made"]["pass_rate"] is None
    assert bob["items"]["greeting"]["pass_rate"] == 1.0
    assert (stats["overall"]["calls"], stats["overall"]["mean_score"]) == (4, 41.7)
    assert json.loads(json.dumps(stats)) == stats
    assert aggregate([]) == {
        "agents": {},
        "overall": {"calls": 0, "scored_calls": 0, "mean_score": None, "items": {}},
    }


def test_scorecard_type_is_reusable() -> None:
    card = load_scorecard()
    assert isinstance(card, Scorecard)
    assert card.item("greeting").rule == "opening"
    with pytest.raises(KeyError):
        card.item("nope")
