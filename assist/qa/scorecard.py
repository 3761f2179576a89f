"""Automatic QA scorecard: a pure function of a call's event stream (the messages the agent
sidebar receives: ``call_started``, ``final``, ``suggestion``, ``offer``, ``signal``,
``feedback``, ``call_ended``).

The scorecard is configuration (YAML): items with a weight, a rule and phrases per language.
The default ships with the package (default_scorecard.yaml); a deployment may load its own.
Phrase matching ignores case, punctuation and apostrophes ("I've" reads as "I have"); English
phrases match whole words, Chinese phrases match as substrings.

The text helpers and the call view here are shared with assist.qa.summary.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from assist.errors import ConfigError

Event = Mapping[str, Any]
Status = Literal["passed", "failed", "not_applicable"]
DEFAULT_SCORECARD = "default_scorecard.yaml"


class ScorecardError(ConfigError):
    """A scorecard file is missing or invalid; the message names the file and the item."""


# -- text ------------------------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_CONTRACTIONS = (
    (re.compile(r"\bcan't\b"), "cannot"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'d\b"), " would"),
)
_PLACEHOLDER = re.compile(r"\[([^\[\]]{1,40})\]")  # redacted text: "[card]" reads as "card"
_NON_WORD = re.compile(r"[^\w]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalize(text: str) -> str:
    """Lower case, contractions expanded, apostrophes and punctuation dropped, single spaces."""
    text = _PLACEHOLDER.sub(r" \1 ", text.translate(_QUOTES).lower())
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return " ".join(_NON_WORD.sub(" ", text.replace("'", "")).split())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True, slots=True)
class Normalized:
    """An utterance ready for matching: words (English) and without spaces (Chinese)."""

    words: str
    compact: str

    @classmethod
    def of(cls, text: str) -> Normalized:
        words = normalize(text)
        return cls(words, words.replace(" ", ""))


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str
    pattern: re.Pattern[str]
    cjk: bool

    @classmethod
    def of(cls, text: str) -> Phrase:
        words = normalize(text)
        if not words:
            raise ValueError(f"phrase {text!r} has no words")
        if has_cjk(words):
            return cls(text, re.compile(re.escape(words.replace(" ", ""))), True)
        return cls(text, re.compile(rf"(?<!\w){re.escape(words)}(?!\w)"), False)

    def search(self, text: Normalized) -> int | None:
        found = self.pattern.search(text.compact if self.cjk else text.words)
        return found.start() if found else None


def language_key(language: str | None) -> str:
    """'zh-CN' → 'zh'; empty → 'en'."""
    return re.split(r"[-_]", (language or "en").strip().lower())[0] or "en"


@dataclass(frozen=True)
class PhraseSet:
    """Phrases per language; a language without its own list uses the English one."""

    by_language: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, table: Mapping[str, Sequence[str]]) -> PhraseSet:
        return cls({language_key(lang): tuple(Phrase.of(p) for p in phrases) for lang, phrases in table.items()})

    def __bool__(self) -> bool:
        return any(self.by_language.values())

    def for_language(self, language: str) -> tuple[Phrase, ...]:
        key = language_key(language)
        return self.by_language.get(key) or self.by_language.get("en") or ()

    def search(self, text: Normalized, language: str) -> tuple[int, str] | None:
        """The earliest match in the text: (position, the phrase as written)."""
        best: tuple[int, str] | None = None
        for phrase in self.for_language(language):
            position = phrase.search(text)
            if position is not None and (best is None or position < best[0]):
                best = (position, phrase.text)
        return best


def word_count(text: str) -> int:
    """Words, with two Chinese characters counting as one word."""
    return len(_CJK.sub(" ", text).split()) + len(_CJK.findall(text)) // 2


# -- the call, as its events tell it -----------------------------------------------------------------


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
            if utterance is not None:
                utterances.append(utterance)
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


# -- offers: did the agent mention it? ----------------------------------------------------------------

_STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or"}
    | {"our", "the", "this", "to", "with", "your", "you", "per", "off", "new", "get", "can"}
)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _title_terms(title: str) -> tuple[set[str], bool]:
    """Words of an offer title worth finding (English), or its character bigrams (Chinese)."""
    compact = "".join(_CJK.findall(title))
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


# -- the scorecard -----------------------------------------------------------------------------------

Rule = Literal["opening", "before", "after_problem", "after_negative", "anywhere", "closing", "offer_mentioned"]
PHRASE_RULES = ("opening", "before", "after_problem", "after_negative", "anywhere", "closing")
_COMMON = {"id", "title", "description", "weight", "rule"}
_PARAMS: dict[str, set[str]] = {
    "opening": {"speaker", "phrases", "within_s", "first_n"},
    "before": {"speaker", "phrases", "before_phrases"},
    "after_problem": {"phrases", "within_n", "min_problem_words"},
    "after_negative": {"phrases", "within_n", "signal_kinds", "negative_phrases"},
    "anywhere": {"speaker", "phrases"},
    "closing": {"speaker", "phrases", "last_n"},
    "offer_mentioned": {"feedback_actions", "min_title_words"},
}
PhraseText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PhraseTable = dict[str, list[PhraseText]]


class _ItemModel(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = Field(min_length=1)
    description: str = ""
    weight: float = Field(gt=0)
    rule: Rule
    speaker: Literal["agent", "customer"] = "agent"
    phrases: PhraseTable = Field(default_factory=dict)
    before_phrases: PhraseTable = Field(default_factory=dict)
    negative_phrases: PhraseTable = Field(default_factory=dict)
    signal_kinds: list[str] = Field(default_factory=list)
    within_s: float | None = Field(default=None, gt=0)
    first_n: int | None = Field(default=None, ge=1)
    last_n: int = Field(default=3, ge=1)
    within_n: int | None = Field(default=None, ge=1)
    min_problem_words: int = Field(default=4, ge=1)
    feedback_actions: list[str] = Field(default_factory=lambda: ["used", "offered", "accepted", "declined"])
    min_title_words: int = Field(default=2, ge=1)


class _ScorecardModel(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
    name: str = Field(min_length=1)
    version: str = "1"
    description: str = ""
    items: list[Any] = Field(min_length=1)


@dataclass(frozen=True)
class ScorecardItem:
    id: str
    title: str
    weight: float
    rule: Rule
    speaker: str = "agent"
    phrases: PhraseSet = field(default_factory=PhraseSet)
    before_phrases: PhraseSet = field(default_factory=PhraseSet)
    negative_phrases: PhraseSet = field(default_factory=PhraseSet)
    signal_kinds: frozenset[str] = frozenset()
    within_s: float | None = None
    first_n: int | None = None
    last_n: int = 3
    within_n: int | None = None
    min_problem_words: int = 4
    feedback_actions: frozenset[str] = frozenset()
    min_title_words: int = 2
    description: str = ""


@dataclass(frozen=True)
class Scorecard:
    name: str
    version: str
    items: tuple[ScorecardItem, ...]
    description: str = ""
    source: str = ""

    def item(self, item_id: str) -> ScorecardItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def _errors(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors())


def _rule_problems(model: _ItemModel, given: set[str]) -> list[str]:
    problems = [
        f"'{name}' is not used by rule '{model.rule}'" for name in sorted(given - _COMMON - _PARAMS[model.rule])
    ]
    if model.rule in PHRASE_RULES and not any(model.phrases.values()):
        problems.append(f"rule '{model.rule}' needs 'phrases' (a list per language, e.g. en: [...])")
    if model.rule == "before" and not any(model.before_phrases.values()):
        problems.append("rule 'before' needs 'before_phrases' (what must come after the phrases)")
    if model.rule == "after_negative" and not (model.signal_kinds or any(model.negative_phrases.values())):
        problems.append("rule 'after_negative' needs 'signal_kinds' or 'negative_phrases'")
    return problems


def _item(raw: Any, number: int, source: str) -> ScorecardItem:
    label = f"item {number}"
    if isinstance(raw, Mapping) and raw.get("id"):
        label += f" ({raw['id']!r})"
    if not isinstance(raw, Mapping):
        raise ScorecardError(f"{source}: {label}: expected a mapping with id, title, weight, rule")
    try:
        model = _ItemModel.model_validate(raw)
    except ValidationError as error:
        raise ScorecardError(f"{source}: {label}: {_errors(error)}") from error
    problems = _rule_problems(model, {str(k) for k in raw})
    if problems:
        raise ScorecardError(f"{source}: {label}: {'; '.join(problems)}")
    try:
        tables = (model.phrases, model.before_phrases, model.negative_phrases)
        phrases, before, negative = (PhraseSet.of(table) for table in tables)
    except ValueError as error:
        raise ScorecardError(f"{source}: {label}: {error}") from error
    within_s, first_n = model.within_s, model.first_n
    if model.rule == "opening" and within_s is None and first_n is None:
        within_s, first_n = 30.0, 3
    return ScorecardItem(
        id=model.id,
        title=model.title,
        weight=model.weight,
        rule=model.rule,
        speaker=model.speaker,
        phrases=phrases,
        before_phrases=before,
        negative_phrases=negative,
        signal_kinds=frozenset(model.signal_kinds),
        within_s=within_s,
        first_n=first_n,
        last_n=model.last_n,
        within_n=model.within_n,
        min_problem_words=model.min_problem_words,
        feedback_actions=frozenset(model.feedback_actions),
        min_title_words=model.min_title_words,
        description=model.description,
    )


def parse_scorecard(text: str, source: str = "<scorecard>") -> Scorecard:
    """A scorecard from YAML text; ``source`` names it in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ScorecardError(f"{source}:{mark.line + 1 if mark else 1}: invalid YAML: {error}") from error
    if not isinstance(data, Mapping):
        raise ScorecardError(f"{source}: expected a mapping with name, version and an 'items:' list")
    try:
        header = _ScorecardModel.model_validate(data)
    except ValidationError as error:
        raise ScorecardError(f"{source}: {_errors(error)}") from error
    items = tuple(_item(raw, number, source) for number, raw in enumerate(header.items, start=1))
    ids = [item.id for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScorecardError(f"{source}: duplicate item ids {duplicates}")
    return Scorecard(header.name, header.version, items, header.description, source)


def load_scorecard(path: Path | None = None) -> Scorecard:
    """The scorecard in ``path``, or the default one shipped with the package."""
    if path is None:
        text = resources.files(__package__ or "assist.qa").joinpath(DEFAULT_SCORECARD).read_text(encoding="utf-8")
        return parse_scorecard(text, f"assist/qa/{DEFAULT_SCORECARD}")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScorecardError(f"{path}: cannot read scorecard: {error.strerror or error}") from error
    return parse_scorecard(text, str(path))


@functools.cache
def default_scorecard() -> Scorecard:
    """The packaged scorecard, loaded once."""
    return load_scorecard()


# -- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    id: str
    title: str
    status: Status
    weight: float
    evidence: dict[str, Any] | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "weight": self.weight,
            "evidence": dict(self.evidence) if self.evidence else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class QaResult:
    scorecard_name: str
    scorecard_version: str
    call_id: str | None
    agent_id: str | None
    language: str
    items: tuple[ItemResult, ...]
    score: float | None  # 0-100 over applicable items; None when nothing applied

    def item(self, item_id: str) -> ItemResult:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(i.status == s for i in self.items) for s in ("passed", "failed", "not_applicable")}
        return {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "language": self.language,
            "scorecard": {"name": self.scorecard_name, "version": self.scorecard_version},
            "score": self.score,
            "counts": counts,
            "items": [item.to_dict() for item in self.items],
        }


def _result(item: ScorecardItem, status: Status, note: str, evidence: Utterance | None = None) -> ItemResult:
    return ItemResult(item.id, item.title, status, item.weight, evidence.evidence() if evidence else None, note)


def _first_match(
    phrases: PhraseSet, utterances: Iterable[Utterance], language: str
) -> tuple[Utterance, int, str] | None:
    for utterance in utterances:
        found = phrases.search(utterance.normalized, language)
        if found is not None:
            return utterance, found[0], found[1]
    return None


def _phrase_check(
    item: ScorecardItem, scope: Sequence[Utterance], language: str, where: str, failed_evidence: Utterance | None = None
) -> ItemResult:
    found = _first_match(item.phrases, scope, language)
    if found is not None:
        return _result(item, "passed", f"{item.speaker} said “{found[2]}” {where}", found[0])
    return _result(item, "failed", f"no matching phrase from the {item.speaker} {where}", failed_evidence)


# -- rules: each answers one item for one call ----------------------------------------------------------


def _rule_opening(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    scope = [
        u
        for n, u in enumerate(turns)
        if (item.first_n is not None and n < item.first_n) or (item.within_s is not None and u.start_s <= item.within_s)
    ]
    limits = []
    if item.within_s is not None:
        limits.append(f"the first {item.within_s:g} s")
    if item.first_n is not None:
        limits.append(f"the first {item.first_n} utterances")
    return _phrase_check(item, scope, view.language, "in " + " or ".join(limits))


def _rule_closing(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    return _phrase_check(item, turns[-item.last_n :], view.language, f"in the last {item.last_n} utterances")


def _rule_anywhere(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    return _phrase_check(item, turns, view.language, "during the call")


def _rule_before(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    guarded = _first_match(item.before_phrases, turns, view.language)
    if guarded is None:
        return _result(item, "not_applicable", "no account details were discussed")
    g_utterance, g_position, g_phrase = guarded
    check = _first_match(item.phrases, turns, view.language)
    if check is not None:
        c_utterance, c_position, c_phrase = check
        if c_utterance.key < g_utterance.key or (c_utterance is g_utterance and c_position < g_position):
            return _result(item, "passed", f"“{c_phrase}” before account details (“{g_phrase}”)", c_utterance)
    return _result(item, "failed", f"account details (“{g_phrase}”) came before any identity check", g_utterance)


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


def _window(turns: list[Utterance], after: tuple[float, int], limit: int | None) -> list[Utterance]:
    following = [u for u in turns if u.key > after]
    return following[:limit] if limit is not None else following


def _rule_after_problem(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    problem = problem_utterance(view, item.min_problem_words)
    if problem is None:
        return _result(item, "not_applicable", "the customer did not state a problem")
    scope = _window(turns, problem.key, item.within_n)
    where = "after the customer stated the problem"
    if item.within_n is not None:
        where = f"within {item.within_n} replies after the customer stated the problem"
    return _phrase_check(item, scope, view.language, where, failed_evidence=problem)


def negative_moment(view: CallView, item: ScorecardItem) -> tuple[tuple[float, int], Utterance | None, str] | None:
    """The first moment the customer was negative: (transcript position, utterance, why)."""
    moments: list[tuple[tuple[float, int], Utterance | None, str]] = []
    for signal in view.signals:
        if signal.get("kind") in item.signal_kinds:
            at_s = float(signal.get("at_s") or 0.0)
            evidence = signal.get("evidence")
            utterance = view.customer_at(at_s, str(evidence) if evidence is not None else None)
            moments.append((utterance.key if utterance else (at_s, -1), utterance, f"{signal.get('kind')} signal"))
    found = _first_match(item.negative_phrases, view.said_by("customer"), view.language)
    if found is not None:
        moments.append((found[0].key, found[0], f"customer said “{found[2]}”"))
    return min(moments, key=lambda m: m[0]) if moments else None


def _rule_after_negative(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    moment = negative_moment(view, item)
    if moment is None:
        return _result(item, "not_applicable", "the customer was not negative")
    position, utterance, why = moment
    where = f"after the customer was negative ({why})"
    return _phrase_check(item, _window(turns, position, item.within_n), view.language, where, utterance)


def _rule_offer(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    if not view.offers:
        return _result(item, "not_applicable", "no offer was shown")
    for position, offer in view.offers:
        title = str(offer.get("title") or offer.get("offer_id") or "offer")
        marked = [a for a in view.actions_on(str(offer.get("card_id"))) if a in item.feedback_actions]
        if marked:
            return _result(item, "passed", f"offer “{title}” marked {marked[0]} by the agent")
        mention = offer_mention(view, position, offer, item.min_title_words)
        if mention is not None:
            return _result(item, "passed", f"agent mentioned offer “{title}”", mention)
    titles = ", ".join(f"“{o.get('title') or o.get('offer_id')}”" for _, o in view.offers)
    return _result(item, "failed", f"offer {titles} shown but not mentioned")


_RULES = {
    "opening": _rule_opening,
    "before": _rule_before,
    "after_problem": _rule_after_problem,
    "after_negative": _rule_after_negative,
    "anywhere": _rule_anywhere,
    "closing": _rule_closing,
    "offer_mentioned": _rule_offer,
}


def score_item(item: ScorecardItem, view: CallView) -> ItemResult:
    turns = view.said_by(item.speaker)
    if item.rule in PHRASE_RULES:
        if not turns:
            return _result(item, "not_applicable", f"the {item.speaker} did not speak")
        if not item.phrases.for_language(view.language):
            return _result(item, "not_applicable", f"no phrases for language '{view.language}'")
    return _RULES[item.rule](item, view, turns)


def score_call(events: Iterable[Event], scorecard: Scorecard | None = None) -> QaResult:
    """Score one call (its events in order) on the scorecard (default: the packaged one)."""
    card = scorecard or default_scorecard()
    view = call_view(events)
    items = tuple(score_item(item, view) for item in card.items)
    applicable = sum(i.weight for i in items if i.status != "not_applicable")
    passed = sum(i.weight for i in items if i.status == "passed")
    score = round(100 * passed / applicable, 1) if applicable else None
    return QaResult(card.name, card.version, view.call_id, view.agent_id, view.language, items, score)


# -- aggregates ----------------------------------------------------------------------------------------


@dataclass
class _Tally:
    calls: int = 0
    scores: list[float] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, result: Mapping[str, Any]) -> None:
        self.calls += 1
        if result.get("score") is not None:
            self.scores.append(float(result["score"]))
        for item in result.get("items") or []:
            entry = self.items.setdefault(
                str(item["id"]), {"title": item.get("title", ""), "passed": 0, "failed": 0, "not_applicable": 0}
            )
            status = str(item.get("status"))
            if status in ("passed", "failed", "not_applicable"):
                entry[status] += 1

    def to_dict(self) -> dict[str, Any]:
        items = {}
        for item_id, entry in self.items.items():
            judged = entry["passed"] + entry["failed"]
            items[item_id] = {**entry, "pass_rate": round(entry["passed"] / judged, 3) if judged else None}
        return {
            "calls": self.calls,
            "scored_calls": len(self.scores),
            "mean_score": round(sum(self.scores) / len(self.scores), 1) if self.scores else None,
            "items": items,
        }


def aggregate(results: Iterable[tuple[str, Mapping[str, Any] | QaResult]]) -> dict[str, Any]:
    """Per agent and overall: calls, scored calls, mean score, and per item the pass rate over the
    calls where it applied (None when it never did). ``results``: (agent id, result or its dict).
    Returns ``{"agents": {agent id: aggregate}, "overall": aggregate}``, agents sorted by id."""
    agents: dict[str, _Tally] = {}
    overall = _Tally()
    for agent_id, result in results:
        data = result.to_dict() if isinstance(result, QaResult) else result
        agents.setdefault(agent_id, _Tally()).add(data)
        overall.add(data)
    return {"agents": {a: agents[a].to_dict() for a in sorted(agents)}, "overall": overall.to_dict()}
