"""Scoring streamed transcripts against timed references. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jiwer
import numpy as np
from whisper_normalizer.english import EnglishTextNormalizer

from assist.events import FinalTranscript, TranscriptEvent
from assist.stt.script import to_script
from assist.stt.zh_numbers import numbers_as_digits

_normaliser = EnglishTextNormalizer()
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CHARACTER = re.compile(r"[^\W_]")  # a letter, digit or Chinese character: what CER counts
TIME_TOLERANCE_S = 0.3  # VAD edges and word timings are this loose


@dataclass(frozen=True, slots=True)
class RefSegment:
    speaker: str
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True, slots=True)
class UtteranceScore:
    speaker: str
    start_s: float
    end_s: float
    final_latency_s: float | None  # reference end → the final that covers it; None = lost
    first_text_latency_s: float | None  # reference start → first interim or final covering it
    # The final that delivered it also holds the speaker's next reference utterance: the pause
    # between them was too short to end an utterance, so its latency includes the next one.
    merged: bool = False


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def normalise_chinese(text: str) -> str:
    """Characters separated by spaces, so that word error rate over them is CER: simplified
    script, numbers as digits, no punctuation or spaces, Latin letters lower-cased."""
    return " ".join(_CHARACTER.findall(numbers_as_digits(to_script(text, "t2s")).lower()))


def normalise(text: str) -> str:
    return normalise_chinese(text) if is_chinese(text) else str(_normaliser(text))


def error_unit(references: Iterable[str]) -> str:
    """What ``wer`` counts for these references: "CER" for Chinese, "WER" otherwise."""
    return "CER" if any(is_chinese(r) for r in references) else "WER"


_BETWEEN_DIGITS = re.compile(r"(?<=\d)(?=\d)")


def digits_one_by_one(normalised: str) -> str:
    """Every digit a token of its own. Whisper's normaliser joins spoken digits into one number
    ("seven one five one three" → 71513) but leaves a decode's grouping as written ("715 1 3"
    → "715 one 3"), so one account number read out digit by digit scores as 8 errors for how
    the digits were grouped, not which were heard. The normaliser also writes a lone "1" as
    "one"; between digits it is put back."""
    tokens = _BETWEEN_DIGITS.sub(" ", normalised).split()
    digit = [token.isdigit() for token in tokens]
    return " ".join(
        "1" if token == "one" and ((i > 0 and digit[i - 1]) or (i + 1 < len(tokens) and digit[i + 1])) else token
        for i, token in enumerate(tokens)
    )


def wer(references: Sequence[str], hypotheses: Sequence[str], *, split_digits: bool = False) -> float:
    """Corpus WER after Whisper's English normaliser on both sides; for Chinese references, the
    character error rate (CER) after ``normalise_chinese``. ``split_digits``: digits counted one
    by one (``digits_one_by_one``), so how a number was grouped is not an error."""
    pairs = [
        (normalise(r), normalise_chinese(h) if is_chinese(r) else normalise(h))
        for r, h in zip(references, hypotheses, strict=True)
    ]
    if split_digits:
        pairs = [(digits_one_by_one(r), digits_one_by_one(h)) for r, h in pairs]
    pairs = [(r, h) for r, h in pairs if r.strip()]
    if not pairs:
        return 0.0
    return float(jiwer.wer([r for r, _ in pairs], [h if h.strip() else "<empty>" for _, h in pairs]))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def score_utterances(references: Iterable[RefSegment], events: Sequence[TranscriptEvent]) -> list[UtteranceScore]:
    """Match each reference utterance to the streamed events of the same speaker by time."""
    scores = []
    references = list(references)
    for ref in references:
        mine = [e for e in events if e.speaker == ref.speaker]
        finals = [e for e in mine if isinstance(e, FinalTranscript) and e.text]
        covering = [
            f
            for f in finals
            if _overlap(f.start_s - TIME_TOLERANCE_S, f.end_s + TIME_TOLERANCE_S, ref.start_s, ref.end_s) > 0
        ]
        complete = [f for f in covering if f.end_s >= ref.end_s - TIME_TOLERANCE_S]
        delivering = (
            min(complete, key=lambda f: f.emitted_s)
            if complete
            else (max(covering, key=lambda f: f.emitted_s) if covering else None)
        )
        merged = delivering is not None and any(
            r.speaker == ref.speaker and ref.end_s < r.start_s < delivering.end_s - TIME_TOLERANCE_S for r in references
        )
        touching = [
            e for e in mine if e.text and _overlap(e.start_s - TIME_TOLERANCE_S, e.end_s, ref.start_s, ref.end_s) > 0
        ]
        first = min((e.emitted_s for e in touching), default=None)
        scores.append(
            UtteranceScore(
                speaker=ref.speaker,
                start_s=ref.start_s,
                end_s=ref.end_s,
                final_latency_s=None if delivering is None else delivering.emitted_s - ref.end_s,
                first_text_latency_s=None if first is None else first - ref.start_s,
                merged=merged,
            )
        )
    return scores


def settled_finals(events: Sequence[TranscriptEvent]) -> list[FinalTranscript]:
    """Finals as a listener ends up with them: a revision (same speaker and utterance id)
    replaces the earlier final in place; the order is that of the first final."""
    latest: dict[tuple[str, int], FinalTranscript] = {}
    for event in events:
        if isinstance(event, FinalTranscript):
            key = (event.speaker, event.utterance_id)
            if key not in latest or event.revision >= latest[key].revision:
                latest[key] = event
    return list(latest.values())


def words_in_silence(references: Sequence[RefSegment], events: Sequence[TranscriptEvent]) -> int:
    """Final words of a speaker that lie where the reference has that speaker silent."""
    count = 0
    for event in settled_finals(events):
        spans = [(r.start_s, r.end_s) for r in references if r.speaker == event.speaker]
        for word in event.words:
            if not any(
                _overlap(word.start_s, max(word.end_s, word.start_s + 0.01), s - TIME_TOLERANCE_S, e + TIME_TOLERANCE_S)
                > 0
                for s, e in spans
            ):
                count += 1
    return count


def percentile(values: Iterable[float | None], q: float) -> float | None:
    data = [v for v in values if v is not None]
    return float(np.percentile(data, q)) if data else None
