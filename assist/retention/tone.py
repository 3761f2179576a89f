"""The customer's tone, utterance by utterance, for the falling-tone sign.

English: VADER (Hutto & Gilbert 2014; a sentiment model validated on short informal text, MIT
licence). Measured against the complaint lexicon on the retention evaluation's calls through the
speech path (``python -m assist.bench.retention_tone``), VADER's trend over a call separates the
customers at risk from the rest far better than the lexicon's (docs/retention.md): customers
who stay keep a warm tone ("lovely", "thanks so much") that complaint words never see.
Other languages (Chinese): the live guidance's lexicon, positive words minus complaint words;
no Chinese model was measured to beat it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from assist.guidance.signals import lexicon_score, utterance_dissatisfaction


class ToneModel(Protocol):
    def polarity(self, text: str) -> float:
        """-1 (negative) … 1 (positive)."""
        ...


@dataclass(frozen=True)
class Tone:
    """A language's tone model and how far its call trend must fall to count."""

    model: ToneModel
    falling_by: float  # mean of the first third minus mean of the last third


class VaderTone:
    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def polarity(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])


class LexiconTone:
    def __init__(self, language: str) -> None:
        self.language = language

    def polarity(self, text: str) -> float:
        positive, _ = lexicon_score(text, "positive", self.language)
        return max(-1.0, min(1.0, min(positive, 1.0) - utterance_dissatisfaction(text, self.language)))


VADER_FALLING_BY = 0.15  # chosen on the tuning calls; checked on the held-out ones
LEXICON_FALLING_BY = 0.3


def fall(scores: Sequence[float]) -> float:
    """How far a call's scores fell: the mean of its first third minus the mean of its last
    third (0 for fewer than three)."""
    if len(scores) < 3:
        return 0.0
    third = len(scores) // 3
    return sum(scores[:third]) / third - sum(scores[-third:]) / third


@cache
def tone_for(language: str) -> Tone:
    """One model per language per process (VADER loads its lexicon once)."""
    if language == "en":
        return Tone(VaderTone(), VADER_FALLING_BY)
    return Tone(LexiconTone(language), LEXICON_FALLING_BY)
