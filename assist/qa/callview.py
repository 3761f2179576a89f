"""The call, as its events tell it: a call's event stream (the messages the agent sidebar
receives: ``call_started``, ``final``, ``suggestion``, ``offer``, ``signal``, ``feedback``,
``call_ended``) read into a view, and the moments in it that the scorecard rules, the summary
and other models read (the problem statement, the first negative moment, an offer mentioned).
Works on a live call. Knows nothing of scorecard configuration.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assist.qa.text import Normalized, PhraseSet, cjk_characters, has_cjk, language_key, normalize, word_count

Event = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Utterance:
    speaker: str
    utterance_id: int
    start_s: float
    end_s: float
    text: str
    index: int  # position in the event stream
    normalized: Normalized

    @property
    def key(self) -> tuple[float, int]:
        """Transcript order: by start time, then by arrival."""
        return (self.start_s, self.index)

    def evidence(self) -> dict[str, Any]:
        return {"utterance_id": self.utterance_id, "speaker": self.speaker, "start_s": self.start_s, "text": self.text}


@dataclass(frozen=True)
class CallView:
    """What the scorecard and the summary read from a call's events; works on a live call."""

    call_id: str | None
    agent_id: str | None
    language: str
    caller: Mapping[str, Any]
    utterances: tuple[Utterance, ...]  # transcript order
    suggestions: tuple[tuple[int, Event], ...]  # (stream position, event)
    offers: tuple[tuple[int, Event], ...]
    signals: tuple[Event, ...]
    feedback: tuple[tuple[int, Event], ...]
    ended: Event | None

    def said_by(self, speaker: str) -> list[Utterance]:
        return [u for u in self.utterances if u.speaker == speaker]

    def find(self, speaker: str, utterance_id: int) -> Utterance | None:
        return next((u for u in self.utterances if u.speaker == speaker and u.utterance_id == utterance_id), None)

    def actions_on(self, card_id: str) -> list[str]:
        return [str(e.get("action")) for _, e in self.feedback if e.get("card_id") == card_id]

    def customer_at(self, at_s: float, evidence: str | None = None) -> Utterance | None:
        """The customer utterance a signal at ``at_s`` (its end) refers to."""
        near = [u for u in self.said_by("customer") if abs(u.end_s - at_s) <= 0.6]
        exact = [u for u in near if evidence is not None and u.text == evidence]
        candidates = exact or near
        return candidates[0] if candidates else None

    @property
    def duration_s(self) -> float:
        return max((u.end_s for u in self.utterances), default=0.0)


def _utterance(index: int, event: Event) -> Utterance | None:
    text = str(event.get("text") or "").strip()
    speaker = event.get("speaker")
    if not text or speaker not in ("customer", "agent"):
        return None  # an empty final retracts noise
    start = float(event.get("start_s") or 0.0)
    utterance_id = event.get("utterance_id")
    return Utterance(
        str(speaker),
        int(utterance_id) if utterance_id is not None else index,
        start,
        float(event.get("end_s") or start),
        text,
        index,
        Normalized.of(text),
    )


def _language(started: Event | None, finals: list[Event], utterances: list[Utterance]) -> str:
    if started and started.get("language"):
        return language_key(str(started["language"]))
    for final in finals:
        if final.get("language"):
            return language_key(str(final["language"]))
    return "zh" if any(has_cjk(u.text) for u in utterances) else "en"


def call_view(events: Iterable[Event]) -> CallView:
    events = list(events)
    started: Event | None = None
    ended: Event | None = None
    finals: list[Event] = []
    utterances: list[Utterance] = []
    latest: dict[tuple[Any, Any], Utterance] = {}  # (speaker, utterance_id) -> its final as it stands
    by_type: dict[str, list[tuple[int, Event]]] = {"suggestion": [], "offer": [], "signal": [], "feedback": []}
    for index, event in enumerate(events):
        kind = event.get("type")
        if kind == "call_started":
            started = started or event
        elif kind == "call_ended":
            ended = event
        elif kind == "final":
            finals.append(event)
            utterance = _utterance(index, event)
            key = (event.get("speaker"), event.get("utterance_id"))
            if int(event.get("revision") or 0) > 0 and key in latest:
                # A revision replaces the final it revises, in place (an empty one retracts it).
                utterances.remove(latest.pop(key))
            if utterance is not None:
                utterances.append(utterance)
                latest[key] = utterance
        elif isinstance(kind, str) and kind in by_type:
            by_type[kind].append((index, event))
    caller = started.get("caller") if started else None
    call_id = started.get("call_id") if started else None
    call_id = call_id or next((e.get("call_id") for e in events if e.get("call_id")), None)
    return CallView(
        call_id=str(call_id) if call_id else None,
        agent_id=str(started["agent_id"]) if started and started.get("agent_id") else None,
        language=_language(started, finals, utterances),
        caller=caller if isinstance(caller, Mapping) else {},
        utterances=tuple(sorted(utterances, key=lambda u: u.key)),
        suggestions=tuple(by_type["suggestion"]),
        offers=tuple(by_type["offer"]),
        signals=tuple(e for _, e in by_type["signal"]),
        feedback=tuple(by_type["feedback"]),
        ended=ended,
    )


def customer_answers(view: CallView) -> list[list[Utterance]]:
    """The customer's answers: their utterances between two of the agent's. The recogniser ends
    an utterance at every pause (a Chinese speaker's comma, a sentence inside a long turn), so
    an utterance is not an answer: "查一下。合约哪天到期？" is one answer, not two curt ones."""
    turns: list[list[Utterance]] = []
    previous = "agent"
    for utterance in view.utterances:
        if utterance.speaker == "customer" and utterance.text.strip():
            if previous == "customer":
                turns[-1].append(utterance)
            else:
                turns.append([utterance])
        if utterance.text.strip():
            previous = utterance.speaker
    return turns


def first_match(
    phrases: PhraseSet, utterances: Iterable[Utterance], language: str
) -> tuple[Utterance, int, str] | None:
    """The first utterance with a phrase in it: (utterance, position, the phrase as written)."""
    for utterance in utterances:
        found = phrases.search(utterance.normalized, language)
        if found is not None:
            return utterance, found[0], found[1]
    return None


# -- offers: did the agent mention it? ----------------------------------------------------------------

_STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or"}
    | {"our", "the", "this", "to", "with", "your", "you", "per", "off", "new", "get", "can"}
)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _title_terms(title: str) -> tuple[set[str], bool]:
    """Words of an offer title worth finding (English), or its character bigrams (Chinese)."""
    compact = cjk_characters(title)
    if compact:
        return {compact[i : i + 2] for i in range(len(compact) - 1)} or {compact}, True
    return {_stem(w) for w in normalize(title).split() if len(w) >= 3 and w not in _STOPWORDS}, False


def offer_mention(view: CallView, position: int, offer: Event, min_words: int = 2) -> Utterance | None:
    """The first agent utterance after the offer appeared that uses enough words of its title."""
    terms, cjk = _title_terms(str(offer.get("title") or ""))
    if not terms:
        return None
    need = min(min_words, len(terms))
    for utterance in view.said_by("agent"):
        if utterance.index <= position:
            continue
        if cjk:
            found = sum(term in utterance.normalized.compact for term in terms)
        else:
            found = len(terms & {_stem(w) for w in utterance.normalized.words.split()})
        if found >= need:
            return utterance
    return None


# -- moments ------------------------------------------------------------------------------------------

_INTRODUCTION = re.compile(
    r"^(?:(?:hi|hello|hey|yes|yeah|ok|okay|uh|um|good (?:morning|afternoon|evening)) )*"
    r"(?:(?:my name is|this is)(?: (?:uh|um))? \w+(?: \w+)?)?"
)
_INTRODUCTION_ZH = re.compile(r"^(?:喂|你好|您好|嗯)*(?:我是|我叫)?")


def _request_words(utterance: Utterance) -> int:
    """Words after a greeting and an introduction ("hi my name is ann lee ...")."""
    if has_cjk(utterance.text):
        return word_count(_INTRODUCTION_ZH.sub("", utterance.normalized.compact))
    return word_count(_INTRODUCTION.sub("", utterance.normalized.words))


def problem_utterance(view: CallView, min_words: int = 4) -> Utterance | None:
    """Where the customer states the problem: the utterance that triggered the first knowledge
    card, else the first customer utterance with at least ``min_words`` words past a greeting
    and an introduction."""
    for _, suggestion in view.suggestions:
        trigger = suggestion.get("trigger")
        if isinstance(trigger, Mapping) and trigger.get("utterance_id") is not None:
            found = view.find("customer", int(trigger["utterance_id"]))
            if found is not None:
                return found
    return next((u for u in view.said_by("customer") if _request_words(u) >= min_words), None)


def negative_moment(
    view: CallView, signal_kinds: Collection[str], negative_phrases: PhraseSet
) -> tuple[tuple[float, int], Utterance | None, str] | None:
    """The first moment the customer was negative (a signal of one of ``signal_kinds``, or one of
    ``negative_phrases`` said by the customer): (transcript position, utterance, why)."""
    moments: list[tuple[tuple[float, int], Utterance | None, str]] = []
    for signal in view.signals:
        if signal.get("kind") in signal_kinds:
            at_s = float(signal.get("at_s") or 0.0)
            evidence = signal.get("evidence")
            utterance = view.customer_at(at_s, str(evidence) if evidence is not None else None)
            moments.append((utterance.key if utterance else (at_s, -1), utterance, f"{signal.get('kind')} signal"))
    found = first_match(negative_phrases, view.said_by("customer"), view.language)
    if found is not None:
        moments.append((found[0].key, found[0], f"customer said “{found[2]}”"))
    return min(moments, key=lambda m: m[0]) if moments else None
