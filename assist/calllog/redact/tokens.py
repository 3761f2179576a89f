"""The tokeniser: the text outside pattern hits as numerals, words, CJK characters and punctuation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assist.calllog.redact.kinds import Hit

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\u25cb"  # with 〇 and ○, both written for zero
_TOKEN_RE = re.compile(
    r"(?P<alnum>(?:[A-Za-z]+\d|\d+[A-Za-z])[A-Za-z\d]*)"  # 3rd, A12, 4G: not numbers (but see the ID's X)
    r"|(?P<num>\d+)"
    r"|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)"
    rf"|(?P<cjk>[{_CJK}])"
    r"|(?P<other>\S)"
)
_ID_WITH_X_RE = re.compile(r"\d+[Xx]")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, alnum, word, cjk, other, claimed
    text: str
    start: int
    end: int


def tokenise(text: str, claimed: Sequence[Hit]) -> list[Token]:
    """Tokens in order; each claimed span (a pattern hit) is one "claimed" token."""
    tokens: list[Token] = []
    pos = 0
    for start, end, _ in [*claimed, (len(text), len(text), "")]:
        for m in _TOKEN_RE.finditer(text, pos, start):
            kind = m.lastgroup or "other"
            if kind == "alnum" and _ID_WITH_X_RE.fullmatch(m.group()):
                kind = "num"  # a resident ID ending in its check character X
            tokens.append(Token(kind, m.group(), m.start(), m.end()))
        if end > start:
            tokens.append(Token("claimed", "", start, end))
        pos = end
    return tokens
