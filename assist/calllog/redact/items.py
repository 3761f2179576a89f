"""The number reader: tokens into items (digit items, months, separators, stops), amounts and dates marked.

Numerals, English number words ("oh", "double four", "twenty seven", "four hundred and twelve") and Chinese digit
characters become digit items. A number next to a currency sign or a unit, a year after "since", a date, a decimal
or a time is marked excluded: amounts, counts and durations are not identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assist.calllog.redact.tokens import Token

_UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_UNITS |= {"six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16}
_TEENS |= {"seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_REPEATS = {"double": 2, "triple": 3}
_ZH_DIGITS = {"零": "0", "〇": "0", "○": "0", "幺": "1", "一": "1", "两": "2", "二": "2", "三": "3", "四": "4"}
_ZH_DIGITS |= {"五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sept sep",
            "october oct",
            "november nov",
            "december dec",
        ],
        start=1,
    )
    for name in names.split()
}
_SEPARATORS = frozenset("-–—‐,.，、。．") | {"dash", "hyphen", "slash"}
_PLUS = frozenset({"+", "plus"})
_X = frozenset({"x", "叉"})  # the resident ID's check character, written or said
# Amounts, counts and durations are not identifiers: a number next to these is left alone.
_CURRENCY = frozenset("$£€¥￥")
_MONEY_AFTER = {"dollars", "dollar", "bucks", "pounds", "pound", "quid", "euros", "euro", "cents", "cent", "pence"}
_TIME_AFTER = {"years", "year", "yrs", "months", "month", "weeks", "week", "days", "day", "hours", "hour", "hrs"}
_TIME_AFTER |= {"minutes", "minute", "mins", "seconds", "secs", "times", "am", "pm"}
_COUNT_AFTER = {"percent", "%", "kg", "km", "miles", "lbs", "people", "items"}
_ZH_AFTER = set("元块角毛分岁年月日号天个次点万千百十亿周秒小钟")  # 25元, 3号 (a date), 十 (in 二十五)
_UNIT_AFTER = frozenset(_MONEY_AFTER | _TIME_AFTER | _COUNT_AFTER | _ZH_AFTER)
_YEAR_BEFORE = frozenset({"since", "in", "from", "until", "till", "before", "after"})


@dataclass(slots=True)
class Item:
    kind: str  # num, month, sep, plus, stop
    start: int
    end: int
    text: str  # lower-cased token text
    digits: str = ""  # num: the digits read ("X" for a check character); month: "01".."12"
    source: str = ""  # num: "numeral", "word" (English number words) or "cjk" (Chinese digit characters)
    excluded: bool = False  # an amount, count, duration or year


def _lower_word(tokens: Sequence[Token], j: int) -> str | None:
    return tokens[j].text.lower() if j < len(tokens) and tokens[j].kind == "word" else None


def _read_below_100(tokens: Sequence[Token], j: int) -> tuple[int, int] | None:
    """'seven', 'seventeen', 'seventy', 'seventy-seven' -> (value, next token)."""
    w = _lower_word(tokens, j)
    if w in _TEENS:
        return _TEENS[w], j + 1
    if w in _TENS:
        k = j + 1
        if k < len(tokens) and tokens[k].text == "-" and tokens[k].start == tokens[j].end:  # twenty-seven
            k += 1
        unit = _lower_word(tokens, k)
        if unit in _UNITS and _UNITS[unit] and unit not in ("o", "oh"):
            return _TENS[w] + _UNITS[unit], k + 1
        return _TENS[w], j + 1
    if w is not None and _UNITS.get(w):
        return _UNITS[w], j + 1
    return None


def _read_scaled(tokens: Sequence[Token], i: int) -> tuple[str, int]:
    """'four hundred and twelve', 'two thousand twenty seven' (card readers seldom say these; years do)."""
    scale = 100 if _lower_word(tokens, i + 1) == "hundred" else 1000
    value, j = _UNITS[_lower_word(tokens, i) or ""] * scale, i + 2
    w = _lower_word(tokens, j)
    if scale == 1000 and w in _UNITS and _UNITS[w] and _lower_word(tokens, j + 1) == "hundred":
        value, j = value + _UNITS[w] * 100, j + 2
    if _lower_word(tokens, j) == "and" and _read_below_100(tokens, j + 1):
        j += 1
    rest = _read_below_100(tokens, j)
    if rest:
        value, j = value + rest[0], rest[1]
    return str(value), j


def _read_number_words(tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """English number words at token i -> (digits, next token), or None."""
    w = _lower_word(tokens, i)
    if w in _REPEATS:  # double four, triple 1
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        digit = _lower_word(tokens, i + 1)
        if digit in _UNITS:
            return str(_UNITS[digit]) * _REPEATS[w], i + 2
        if nxt is not None and nxt.kind == "num" and len(nxt.text) == 1:
            return _to_ascii(nxt.text) * _REPEATS[w], i + 2
        return None
    if w in _UNITS:
        if _UNITS[w] and _lower_word(tokens, i + 1) in ("hundred", "thousand"):
            return _read_scaled(tokens, i)
        return str(_UNITS[w]), i + 1
    below = _read_below_100(tokens, i)
    return (str(below[0]), below[1]) if below else None


def _to_ascii(digits: str) -> str:
    """Any script's decimal digits (full-width too) as ASCII."""
    return "".join(str(int(ch)) if ch.isdecimal() else ch.upper() for ch in digits)


def read_items(tokens: Sequence[Token]) -> list[Item]:
    """The tokens as items, with amounts, counts, durations, dates, years and times marked excluded."""
    items: list[Item] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.text.lower()
        parsed = _read_number_words(tokens, i) if tok.kind == "word" else None
        if parsed:
            digits, j = parsed
            items.append(Item("num", tok.start, tokens[j - 1].end, low, digits, "word"))
            i = j
            continue
        if tok.kind == "num":
            items.append(Item("num", tok.start, tok.end, low, _to_ascii(tok.text), "numeral"))
        elif tok.kind == "cjk" and tok.text in _ZH_DIGITS:
            items.append(Item("num", tok.start, tok.end, low, _ZH_DIGITS[tok.text], "cjk"))
        elif low in _X and tok.kind in ("word", "cjk"):
            items.append(Item("num", tok.start, tok.end, low, "X", tok.kind))
        elif tok.kind == "word" and low in _MONTHS and tok.text != "may":  # "may" the verb; Whisper writes "May"
            items.append(Item("month", tok.start, tok.end, low, f"{_MONTHS[low]:02d}"))
        elif low in _SEPARATORS:
            items.append(Item("sep", tok.start, tok.end, low))
        elif low in _PLUS:
            items.append(Item("plus", tok.start, tok.end, low))
        else:
            items.append(Item("stop", tok.start, tok.end, low))
        i += 1
    _mark_amounts(items)
    return items


def _mark_amounts(items: list[Item]) -> None:
    """Exclude amounts, counts, durations, dates, years and times ("$4,111.50", "12 years", "since 2015")."""
    i = 0
    while i < len(items):
        if items[i].kind != "num":
            i += 1
            continue
        j = i + 1
        while j < len(items) and _one_number(items[j - 1], items[j]):
            j += 1
        while items[j - 1].kind == "sep":
            j -= 1
        before = items[i - 1].text if i else ""
        after = items[j].text if j < len(items) else ""
        digits = "".join(it.digits for it in items[i:j])
        ending_in = i > 1 and items[i - 2].text in ("ending", "ends")  # the card ending in 2019
        is_year = before in _YEAR_BEFORE and not ending_in and len(digits) == 4 and digits[:2] in ("19", "20")
        written = "".join(it.text for it in items[i:j])
        is_date = _DATE_RE.fullmatch(written) is not None
        is_decimal = _DECIMAL_RE.fullmatch(written) is not None  # 49.99, 2.5
        is_time = before in ("at", "around") and items[i].source == "word" and len(digits) <= 4  # at ten thirty
        if before in _CURRENCY or after in _UNIT_AFTER or is_year or is_date or is_decimal or is_time:
            for it in items[i:j]:
                it.excluded = True
        i = j


def _one_number(a: Item, b: Item) -> bool:
    """Read as one number: tight (4,111.50, 2024-05-03, 四千五) or number words in a row (twenty twenty four)."""
    tight = b.start == a.end and b.kind in ("num", "sep")
    return tight or a.source == b.source == "word"


_DAY, _MONTH, _YEAR = r"(?:0?[1-9]|[12][0-9]|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)[0-9]{2}"
_DATE_RE = re.compile(rf"{_YEAR}([-.]){_MONTH}\1{_DAY}|{_DAY}([-.]){_DAY}\2{_YEAR}")
_DECIMAL_RE = re.compile(r"[0-9]{1,6}\.[0-9]{1,2}")
