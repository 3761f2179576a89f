"""The number reader: numerals, English number words and Chinese digits into digit items; amounts left alone."""

from __future__ import annotations

import pytest

from assist.calllog.redact.items import Item, read_items
from assist.calllog.redact.patterns import pattern_hits
from assist.calllog.redact.tokens import tokenise


def items(text: str) -> list[Item]:
    return read_items(tokenise(text, pattern_hits(text, set())))


def digits(text: str) -> list[str]:
    return [it.digits for it in items(text) if it.kind == "num"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111", ["4111", "1111"]),
        ("four one one one", ["4", "1", "1", "1"]),
        ("oh four", ["0", "4"]),
        ("double four", ["44"]),
        ("triple 1", ["111"]),
        ("twenty seven", ["27"]),
        ("twenty-seven", ["27"]),
        ("seventy oh", ["70", "0"]),
        ("four hundred and twelve", ["412"]),
        ("two thousand twenty seven", ["2027"]),
        ("幺三八", ["1", "3", "8"]),
        ("零二一", ["0", "2", "1"]),
        ("４１", ["41"]),  # full-width digits
        ("11010519491231002X", ["11010519491231002X"]),
        ("one x", ["1", "X"]),
        ("3rd A12 4G", []),
    ],
)
def test_digits_read(text: str, expected: list[str]) -> None:
    assert digits(text) == expected


def test_months_and_the_verb_may() -> None:
    assert [(it.kind, it.digits) for it in items("May 2027")] == [("month", "05"), ("num", "2027")]
    assert [it.kind for it in items("you may")] == ["stop", "stop"]


def test_claimed_spans_are_not_read() -> None:
    assert digits("call 202-555-0143 or 4111") == ["4111"]


@pytest.mark.parametrize(
    "text",
    ["I paid $250", "since 2015", "49.99", "at ten thirty", "12 years", "二十五元", "2024-05-03", "03.05.2024"],
)
def test_amounts_years_dates_and_times_are_excluded(text: str) -> None:
    nums = [it for it in items(text) if it.kind == "num"]
    assert nums
    assert all(it.excluded for it in nums)


@pytest.mark.parametrize("text", ["the card ending in 2019", "4111 1111", "one two three", "Oh, 1234"])
def test_identifiers_are_not_excluded(text: str) -> None:
    assert not any(it.excluded for it in items(text))
