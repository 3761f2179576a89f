"""Context keywords ("security code", "卡号") found in an utterance, and their ranking around a span of digits.

Keywords are remembered for the last ``CONTEXT_TURNS`` utterances of the call, whoever said them, because the agent
asks and the customer answers. English keywords are fenced by "no letter" rather than by word boundaries, which
fail next to CJK characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CONTEXT_TURNS = 2  # utterances of context kept per call, either speaker


def _en(*phrases: str) -> str:
    return r"(?<![a-z])(?:" + "|".join(phrases) + r")(?![a-z])"


_CONTEXT_RES: dict[str, re.Pattern[str]] = {
    kind: re.compile("|".join(parts), re.IGNORECASE)
    for kind, parts in {
        "card": [
            _en(r"card\s*(?:number|num|#)", r"long number", r"numbers? on (?:the|your|my) card", r"ending (?:in|with)"),
            r"卡号|卡的?号码|卡上的?号码|卡面上?的?号码",
        ],
        "cvv": [
            _en(r"security code", r"cv[vc]2?", r"csc", r"(?:on|at) the back"),
            _en(r"back of (?:the|your|my) card", r"(?:three|3)[- ]digit (?:code|number)"),
            r"安全码|验证码|校验码|背面",
        ],
        "expiry": [
            _en(r"expir(?:y|es|ed|e|ation)", r"exp\.? date", r"valid (?:until|thru|through|till|to)"),
            _en(r"good (?:thru|through)"),
            r"有效期|到期|过期",
        ],
        "ssn": [_en(r"social security", r"ssn", r"(?:your|my|the) social"), r"社会安全号"],
        "national_id": [_en(r"id number", r"national id", r"identity (?:card|number)"), r"身份证|证件号|身份号"],
        "phone": [
            _en(r"(?:tele)?phone", r"mobile", r"cell", r"number to (?:call|reach)", r"reach (?:you|me)"),
            _en(r"call (?:you|me) (?:back )?(?:on|at)", r"(?:contact|callback|call-back|call back) number", r"text me"),
            r"电话|手机|联系方式",
        ],
        "account": [
            _en(r"account\s*(?:number|num|#)", r"acct", r"sort code", r"routing", r"iban", r"bank account"),
            r"账号|账户|帐号|帐户",
        ],
        "email": [_en(r"e-?mail"), r"邮箱|邮件"],
    }.items()
}


@dataclass(frozen=True, slots=True)
class Mention:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str
    mentions: dict[str, int]  # context kind -> offset of its last mention in that utterance


def find_mentions(text: str) -> list[Mention]:
    return [Mention(kind, m.start(), m.end()) for kind, rx in _CONTEXT_RES.items() for m in rx.finditer(text)]


_PER_TURN = 10**7  # a keyword in an earlier utterance ranks behind every keyword in this one


def rank(here: Sequence[Mention], turns: Sequence[Turn], start: int, end: int) -> list[str]:
    """Context kinds in force for the span [start, end), nearest first."""
    best: dict[str, int] = {}

    def keep(kind: str, distance: int) -> None:
        best[kind] = min(distance, best.get(kind, distance))

    for age, turn in enumerate(reversed(turns), start=1):
        for kind, offset in turn.mentions.items():
            keep(kind, age * _PER_TURN - offset)
    for m in here:
        keep(m.kind, start - m.end if m.end <= start else 2 * (m.start - end) + 1)  # "123 on the back" is nearer
    return sorted(best, key=best.__getitem__)
