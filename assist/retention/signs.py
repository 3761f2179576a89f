"""The signs in one call that its customer may leave, each with its evidence. Pure functions
over the call view (assist/qa/callview.py), the call's summary and the caller's earlier calls.

Loud signs are what the customer said outright or what happened: words of leaving (decided, or
only considered), complaint words, an escalation, no resolution, a declined offer, a transfer.
Words of leaving and of escalation are read from the transcript as it stands with the live
tracker's lexicon; complaint words from the live signal's trend. Quiet signs are for the
customers who never complain (most unhappy customers do not): a call back on the same topic,
the same question asked twice, answers that shrink to a word, long pauses before answering, a
tone that falls from the start of the call to its end, and "ok, fine" at the end of a call that
solved nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assist.guidance.signals import CHURN_MIN_WEIGHT, about_an_add_on, escalation_words, lexicon_score
from assist.qa.callview import CallView, Utterance, customer_answers
from assist.qa.resolution import closing, could_not_fix
from assist.qa.text import PatternTable, word_count
from assist.retention.tone import fall, tone_for

CURT_WORDS = 2  # an answer this short (words; Chinese: 4 characters) is curt
CURT_MIN_ANSWERS = 3  # ... and it takes this many curt answers in the second half
LONG_PAUSE_S = 4.0  # the customer took this long to answer the agent
SAME_QUESTION = 0.6  # share of a question's words found again in a later one
FIRST_REQUEST_UTTERANCES = 4  # the customer's request is among their first few utterances
SHORT_REQUEST_WORDS = 5  # a shorter one is matched with the one before (as the live cards are)

#: The knowledge base's intent for what a customer said (text, language), None below its threshold.
IntentOf = Callable[[str, str], str | None]

_QUESTION = re.compile(
    r"\?|？|吗|呢|怎么|为什么|什么|多少|\b(how|why|what|when|where|can|could|will|is|are|do|does)\b", re.I
)
# The customer saying this is not their first call about it (whatever the call log knows: they
# may have called from another number, or before the log began).
_CALLED_BEFORE = PatternTable.of(
    {
        "en": [
            r"\b(?:i|we) (?:have |had )?(?:already )?(?:called|rang|phoned|spoke to|spoken to|talked to)"
            r" (?:you |someone |somebody |about this |about it |in )*"
            r"(?:before|already|last (?:week|time|month)|(?:a|one|two|three|a few|a couple of) (?:days?|weeks?) ago"
            r"|yesterday|earlier|twice|again)\b",
            r"\b(?:second|third|fourth|fifth) time (?:i (?:have|am) )?(?:called|calling|rung|ringing|phoned)\b",
            r"\blast time i (?:called|rang|phoned)\b|\bcalling (?:back|again) about\b|\balready called\b",
        ],
        "zh": [r"上次打|之前打过|已经打过|又打|第[二三四五两]次打|打了好几次|上周打|前几天打|打过电话"],
    }
)
_WORD = re.compile(r"[a-z0-9']+|[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Sign:
    kind: str  # a key of the weights file
    strength: float  # 0-1
    note: str  # why, in a sentence a retention agent reads
    evidence: tuple[dict[str, Any], ...] = ()  # utterances: {utterance_id, speaker, start_s, text}

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "strength": round(self.strength, 2),
            "note": self.note,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class EarlierCall:
    """One of the caller's earlier calls, as the call log has it."""

    call_id: str
    started_at: float
    intents: tuple[str, ...]
    outcome: str | None = None
    summary: str = ""


@dataclass
class CallFacts:
    """What the signs read: the call, its summary, when it started, and the caller's history."""

    view: CallView
    summary: Mapping[str, Any]
    started_at: float
    intents: tuple[str, ...]
    earlier: Sequence[EarlierCall] = field(default_factory=tuple)
    profile: Mapping[str, Any] = field(default_factory=dict)  # the directory's entry for the caller


def _units(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _curt(text: str) -> bool:
    units = _units(text)
    if any("\u4e00" <= u <= "\u9fff" for u in units):
        return len(units) <= 2 * CURT_WORDS
    return word_count(text) <= CURT_WORDS


def _with_next(view: CallView, utterance: Utterance) -> str:
    """An utterance and the customer's next one: the recogniser splits a sentence at its pauses
    ("Can you cancel the travel?" "pass on my account.")."""
    said = view.said_by("customer")
    following = [u.text for u in said if u.key > utterance.key][:1]
    return " ".join([utterance.text, *following])


_VAGUE = {"cancel it", "cancel the", "取消"}  # what they cancel is named elsewhere


def _said_outright(view: CallView, kind: str) -> list[Utterance]:
    """The customer's utterances with words of leaving or of escalation, read from the transcript
    as it stands with the live tracker's lexicon, not from the live signals: a final revised
    after its alert may no longer say it, an alert held back by its cooldown or a call logged
    before a phrase was known would be missed."""
    customer, language = view.said_by("customer"), view.language
    if kind == "escalation":
        return [u for u in customer if escalation_words(u.text, language)]
    cancelling = {u.key: lexicon_score(u.text, "churn", language) for u in customer}
    said = [
        u
        for u in customer
        if cancelling[u.key][0] >= CHURN_MIN_WEIGHT and not _COMING_TO_US.matches(u.normalized, language)
    ]
    # "Can you cancel the travel?" "pass on my account." is an add-on, and so is a later "please cancel it".
    add_ons = [u for u in said if about_an_add_on(_with_next(view, u), language)]
    return [
        u
        for u in said
        if u not in add_ons and (not add_ons or u.key < add_ons[0].key or set(cancelling[u.key][1]) - _VAGUE)
    ]


# "If you don't sort it out I'll switch", "should I move to them?", 你们再不给力我就转网, 要不要换过去:
# a switch considered or threatened, not decided. A call that then ends well may take it back.
_CONSIDERED = PatternTable.of(
    {
        "en": [
            r"\b(?:if|unless|otherwise|or else|whether|should i|thinking (?:of|about)|considering|wondering)\b",
            # a switch nearly made, in the past: "I nearly switched to another company last year"
            r"\b(?:nearly|almost|was going to|were going to|thought about)\b",
        ],
        "zh": [r"如果|要是|再不|不然|否则|的话|要不要|考虑|是不是|差点|本来想|当时想"],
    }
)
# A number coming to us, not leaving: "he's on another network and we'd like to bring his number
# over onto our account", 把他的号码转到我们这边.
_COMING_TO_US = PatternTable.of(
    {
        "en": [
            r"\bbring (?:his|her|their) (?:number|line|phone)s?\b",
            r"\b(?:onto|on to|into|to|join) (?:our|my) (?:account|plan|family plan|bill)\b",
            r"\bport(?:ing|ed)? (?:it|him|her|them|his number|her number|their number) in\b|\bport(?:ing)? in\b",
        ],
        "zh": [r"转入|转到我们|转过来|加到我的|加进我的|并到我的"],
    }
)


def loud_signs(facts: CallFacts) -> list[Sign]:
    view, summary = facts.view, facts.summary
    signs: list[Sign] = []
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for signal in view.signals:
        by_kind.setdefault(str(signal.get("kind")), []).append(signal)

    def quoted(signals: list[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
        found = [view.customer_at(float(s.get("at_s") or 0.0), s.get("evidence")) for s in signals]
        return tuple(u.evidence() for u in found if u is not None)

    if leaving := _said_outright(view, "churn"):
        considered = all(_CONSIDERED.matches(u.normalized, view.language) for u in leaving)
        kind, note = ("churn_considered", "talked of leaving") if considered else ("churn_words", "spoke of leaving")
        signs.append(Sign(kind, 1.0, note, tuple(u.evidence() for u in leaving)))
    if "dissatisfaction" in by_kind:
        strength = min(1.0, 0.5 + 0.25 * len(by_kind["dissatisfaction"]))
        signs.append(
            Sign("dissatisfaction", strength, "complained during the call", quoted(by_kind["dissatisfaction"]))
        )
    escalating = _said_outright(view, "escalation")
    if escalating or summary.get("outcome") == "escalated":
        signs.append(Sign("escalation", 1.0, "the call was escalated", tuple(u.evidence() for u in escalating)))
    outcome = summary.get("outcome")
    if outcome in ("unresolved", "abandoned"):
        signs.append(Sign("unresolved", 1.0, f"the call ended {outcome}"))
    elif outcome == "escalated" and closing(view).close != "content":
        # Handed to a supervisor or another team, and the customer did not end pleased: the
        # problem is still open.
        signs.append(Sign("unresolved", 1.0, "the call was escalated with the problem still open"))
    declined = [o for o in summary.get("offers") or [] if o.get("declined")]
    if declined:
        titles = ", ".join(str(o.get("title")) for o in declined)
        signs.append(Sign("offer_declined", 1.0, f"declined: {titles}"))
    ended = view.ended or {}
    if "transfer" in str(ended.get("reason") or ""):
        signs.append(Sign("transferred", 1.0, "transferred to another agent"))
    return signs


def first_request(view: CallView, intent_of: IntentOf) -> tuple[Utterance, str] | None:
    """The customer's first request as the transcript reads now, revisions included: the first
    of their opening utterances the knowledge base matches (a short one together with the one
    before, as the live cards do). The live card was matched on the first, fast reading, which
    the context windows may have corrected since ("I want to turn my service" → "end my service")."""
    opening = view.said_by("customer")[:FIRST_REQUEST_UTTERANCES]
    for position, utterance in enumerate(opening):
        queries = [utterance.text]
        if position > 0 and word_count(utterance.text) < SHORT_REQUEST_WORDS:
            queries.append(f"{opening[position - 1].text} {utterance.text}")
        for query in queries:
            if (intent := intent_of(query, view.language)) is not None:
                return utterance, intent
    return None


def asked_to_leave(view: CallView, churn_intents: Sequence[str], intent_of: IntentOf | None = None) -> Sign | None:
    """The customer's first request matched an article about leaving (cancel service, switch
    provider): the knowledge base's semantic match survives recognition errors that the churn
    lexicon does not ("I want to leave Lumen" heard as "I want to lean human"). Matched again on
    the transcript as it stands when a matcher is given, else the first card the agent saw."""
    said: Utterance | None = None
    found = first_request(view, intent_of) if intent_of is not None else None
    if found is not None:
        said, intent = found
    else:
        first = next((event for _, event in view.suggestions), None)
        intent = str((first or {}).get("intent") or "")
        trigger = (first or {}).get("trigger")
        if isinstance(trigger, Mapping) and trigger.get("utterance_id") is not None:
            said = view.find("customer", int(trigger["utterance_id"]))
    if said is None or intent not in churn_intents or about_an_add_on(_with_next(view, said), view.language):
        return None
    return Sign("churn_considered", 1.0, f"their first request was about: {intent}", (said.evidence(),))


def valuable_unresolved(facts: CallFacts, segments: Sequence[str]) -> Sign | None:
    """A valuable customer (vip, gold) whose problem this call left unsolved: they are the ones a
    contact centre can least afford to lose, and polite ones leave without a word."""
    profile = facts.profile or facts.view.caller
    segment = str(profile.get("segment") or "").lower()
    if segment not in segments or facts.summary.get("outcome") != "unresolved":
        return None
    return Sign("valuable_unresolved", 1.0, f"a {segment} customer left without a fix")


def said_called_before(view: CallView) -> Utterance | None:
    return next((u for u in view.said_by("customer") if _CALLED_BEFORE.matches(u.normalized, view.language)), None)


def repeat_call(facts: CallFacts, window_days: float) -> Sign | None:
    """The same topic within the window: the first call did not settle it. Or the customer says
    so: "I called about this last week" counts even when the log has no earlier call."""
    since = facts.started_at - window_days * 86400
    topics = set(facts.intents)
    earlier = [c for c in facts.earlier if since <= c.started_at < facts.started_at and topics & set(c.intents)]
    if not earlier:
        mention = said_called_before(facts.view)
        if mention is None:
            return None
        return Sign("repeat_call", 0.8, "said they had called about this before", (mention.evidence(),))
    days = (facts.started_at - max(c.started_at for c in earlier)) / 86400
    topic = sorted(topics & {i for c in earlier for i in c.intents})[0]
    strength = min(1.0, 0.6 + 0.2 * len(earlier))
    note = f"called about {topic} {len(earlier) + 1} times in {window_days:g} days (last {days:.0f} days ago)"
    return Sign("repeat_call", strength, note, tuple({"call_id": c.call_id, "text": c.summary} for c in earlier))


def repeated_question(view: CallView) -> Sign | None:
    questions = [u for u in view.said_by("customer") if _QUESTION.search(u.text) and len(_units(u.text)) >= 3]
    for i, first in enumerate(questions):
        first_units = set(_units(first.text))
        for later in questions[i + 1 :]:
            shared = len(first_units & set(_units(later.text))) / max(1, len(first_units))
            if shared >= SAME_QUESTION and later.start_s - first.end_s > 5.0:
                return Sign(
                    "repeated_question", 1.0, "asked the same thing twice", (first.evidence(), later.evidence())
                )
    return None


def curt_answers(view: CallView) -> Sign | None:
    answers = customer_answers(view)
    if len(answers) < 4:
        return None
    half = len(answers) // 2

    def curt(turn: list[Utterance]) -> bool:
        return _curt(" ".join(u.text for u in turn))

    early = sum(curt(t) for t in answers[:half]) / max(1, half)
    late_curt = [t for t in answers[half:] if curt(t)]
    late = len(late_curt) / max(1, len(answers) - half)
    if len(late_curt) < CURT_MIN_ANSWERS or late - early < 0.3:
        return None
    evidence = tuple(t[0].evidence() for t in late_curt[:3])
    return Sign("curt_answers", min(1.0, late), "answers shrank to a word or two", evidence)


def long_silences(view: CallView) -> Sign | None:
    pauses: list[tuple[float, Utterance]] = []
    for before, after in zip(view.utterances, view.utterances[1:], strict=False):
        if before.speaker == "agent" and after.speaker == "customer" and after.start_s - before.end_s >= LONG_PAUSE_S:
            pauses.append((after.start_s - before.end_s, after))
    if len(pauses) < 2:
        return None
    longest = max(p for p, _ in pauses)
    note = f"{len(pauses)} long pauses before answering (longest {longest:.0f} s)"
    return Sign("long_silences", min(1.0, len(pauses) / 4), note, tuple(u.evidence() for _, u in pauses[:3]))


def falling_sentiment(view: CallView) -> Sign | None:
    said = [u for u in view.said_by("customer") if u.text.strip()]
    if len(said) < 3:
        return None
    tone = tone_for(view.language)
    scores = [tone.model.polarity(u.text) for u in said]
    drop = fall(scores)
    if drop < tone.falling_by:
        return None
    worst = min(range(len(said) - len(said) // 3, len(said)), key=lambda i: scores[i])
    return Sign(
        "falling_sentiment", min(1.0, drop), "the customer's tone fell during the call", (said[worst].evidence(),)
    )


def agreed_without_accepting(view: CallView) -> Sign | None:
    """Went along at the end without being satisfied: "okay, fine", "I'll manage, I suppose", 算了."""
    ending = closing(view)
    if ending.close != "resigned" or ending.utterance is None:
        return None
    return Sign("agreed_without_accepting", 1.0, "went along at the end, not satisfied", (ending.utterance.evidence(),))


def could_not_fix_sign(view: CallView) -> Sign | None:
    said = could_not_fix(view)
    if said is None or closing(view).close == "content":
        return None
    return Sign("could_not_fix", 1.0, "the agent could not fix it", (said.evidence(),))


def ended_content(view: CallView) -> Sign | None:
    """A customer who ends the call pleased after a complaint is not drifting away: this sign
    lowers the score (its weight is negative)."""
    ending = closing(view)
    if ending.close != "content" or ending.utterance is None:
        return None
    return Sign("ended_content", 1.0, "ended the call content", (ending.utterance.evidence(),))


def quiet_signs(facts: CallFacts, repeat_window_days: float) -> list[Sign]:
    found = [
        repeat_call(facts, repeat_window_days),
        repeated_question(facts.view),
        curt_answers(facts.view),
        long_silences(facts.view),
        falling_sentiment(facts.view),
        agreed_without_accepting(facts.view),
        could_not_fix_sign(facts.view),
        ended_content(facts.view),
    ]
    return [sign for sign in found if sign is not None]
