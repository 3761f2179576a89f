"""Digit runs and their judged kinds.

Maximal runs of digit items are formed across spaces, dashes, commas and periods; each run is then cut into the
segments that cover the most digits: a card (Luhn), a Chinese resident ID (MOD 11-2), a Chinese mobile, or whatever
the nearest context keyword allows ("security code" -> 3-4 digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from assist.calllog.redact.checksums import luhn_ok, numeric_expiry, resident_id_ok
from assist.calllog.redact.items import Item
from assist.calllog.redact.kinds import Hit


@dataclass(slots=True)
class Run:
    items: list[Item]  # num and month items only
    plus: bool = False  # said or written after "+": an international number
    edges: set[int] = field(default_factory=set)  # k: a group edge sits between items k-1 and k


def _is_edge(prev: Item, it: Item, sep: str) -> bool:
    """Where a reader visibly grouped the digits: punctuation, a written number's own ends, a pause in Chinese.

    Spoken English digits are only spaced words, so "four one one ... two" has no edges inside, and a card (or
    ID, or mobile) is not looked for in a part of it: some 13-15 digit part of any long run passes Luhn.
    """
    if sep:
        return True
    if "numeral" in (prev.source, it.source):
        return True
    return prev.source == it.source == "cjk" and it.start > prev.end


def digit_count(items: Iterable[Item]) -> int:
    return sum(len(it.digits) for it in items if it.kind == "num")


def digit_runs(items: Sequence[Item]) -> list[Run]:
    """Maximal runs of digit items; spaces, dashes, commas and periods may sit between them."""
    runs: list[Run] = []
    cur = Run([])
    sep = ""  # the separator since the last digit item ("" for plain space)
    for it in items:
        if it.kind == "num" and it.digits == "X":
            if digit_count(cur.items) == 17 and cur.items[0].kind == "num":
                cur.items.append(it)
            runs.append(cur)
            cur, sep = Run([]), ""
        elif it.kind == "num":
            if len(cur.items) == 1 and cur.items[0].text in ("oh", "o") and sep:  # "Oh, 1234": not a zero
                cur.items.clear()
            if cur.items and _is_edge(cur.items[-1], it, sep):
                cur.edges.add(len(cur.items))
            cur.items.append(it)
            sep = ""
        elif it.kind == "month":
            runs.append(cur)
            cur, sep = Run([it]), ""
        elif it.kind == "sep" and cur.items:
            sep = it.text
        elif it.kind == "stop" and it.text == "of" and len(cur.items) == 1 and cur.items[0].kind == "month":
            continue  # April of 2027
        else:
            runs.append(cur)
            cur, sep = Run([], plus=it.kind == "plus"), ""
    runs.append(cur)
    return [run for run in runs if run.items]


# ---------------------------------------------------------------------------------------------------------------
# Classification of a run's segments.

_MAX_SEGMENT_ITEMS = 20  # a month and 19 digits, or 18 ID characters: nothing sensitive is longer


# What each context accepts as a bare run of digits.
_CONTEXT_ACCEPTS: dict[str, Callable[[str], bool]] = {
    "card": lambda d: 4 <= len(d) <= 19,  # cards are read in chunks
    "cvv": lambda d: 3 <= len(d) <= 4,
    "expiry": numeric_expiry,
    "ssn": lambda d: len(d) in (4, 9),  # "the last four of your social"
    # "身份证后四位" (the last four or six) is a common check; a misheard tail is one digit short
    "national_id": lambda d: 3 <= len(d) <= 6 or len(d) in (15, 18),
    "phone": lambda d: 7 <= len(d) <= 15,
    "account": lambda d: 6 <= len(d) <= 19,  # 账号 is often a 16-19 digit bank card number
}


UNEXPLAINED_DIGITS = 9  # a bare run this long, that no rule explains (amounts, dates, times are excluded)


def _shape_kind(digits: str, plus: bool) -> str | None:
    """A kind known from the digits alone (a check digit, a numbering plan), no context needed."""
    if resident_id_ok(digits):
        return "national_id"
    if not digits.isdigit():
        return None
    if 13 <= len(digits) <= 19 and digits[0] != "0" and luhn_ok(digits):
        return "card"
    if len(digits) == 11 and re.match(r"1[3-9]|0", digits):  # Chinese mobile; UK and Chinese numbers with 0
        return "phone"
    if plus and 8 <= len(digits) <= 15:
        return "phone"
    return None


def _context_kind(digits: str, ranked: Sequence[str]) -> str | None:
    """The nearest context that accepts these digits."""
    if not digits.isdigit():  # a check character X that failed the check: misheard, or said in an ID's context
        return "national_id" if "national_id" in ranked and len(digits) == 18 else None
    return next((kind for kind in ranked if kind in _CONTEXT_ACCEPTS and _CONTEXT_ACCEPTS[kind](digits)), None)


def run_hits(run: Run, rank_at: Callable[[int, int], list[str]]) -> list[Hit]:
    """Cut the run into segments that cover the most digits; then prefer passed check digits, then fewer segments.

    A shape is only looked for in a segment delimited by the run's ends or its edges.
    """
    items = run.items
    n = len(items)
    best: list[tuple[int, int, int]] = [(0, 0, 0)] * (n + 1)  # (digits covered, digits checked, -segments) from i
    pick: list[tuple[int, str] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i], pick[i] = best[i + 1], None
        for j in range(i + 1, min(n, i + _MAX_SEGMENT_ITEMS) + 1):
            segment = items[i:j]
            if any(it.excluded for it in segment):
                break
            digits = "".join(it.digits for it in segment if it.kind == "num")
            ranked = rank_at(items[i].start, items[j - 1].end)
            kind, checked = None, False
            if items[i].kind == "month":  # April 2027, April twenty seven
                year = len(digits) == 2 or (len(digits) == 4 and digits.startswith("20"))
                kind = "expiry" if year and "expiry" in ranked else None
            elif items[j - 1].kind == "month":
                break
            elif (i == 0 or i in run.edges) and (j == n or j in run.edges):
                kind = _shape_kind(digits, run.plus and i == 0)
                checked = kind in ("card", "national_id")  # a check digit passed: stronger than any context
            kind = kind or _context_kind(digits, ranked)
            if kind is None:
                continue
            rest = best[j]
            score = (len(digits) + rest[0], len(digits) * checked + rest[1], rest[2] - 1)
            if score > best[i]:
                best[i], pick[i] = score, (j, kind)
    hits: list[Hit] = []
    i, loose = 0, 0  # loose: where the digits no rule explained began
    while i < n:
        choice = pick[i]
        if choice is None:
            i += 1
            continue
        hits += _unexplained(items[loose:i])
        j, kind = choice
        hits.append((items[i].start, items[j - 1].end, kind))
        i = loose = j
    return hits + _unexplained(items[loose:n])


def _unexplained(items: Sequence[Item]) -> list[Hit]:
    """Nobody reads out this many digits unless they are an account, a card or an ID: digits that no
    rule explained (amounts, dates and times are excluded before) are masked as an account, so a
    misheard keyword ("my Carter is 4-1-1-1…") never lets most of a card through."""
    numbers = [it for it in items if it.kind == "num" and not it.excluded]
    if sum(len(it.digits) for it in numbers) < UNEXPLAINED_DIGITS or any(it.excluded for it in items):
        return []
    return [(numbers[0].start, numbers[-1].end, "account")]
