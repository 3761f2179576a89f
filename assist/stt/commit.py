"""Long turns: when a sentence inside an utterance still in progress can become a final. Pure
logic, no I/O.

People explaining a problem run sentences together with pauses of 0.1-0.3 s, shorter than the
silence that ends an utterance, so without this a sentence's final waits until the speaker
stops. Interim decodes of a long utterance carry word timings. A sentence end is a word that
ends with sentence punctuation, followed by another word (the speaker went on), with a little
audio decoded after it. What has to be stable is the *boundary*, not every word before it (the
part before the cut is decoded afresh as a final): the cut is confirmed when the previous
hypothesis ended a sentence with the same word at nearly the same time, or else when the VAD
shows a dip there (``UtterancePolicy.split(require_pause=True)``). Whisper sometimes joins two
sentences with a comma; after 2.5 s of speech a clause end is a cut too, on the same terms.
The cut goes between that word and the next, at the VAD's quietest window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assist.stt.text import normalized_words

_SENTENCE_END = re.compile(r"[.?!。？！]+[\"')\]]*$")
_CLAUSE_END = re.compile(r"[,;:，；：]+[\"')\]]*$")
# Whisper's "..." or "…" marks words trailing off mid-sentence (the speaker goes on), not an end.
_TRAILING_OFF = re.compile(r"(\.\.|…)[\"')\]]*$")


@dataclass(frozen=True, slots=True)
class TimedWord:
    text: str
    start_s: float  # stream seconds
    end_s: float


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One interim decode of an utterance in progress."""

    utterance_id: int
    start_s: float  # stream seconds of the audio's first sample
    end_s: float  # ... and of its end
    words: tuple[TimedWord, ...]


@dataclass(frozen=True, slots=True)
class CommitOptions:
    min_heard_after_s: float = 0.15  # audio decoded after the sentence's last word
    min_sentence_s: float = 1.0  # no final shorter than this is split off
    # Whisper sometimes joins two sentences with a comma ("...recognise, it's $249 ..."): after
    # this much speech a clause end (comma, semicolon) is a cut too, where the VAD shows a pause.
    # Long turns, tuning voices: 4.0 s -> 2.5 s took sentence -> final p95 2.26 -> 1.79 s, WER
    # 16.1 -> 15.9 %; 2.0 s split more and was no better (docs/benchmarks.md, "Robustness").
    min_clause_s: float = 2.5
    same_boundary_s: float = 0.3  # two hypotheses' sentence ends this close are the same boundary


@dataclass(frozen=True, slots=True)
class Cut:
    at_s: float  # stream seconds
    confirmed: bool  # seen in two hypotheses; otherwise only if the VAD agrees


def _ends(hypothesis: Hypothesis, options: CommitOptions) -> list[tuple[int, float, bool]]:
    """(index, cut time, a full sentence?) of every usable sentence or long clause end."""
    words = hypothesis.words
    ends = []
    for index in range(len(words) - 1):  # a later word must exist
        word = words[index]
        if word.end_s > hypothesis.end_s - options.min_heard_after_s:
            break
        said_s = word.end_s - hypothesis.start_s
        trailing_off = bool(_TRAILING_OFF.search(word.text))
        sentence = bool(_SENTENCE_END.search(word.text)) and not trailing_off and said_s >= options.min_sentence_s
        clause = bool(_CLAUSE_END.search(word.text)) and said_s >= options.min_clause_s
        if sentence or clause:
            ends.append((index, (word.end_s + max(word.end_s, words[index + 1].start_s)) / 2, sentence))
    return ends


class SentenceCommitter:
    """One speaker's stream of interim hypotheses in, cut points out."""

    def __init__(self, options: CommitOptions | None = None) -> None:
        self.options = options or CommitOptions()
        self._previous: Hypothesis | None = None

    def observe(self, hypothesis: Hypothesis) -> Cut | None:
        """Where to cut the utterance now, if a sentence inside it has ended (the last one)."""
        previous, self._previous = self._previous, hypothesis
        ends = _ends(hypothesis, self.options)
        if not ends:
            return None
        sentences = [end for end in ends if end[2]]
        index, at_s, _ = (sentences or ends)[-1]
        word = hypothesis.words[index]
        confirmed = (
            previous is not None
            and previous.utterance_id == hypothesis.utterance_id
            and any(
                normalized_words(other.text) == normalized_words(word.text)
                and abs(other.end_s - word.end_s) <= self.options.same_boundary_s
                for other in previous.words
            )
        )
        return Cut(at_s, confirmed)

    def forget(self) -> None:
        """The utterance ended (or was split): the next hypothesis starts afresh."""
        self._previous = None
