"""Text matching for the QA scorecard: normalisation and phrases per language (en, zh)."""

from __future__ import annotations

import pytest

from assist.qa.text import Normalized, PhraseSet, normalize


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


def test_chinese_phrases_match_what_the_recogniser_misheard_by_their_sound() -> None:
    from assist.qa.text import Normalized, PhraseSet

    phrases = PhraseSet.of({"zh": ["感谢您的来电", "祝您生活愉快", "再见"]})
    assert phrases.search(Normalized.of("感谢您的来店。"), "zh") == (0, "感谢您的来电")  # 店 for 电
    assert phrases.search(Normalized.of("好的，住宁生活愉快。"), "zh") == (2, "祝您生活愉快")  # zhu ning, zhu nin
    assert phrases.search(Normalized.of("再建"), "zh") is None  # two characters: by characters only
