"""Offers that fit this caller: a catalogue (offers.yaml) with eligibility over the profile and
trigger intents. Pure logic: the session feeds it intents and signals, it answers with offers.

Eligibility: every condition written at the top level must hold; ``any_of`` lists alternative
condition sets of which one must hold. Conditions: ``segments``, ``min_tenure_years``,
``plans``, ``flags_any``, ``min_monthly_spend``. Triggers are knowledge intents (``replace
card``) or the signals ``churn`` and ``dissatisfied``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assist.errors import AssistError
from assist.guidance.profiles import CustomerProfile

SIGNAL_TRIGGERS = ("churn", "dissatisfied")


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    segments: list[str] | None = None
    min_tenure_years: float | None = None
    plans: list[str] | None = None
    flags_any: list[str] | None = None
    min_monthly_spend: float | None = None

    def holds(self, profile: CustomerProfile) -> bool:
        if self.segments is not None and profile.segment not in [s.lower() for s in self.segments]:
            return False
        if self.min_tenure_years is not None and profile.tenure_years < self.min_tenure_years:
            return False
        if self.plans is not None and profile.plan not in self.plans:
            return False
        if self.flags_any is not None and not set(self.flags_any) & set(profile.flags):
            return False
        return not (self.min_monthly_spend is not None and profile.monthly_spend < self.min_monthly_spend)


class Eligibility(Conditions):
    any_of: list[Conditions] | None = None

    def holds(self, profile: CustomerProfile) -> bool:
        if not super().holds(profile):
            return False
        return self.any_of is None or any(c.holds(profile) for c in self.any_of)


class OfferModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    pitch: str
    language: str = "en"
    trigger_intents: list[str] = Field(min_length=1)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    value: str = ""
    priority: int = 50


@dataclass(frozen=True)
class Offer:
    id: str
    title: str
    pitch: str
    language: str
    triggers: frozenset[str]
    eligibility: Eligibility
    value: str
    priority: int


def load_offers(path: Path) -> list[Offer]:
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("offers", []), list):
            raise AssistError(f"{path}:1: expected a mapping with an 'offers:' list")
        models = [OfferModel.model_validate(item) for item in data.get("offers", [])]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise AssistError(f"{path}:{mark.line + 1 if mark else 1}: invalid YAML: {error}") from error
    except ValidationError as error:
        raise AssistError(f"{path}: invalid offer: {error}") from error
    ids = [m.id for m in models]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise AssistError(f"{path}: duplicate offer ids {sorted(duplicates)}")
    return [
        Offer(
            m.id,
            m.title,
            m.pitch,
            m.language,
            frozenset(t.lower() for t in m.trigger_intents),
            m.eligibility,
            m.value,
            m.priority,
        )
        for m in models
    ]


@dataclass
class OfferPolicy:
    """Per call: which offers to show, each at most once."""

    catalogue: list[Offer]
    profile: CustomerProfile | None
    language: str = "en"
    max_offers: int = 2  # per trigger: a sidebar with five offers is ignored
    shown: set[str] = field(default_factory=set)

    def on_trigger(self, trigger: str, *, reason: str) -> list[dict[str, Any]]:
        """Offers this trigger (an intent or a signal) unlocks for this caller."""
        if self.profile is None:
            return []
        trigger = trigger.lower()
        eligible = sorted(
            (
                o
                for o in self.catalogue
                if trigger in o.triggers
                and o.id not in self.shown
                and o.language == self.language
                and o.eligibility.holds(self.profile)
            ),
            key=lambda o: -o.priority,
        )[: self.max_offers]
        cards = []
        for offer in eligible:
            self.shown.add(offer.id)
            cards.append(
                {
                    "type": "offer",
                    "card_id": f"offer:{offer.id}",
                    "offer_id": offer.id,
                    "title": offer.title,
                    "pitch": offer.pitch,
                    "value": offer.value,
                    "trigger": trigger,
                    "reason": f"{reason} · {self._why(offer)}",
                    "confidence": 1.0,
                }
            )
        return cards

    def _why(self, offer: Offer) -> str:
        profile = self.profile
        assert profile is not None
        parts = [f"{profile.segment} customer"]
        if profile.tenure_years:
            parts.append(f"{profile.tenure_years:g} years")
        if profile.flags:
            parts.append(", ".join(profile.flags))
        return "eligible: " + ", ".join(parts)
