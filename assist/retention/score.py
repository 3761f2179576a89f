"""The after-call risk score: the signs of a call, weighted (a YAML file people tune), and the
customer's value, which ranks the worklist (risk × value). Pure logic; the call log supplies the
facts and keeps the results (assist/retention/service.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assist.errors import ConfigError
from assist.retention.signs import (
    CallFacts,
    IntentOf,
    Sign,
    asked_to_leave,
    loud_signs,
    quiet_signs,
    valuable_unresolved,
)

DEFAULT_WEIGHTS = Path(__file__).with_name("default_weights.yaml")


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid")
    segments: dict[str, float] = Field(default_factory=dict)
    unknown: float = 1.0
    per_monthly_spend: float = 0.0
    tenure_years_cap: float = 10.0


class RiskWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at_risk: float = Field(0.5, gt=0.0, lt=1.0)
    repeat_window_days: float = Field(14.0, gt=0.0)
    weights: dict[str, float]
    # A sign with a negative weight (ended_content) takes back only what these signs added.
    offsets: list[str] = Field(default_factory=list)
    value: _Value = Field(default_factory=_Value)
    # Segments whose unresolved calls are a sign of their own (valuable_unresolved).
    valuable_segments: list[str] = Field(default_factory=lambda: ["vip", "gold"])
    # Knowledge-base intents that mean leaving, when they match the customer's first request.
    churn_intents: list[str] = Field(default_factory=list)


def load_weights(path: Path | None = None) -> RiskWeights:
    """The weights file (default: the packaged one); a mistake stops the start with its path."""
    path = path or DEFAULT_WEIGHTS
    try:
        return RiskWeights.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise ConfigError(f"retention weights {path}: {error}") from error


@dataclass(frozen=True)
class Risk:
    score: float  # 0-1
    at_risk: bool
    value: float  # the customer's value: segment, spend, tenure
    priority: float  # score × value: the worklist's order
    signs: tuple[Sign, ...]

    def reasons(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.signs]


def customer_value(profile: Mapping[str, Any], weights: RiskWeights) -> float:
    """Segment first (a VIP outranks any standard customer at equal risk), then spend and tenure."""
    v = weights.value
    if not profile:
        return v.unknown
    segment = str(profile.get("segment") or "").lower()
    base = v.segments.get(segment, v.unknown)
    spend = float(profile.get("monthly_spend") or 0.0) * v.per_monthly_spend
    tenure = min(float(profile.get("tenure_years") or 0.0), v.tenure_years_cap) / v.tenure_years_cap * 0.1
    # Spend and tenure refine within a segment and never lift a customer into the next one.
    return base + min(0.9, spend + tenure)


def _weighted_sum(signs: tuple[Sign, ...], weights: RiskWeights) -> float:
    """Positive signs add up; negative ones (a customer who ended content) take back at most
    what the offsettable signs (complaints during the call) added, never a repeat call or
    words of leaving."""
    added = [weights.weights.get(s.kind, 0.0) * s.strength for s in signs]
    against = -sum(w for w in added if w < 0)
    offsettable = sum(w for s, w in zip(signs, added, strict=True) if w > 0 and s.kind in weights.offsets)
    return sum(w for w in added if w > 0) - min(against, offsettable)


def assess(facts: CallFacts, weights: RiskWeights, intent_of: IntentOf | None = None) -> Risk:
    """``intent_of``: the knowledge base's matcher, to read the customer's first request again
    from the transcript as it stands (without it, the first live card stands for it)."""
    loud = loud_signs(facts)
    if not any(s.kind in ("churn_words", "churn_considered") for s in loud):
        loud += [s for s in [asked_to_leave(facts.view, weights.churn_intents, intent_of)] if s is not None]
    signs = tuple(
        sorted(
            loud
            + quiet_signs(facts, weights.repeat_window_days)
            + [s for s in [valuable_unresolved(facts, weights.valuable_segments)] if s is not None],
            key=lambda s: -weights.weights.get(s.kind, 0.0) * s.strength,
        )
    )
    total = _weighted_sum(signs, weights)
    score = 1.0 - math.exp(-total)
    value = customer_value(facts.profile or facts.view.caller, weights)
    return Risk(round(score, 3), score >= weights.at_risk, round(value, 3), round(score * value, 4), signs)
