"""Turn revisions: a speaker's clauses decoded again together once the turn is over (pure logic).

The endpointer ends an utterance at every pause long enough, and a Mandarin speaker pauses
0.3-0.45 s at commas, so each clause is decoded alone, without the rest of its sentence: a
three-character fragment decoded alone can come out as anything. Each clause's final is
published at once (latency does not wait for the turn); when the speaker has stopped for a
moment, the clauses of the turn are decoded again as one piece of audio and each clause whose
words changed gets a revised final (assist/stt/transcriber.py applies them).

Here: which finals make a turn, when a turn is due, and how the words decoded for the joined
audio go back to the clauses they were said in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Levenshtein

from assist.stt.engine import DecodedWord
from assist.stt.text import normalized_words

RATE_HZ = 16_000


@dataclass(frozen=True)
class TurnOptions:
    join_gap_s: float = 0.8  # clauses closer than this (end to next start) are one turn
    end_after_s: float = 0.6  # the turn is over after this much time without speech
    max_turn_s: float = 24.0  # the joined audio stays inside Whisper's 30 s window
    # Only turns the speaker ran on through without a pause that ends an utterance (a clause
    # was cut at a sentence end inside running speech, assist/stt/commit.py): what English
    # revisions are for, at a cost only long turns pay.
    long_turns_only: bool = False
    # Context windows instead of turns: a speaker's finals across turns, the gaps between them
    # left out, until they hold ``max_turn_s`` of audio, which is how the offline decoder hears a
    # channel (Silero's speech chunks merged into 30 s windows). Each utterance then has the words
    # around it for context, not just its own second or two. A window is due when full, or at the
    # end of the call.
    windows: bool = False


#: Windows of the speaker's speech across turns (English and Mandarin by default) (docs/stt.md, "Context windows").
WINDOW_OPTIONS = TurnOptions(windows=True)


@dataclass(frozen=True)
class Clause:
    """One published final of the turn and the audio it was decoded from."""

    utterance_id: int
    start_s: float  # of the audio (pre-roll included)
    end_s: float
    audio: npt.NDArray[np.float32]
    text: str  # as published
    cut: bool = False  # ended by a sentence cut inside running speech, not by a pause

    @property
    def audio_s(self) -> float:
        return len(self.audio) / RATE_HZ


@dataclass
class TurnCollector:
    """One speaker's finals, grouped into turns."""

    options: TurnOptions = field(default_factory=TurnOptions)
    _clauses: list[Clause] = field(default_factory=list)
    _closed: list[list[Clause]] = field(default_factory=list)

    def add(self, clause: Clause) -> None:
        """A final was published. A clause far from the turn's last one starts a new turn (the
        old one is then due whatever the clock says); in window mode, one that would not fit."""
        if self._clauses:
            last = self._clauses[-1]
            if self.options.windows:
                held_s = sum(c.audio_s for c in self._clauses) + clause.audio_s  # overlaps counted twice: a bound
                too_long, far = held_s > self.options.max_turn_s, False
            else:
                too_long = clause.end_s - self._clauses[0].start_s > self.options.max_turn_s
                far = clause.start_s - last.end_s > self.options.join_gap_s
            if far or too_long:
                self._closed.append(self._clauses)
                self._clauses = []
        self._clauses.append(clause)

    def due(self, position_s: float, speaking: bool, finals_pending: int) -> list[list[Clause]]:
        """Turns to decode again now: closed ones, and the open one once the speaker has been
        quiet for ``end_after_s`` with no final of theirs still being decoded (a window stays
        open until full). Only turns of two
        clauses or more (a single clause was decoded with all its context already); with
        ``long_turns_only``, only those with a clause cut inside running speech."""
        due, self._closed = self._closed, []
        if (
            self._clauses
            and not self.options.windows
            and not speaking
            and finals_pending == 0
            and position_s - self._clauses[-1].end_s >= self.options.end_after_s
        ):
            due.append(self._clauses)
            self._clauses = []
        return [turn for turn in due if self._worth_revising(turn)]

    def _worth_revising(self, turn: list[Clause]) -> bool:
        return len(turn) >= 2 and (not self.options.long_turns_only or any(clause.cut for clause in turn))

    def holds(self, utterance_id: int) -> bool:
        """That utterance is a clause of a turn not handed out yet (open, or closed and not due)."""
        return any(clause.utterance_id == utterance_id for turn in (*self._closed, self._clauses) for clause in turn)

    def flush(self) -> list[list[Clause]]:
        """End of the call: whatever is open."""
        turns = [*self._closed, self._clauses]
        self._closed, self._clauses = [], []
        return [turn for turn in turns if self._worth_revising(turn)]


def joined_audio(turn: Sequence[Clause]) -> tuple[npt.NDArray[np.float32], list[float], list[float]]:
    """The turn's audio as one piece: each clause's audio (pre- and post-roll included) after the
    part the previous clause already holds (a sentence cut inside running speech overlaps its
    neighbour; without this the overlap would be heard twice). Returns the audio, where each
    clause's own part begins in it (the boundaries words are assigned by), and where each
    clause's ``start_s`` falls in it (to map word times back), in seconds."""
    pieces, boundaries, origins = [], [], []
    at_s, previous_end_s = 0.0, None
    for clause in turn:
        skip_s = max(0.0, previous_end_s - clause.start_s) if previous_end_s is not None else 0.0
        piece = clause.audio[min(len(clause.audio), round(skip_s * RATE_HZ)) :]
        boundaries.append(at_s)
        origins.append(at_s - skip_s)
        pieces.append(piece)
        at_s += len(piece) / RATE_HZ
        previous_end_s = max(clause.end_s, previous_end_s or clause.end_s)
    return np.concatenate(pieces).astype(np.float32, copy=False), boundaries, origins


def _clause_by_time(word: DecodedWord, offsets: Sequence[float]) -> int:
    middle = (word.start_s + word.end_s) / 2
    return max(i for i, start in enumerate(offsets) if i == 0 or start <= middle)


def words_per_clause(words: Sequence[DecodedWord], offsets: Sequence[float]) -> list[list[DecodedWord]]:
    """Each decoded word (times in the joined audio) goes to the clause its middle falls in."""
    out: list[list[DecodedWord]] = [[] for _ in offsets]
    for word in words:
        out[_clause_by_time(word, offsets)].append(word)
    return out


def words_per_clause_by_text(
    words: Sequence[DecodedWord], offsets: Sequence[float], texts: Sequence[str]
) -> list[list[DecodedWord]]:
    """Each decoded word goes to the clause whose published text has it, times only where the
    texts disagree. Whisper's word times drift by half a second and more over a long window: by
    time alone, a one-word clause ("Fine.") takes its neighbour's first word and every word after
    shifts by one utterance. The published finals are an independent reading of each clause, so a
    word both decodes heard is placed by text (a least-edits alignment of the two); one only the
    window heard goes by its time, kept between the clauses of the matched words around it (the
    order of speech is never crossed)."""
    published = [(token, index) for index, text in enumerate(texts) for token in normalized_words(text)]
    heard = [(token, position) for position, word in enumerate(words) for token in normalized_words(word.text)]
    matched: dict[int, int] = {}  # word position -> clause, from its first matched token
    for a, b in _matching_tokens([t for t, _ in published], [t for t, _ in heard]):
        matched.setdefault(heard[b][1], published[a][1])
    out: list[list[DecodedWord]] = [[] for _ in offsets]
    low = 0
    for position, word in enumerate(words):
        if position in matched:
            index = low = max(matched[position], low)
        else:
            high = next((matched[p] for p in range(position + 1, len(words)) if p in matched), len(offsets) - 1)
            index = min(max(_clause_by_time(word, offsets), low), max(high, low))
            low = index
        out[index].append(word)
    return out


def _matching_tokens(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """The pairs of equal tokens of a least-edits alignment of two sequences, in order. Not
    difflib's longest-block-first matching: a speaker who says a sentence twice gives two equal
    blocks, and the longest-first match can pair the window's first copy with the second final."""
    return [
        (op.src_start + k, op.dest_start + k)
        for op in Levenshtein.opcodes(a, b)
        if op.tag == "equal"
        for k in range(op.src_end - op.src_start)
    ]


def settled_prefix(heard: Sequence[Sequence[DecodedWord]]) -> tuple[int, int | None]:
    """Whisper may end a long window early (it stops at a repeated sentence, say) and leave the
    clauses after it without words. Given the words each clause got, returns how many leading
    clauses the decode may revise, and the clause a new decode of the rest should start at (None:
    nothing left to decode again). The last clause with words before the first empty one is
    decoded again with the rest: its words may be cut short. Every retry starts later, so a
    window is decoded at most once per clause."""
    first_empty = next((i for i, words in enumerate(heard) if not words), None)
    if first_empty is None:
        return len(heard), None
    resume = max(first_empty - 1, 1)
    return max(first_empty - 1, 0), resume if len(heard) - resume >= 2 else None
