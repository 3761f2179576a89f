"""Whether a call solved the customer's problem, from what was said: how the customer ended the
call (content, only polite, resigned, or neither) and whether the agent said they could not fix
it. Pure logic over the call view.

The agent's "anything else?" says nothing about whether the problem was solved; the customer's
last words do. "No, that's all, brilliant" ends a call that worked; "Okay, fine", "I'll wait for
the text, I guess", "never mind, I'll sort it out myself" and 算了 end one that did not, without a
single complaint word. A plain "thanks" is only polite: after "I'm afraid I can't do anything
until the team has looked at it" it is not a resolution. The summary's outcome and the retention
model's quiet signs read this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assist.qa.callview import CallView, Utterance, customer_answers
from assist.qa.text import PatternTable

Close = Literal["content", "polite", "resigned", "neither"]

# The customer's closing words: their last two answers (an answer is what they say between two of
# the agent's utterances; the recogniser may split it at its pauses: "Wonderful. That was easy.
# Thank you so much." then "I will. Bye now.").
LAST_ANSWERS = 2

POLITE: dict[str, list[str]] = {
    "en": [
        r"\bthank(?:s| you)\b(?! for nothing)",
        r"\bcheers\b",
        r"\bta\b",
        r"\b(?:ok(?:ay)?|alright) then\b",
        r"\bthat(?:s| is| was) (?:all|it|everything|fine)\b",  # closing formulas, not contentment
        # Thanks for the effort, said as warmly when nothing was fixed: "I appreciate your help."
        r"\bappreciate\b",
        r"\bhelpful\b",
    ],
    "zh": [r"谢谢", r"感谢", r"好的好的", r"麻烦你了", r"辛苦", r"知道了", r"明白", r"没了", r"就这么办"],
}
CONTENT: dict[str, list[str]] = {
    "en": [
        r"\b(?:brilliant|perfect|great|lovely|wonderful|excellent|awesome|fantastic|amazing)\b",
        r"\bthat(?:s| is| was) (?:sorted|good|great|clear|quick|brilliant|perfect)\b",
        r"\b(?:all )?sorted\b",
        r"\bthat (?:helps|works|solves|fixes|sorts)\b",
        r"\bsounds (?:good|great|fine|perfect)\b",
        r"\b(?:much|so much) better\b",
        r"\bhappy with\b",
        r"\bmakes sense\b",
    ],
    "zh": [
        r"太好了",
        r"满意",
        r"不错",
        r"解决了",
        r"明白了",
        r"清楚了",
        r"没问题了",
        r"可以了",
        r"非常感谢",
        r"帮大忙",
        r"那就好",
        r"挺好",
        r"挺快",
        r"[好快]多了",
    ],
}
RESIGNED: dict[str, list[str]] = {
    "en": [
        r"\bi (?:guess|suppose)\b",
        r"\bwhatever\b",
        r"\bnever ?mind\b",
        r"\bforget it\b",
        r"\bif you say so\b",
        r"\bthanks? for nothing\b",
        r"\bi (?:will|ll) (?:just )?(?:have to|manage|live with|deal with|make do|put up with)\b",
        r"\b(?:live|deal|put up) with it\b",
        r"\bmake do\b",
        r"\b(?:sort|figure|work) (?:it|this) out (?:myself|on my own)\b",
        r"\bnothing (?:else )?(?:i|you|we) can do\b",
        r"\bnot much (?:i|you|we) can do\b",
        r"\bbelieve it when\b",
        r"\bwe (?:will|ll) see\b",
        r"\bmy options\b",
        r"\bit is what it is\b",
        r"\bdo not bother\b",
        r"\bif that is (?:all|the best) (?:you|we) can do\b",
        # Praise denied: "so for now, nothing great", "not brilliant, is it".
        r"\b(?:nothing|not) (?:great|brilliant|perfect|lovely|wonderful|ideal)\b",
        # Left to fix it themselves, or waiting on someone else.
        r"\bi (?:will|ll) (?:see if i can|try to|have a go|look for|go and)\b",
        r"\bi (?:will|ll) (?:just )?wait (?:for|to hear|until)\b",
        r"\b(?:i will|let me) (?:have a )?think (?:about it|it over)\b",
        r"\b(?:i am|im) hanging up\b",
        r"^(?:ok(?:ay)?|alright|right|yeah|yes)?[ ,]*fine$",
        r"^(?:ok(?:ay)?|alright|right) (?:ok(?:ay)?|alright)$",  # "Okay. Okay." (a bare "okay" is only a reply)
        r"^fine\b",  # "Fine, I'll wait for the call." opens with the concession
        r"\bwait and see\b",
    ],
    "zh": [
        r"算了",
        r"好吧",
        r"行吧",
        r"随便",
        r"就这样吧",
        r"只能这样",
        r"没办法",
        r"再说吧",
        r"等着吧",
        r"看着办",
        r"自己想办法",
        r"无所谓",
        r"能怎么办",
        r"还能怎样",
        r"看你们怎么",
        r"等等看",
        r"(?:我|自己)(?:再|自己)?(?:想想|考虑考虑|考虑一下|算算|琢磨)",  # left to work it out themselves
        r"不说了",
        r"挂了",
    ],
}

# The agent saying the problem stays: they cannot fix it, or cannot say when it will be.
CANNOT_FIX: dict[str, list[str]] = {
    "en": [
        r"\bunfortunately\b",
        r"\bi am afraid\b",
        r"\b(?:i|we) (?:cannot|can not|am unable|are unable|am not able|are not able|do not have)\b",
        r"\bnothing (?:more |else )?(?:i|we) can\b",
        r"\bnot possible\b",
        r"\b(?:no|not an?) (?:update|time|date|timeline|estimate|eta)\b",
        r"\bthat is (?:the (?:quickest|fastest|best|only)|all (?:i|we) can)\b",
        r"\bthere is no way\b",
        r"\bi really cannot\b",
    ],
    "zh": [r"无法", r"没办法", r"不能", r"暂时没有", r"只能", r"做不到", r"不好说", r"没法", r"确定不了", r"才能确定"],
}

# The agent handing the problem to a later step instead of fixing it: a ticket, an
# investigation, someone who will be in touch. A booked appointment or a refund on its way is an
# action taken, not a deferral, so neither is here.
DEFERRED: dict[str, list[str]] = {
    "en": [
        r"\b(?:raise|raised|raising|log|logged|logging|open|opened|opening|create|created|submit|submitted)"
        r" (?:a|an|the|your) (?:\w+ ){0,2}(?:ticket|case|fault report|investigation)\b",
        r"\b(?:ticket|case|reference) number\b",
        r"\bget back to you\b",
        r"\bbe in touch\b",
        r"\b(?:call|ring|phone) you back\b",
        r"\bcall ?back (?:within|in|by|tomorrow)\b",
        r"\b(?:contact|call|update) you (?:within|in the next|once|when|as soon as)\b",
        r"\b(?:will|ll|to) (?:look into|investigate)\b",
        r"\b(?:pass|passing|passed|hand|handing|handed|refer|referring|referred|send|sending|sent)"
        r" (?:it|this|that|your \w+)(?: on| over)? to (?:our|the|a) (?:\w+ ){0,2}(?:team|department|specialists?)\b",
    ],
    "zh": [
        r"工单",
        r"故障单",
        r"申告单",
        r"报障",
        r"小时内(?:会)?(?:联系|回复|回电|给您|处理)",
        r"会(?:尽快)?回复",
        r"(?:会|将)(?:尽快|有专人|安排专人|由专人)?(?:联系您|给您回电|回电|跟您联系|和您联系|回复您)",
        r"专人(?:联系|跟进|处理|回电)",
        r"(?:提交|反馈|上报)(?:给|到)?(?:了)?(?:\w{0,4})(?:部门|团队|专家|后台)",
        r"核实后|排查后|调查后",
    ],
}

_POLITE, _CONTENT, _RESIGNED, _CANNOT_FIX, _DEFERRED = (
    PatternTable.of(t) for t in (POLITE, CONTENT, RESIGNED, CANNOT_FIX, DEFERRED)
)
# Complaint signals: a pleased word in an utterance that raised one is sarcasm ("Oh, wonderful,
# locking the door after the horse has bolted. I'd like the manager."), not contentment.
_COMPLAINTS = ("dissatisfaction", "escalation", "churn")
_CLOSES: tuple[tuple[Close, PatternTable], ...] = (
    ("resigned", _RESIGNED),
    ("content", _CONTENT),
    ("polite", _POLITE),
)


@dataclass(frozen=True)
class Closing:
    close: Close
    utterance: Utterance | None  # the words that show it


def _complaining(view: CallView) -> set[tuple[float, int]]:
    """The customer's utterances that raised a complaint signal."""
    found = (view.customer_at(float(s.get("at_s") or 0.0), s.get("evidence")) for s in view.signals)
    kinds = (s.get("kind") for s in view.signals)
    return {u.key for u, kind in zip(found, kinds, strict=True) if u is not None and kind in _COMPLAINTS}


def closing(view: CallView) -> Closing:
    """Resigned wins over content, content over polite: "okay, thanks, I guess" is not a happy
    customer. Pleased words in an utterance that raised a complaint signal are not content."""
    last = [u for answer in customer_answers(view)[-LAST_ANSWERS:] for u in answer]
    complaining = _complaining(view)
    for close, table in _CLOSES:
        for utterance in reversed(last):
            if close == "content" and utterance.key in complaining:
                continue
            if table.matches(utterance.normalized, view.language):
                return Closing(close, utterance)
    return Closing("neither", None)


def _agent_late(view: CallView, table: PatternTable) -> Utterance | None:
    """The agent's last words in the second half of the call that match the table."""
    half_s = view.duration_s / 2
    found = [u for u in view.said_by("agent") if u.end_s > half_s and table.matches(u.normalized, view.language)]
    return found[-1] if found else None


def could_not_fix(view: CallView) -> Utterance | None:
    """The agent's last words saying the problem stays, in the second half of the call."""
    return _agent_late(view, _CANNOT_FIX)


def deferred(view: CallView) -> Utterance | None:
    """The agent's last words, in the second half of the call, handing the problem to a later
    step (a ticket, an investigation, a call back): the call itself did not solve it."""
    return _agent_late(view, _DEFERRED)
