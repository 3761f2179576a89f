"""Typed events passed between stages. No behaviour lives here.

Times ending in ``_s`` are seconds since the start of the call's audio (the stream position),
except ``emitted_s``, which is when the event was produced on the same time axis. Durations
end in ``_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Speaker = Literal["customer", "agent"]
SPEAKERS: tuple[Speaker, Speaker] = ("customer", "agent")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start_s: float
    end_s: float
    confidence: float


@dataclass(frozen=True, slots=True)
class SttTimings:
    """What it cost to produce one transcript event, stage by stage."""

    audio_end_s: float  # stream position of the last sample the decode saw
    trigger_s: float  # stream position at which the decode was requested (endpoint for finals)
    queued_ms: float  # waiting in the scheduler's queue
    decode_ms: float  # encoder + decoder (+ alignment for finals), whole batch
    batch_size: int
    padded_s: float  # encoder window the audio was padded to


@dataclass(frozen=True, slots=True)
class InterimTranscript:
    """The best guess so far for an utterance still being spoken; replaced by later events."""

    speaker: Speaker
    utterance_id: int
    start_s: float
    end_s: float
    text: str
    emitted_s: float
    timings: SttTimings
    type: Literal["interim"] = "interim"


@dataclass(frozen=True, slots=True)
class FinalTranscript:
    """The transcript of one finished utterance. A later final of the same speaker and
    ``utterance_id`` with a higher ``revision`` replaces it (a slower decode that disagreed)."""

    speaker: Speaker
    utterance_id: int
    start_s: float
    end_s: float
    text: str
    emitted_s: float
    timings: SttTimings
    language: str
    confidence: float
    words: tuple[Word, ...] = field(default_factory=tuple)
    revision: int = 0
    type: Literal["final"] = "final"


TranscriptEvent = InterimTranscript | FinalTranscript
