"""The QA scorecard as configuration (YAML): items with a weight, a rule and phrases per language.

The default ships with the package (default_scorecard.yaml); a deployment may load its own.
Loading validates every item and names the file and the item in any error.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from assist.errors import ConfigError
from assist.qa.text import PhraseSet

DEFAULT_SCORECARD = "default_scorecard.yaml"


class ScorecardError(ConfigError):
    """A scorecard file is missing or invalid; the message names the file and the item."""


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
