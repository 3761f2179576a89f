"""The QA scorecard as configuration: the packaged default, custom files, validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.errors import ConfigError
from assist.qa.rules import score_call
from assist.qa.scorecard_config import Scorecard, ScorecardError, load_scorecard
from tests.unit.qa.calls import ITEMS, CallBuilder, chinese_call, good_call, statuses


def test_default_scorecard_ships_with_the_package() -> None:
    card = load_scorecard()
    assert card.name == "default"
    assert card.version == "1.0"
    assert tuple(item.id for item in card.items) == ITEMS
    assert all(item.weight > 0 for item in card.items)


def test_scorecard_type_is_reusable() -> None:
    card = load_scorecard()
    assert isinstance(card, Scorecard)
    assert card.item("greeting").rule == "opening"
    with pytest.raises(KeyError):
        card.item("nope")


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
