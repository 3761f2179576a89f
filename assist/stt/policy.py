"""When an utterance starts, when to show interim text, and when it ends: pure logic, no I/O.

The policy sees one speech probability per 32 ms VAD window and answers with decisions in
sample positions. Hysteresis (onset at ``threshold``, speech continues while the probability
stays above ``neg_threshold``) follows Silero's own post-processing; the numbers were chosen by
measurement on the shared calls (see docs/stt.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assist.audio.vad import RATE_HZ, WINDOW_SAMPLES

EndReason = Literal["silence", "max_length", "end_of_stream", "sentence"]


@dataclass(frozen=True, slots=True)
class EndpointOptions:
    # Speech starts lower than Silero's own 0.5: on telephone-band audio (300-3400 Hz, no
    # fundamental) its confidence collapses at word onsets and whole words were lost. Measured
    # on real speech clips over the telephone path: WER 14.0 % -> 7.0 %; tuning voices 36.0 % ->
    # 31.7 %; shared calls 6.45 % -> 6.30 %. The silence that ends an utterance keeps 0.35: lower,
    # sentences with short pauses ran together and finals came later (docs/stt.md, "VAD thresholds").
    threshold: float = 0.25  # probability that starts speech
    neg_threshold: float = 0.35  # below this, a window counts as silence
    min_speech_ms: int = 128  # shorter bursts are clicks or breath, never decoded ("nope" is ~160 ms)
    min_silence_ms: int = 320  # silence that ends an utterance (the floor of final latency)
    long_min_silence_ms: int = 96  # ... once an utterance is longer than soft_max_utterance_s
    pre_roll_ms: int = 200  # audio kept before the detected onset: VAD lags the first phoneme
    post_roll_ms: int = 160  # trailing audio after the last speech window given to the decoder
    first_interim_ms: int = 480  # speech needed before the first interim decode
    interim_interval_ms: int = 480  # new speech between interim decodes
    # A sentence end inside a long turn that only one hypothesis has seen is cut only where the
    # VAD's speech probability dips below this (assist/stt/commit.py): a breath between sentences.
    split_pause_threshold: float = 0.5
    soft_max_utterance_s: float = 12.0
    max_utterance_s: float = 24.0  # hard cut: Whisper's window is 30 s

    def samples(self, ms: float) -> int:
        return int(ms * RATE_HZ / 1000)


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    utterance_id: int
    start_sample: int


@dataclass(frozen=True, slots=True)
class InterimDue:
    utterance_id: int
    start_sample: int
    end_sample: int


@dataclass(frozen=True, slots=True)
class UtteranceEnded:
    utterance_id: int
    start_sample: int
    end_sample: int  # includes post-roll; the decoder sees [start_sample, end_sample)
    speech_end_sample: int  # end of the last speech window
    reason: EndReason


Decision = SpeechStarted | InterimDue | UtteranceEnded


class UtterancePolicy:
    """Turns per-window speech probabilities into utterance decisions for one speaker."""

    def __init__(self, options: EndpointOptions | None = None) -> None:
        self.options = options or EndpointOptions()
        self._windows = 0  # windows seen so far
        self._next_id = 0
        self._floor_sample = 0  # an utterance never starts before the previous one ended
        self._reset_speech()

    def _reset_speech(self) -> None:
        self._probs: list[float] = []  # per window since the utterance's first window
        self._first_window = 0
        self._onset_window: int | None = None  # first window above threshold
        self._confirmed = False
        self._speech_windows = 0
        self._last_speech_window = -1
        self._silence_windows = 0
        self._start_sample = 0
        self._next_interim_sample = 0

    @property
    def in_speech(self) -> bool:
        return self._onset_window is not None

    @property
    def position_sample(self) -> int:
        return self._windows * WINDOW_SAMPLES

    @property
    def open_start_sample(self) -> int | None:
        """Start of the utterance in progress (confirmed or not), for buffer trimming."""
        return self._start_sample if self.in_speech else None

    def step(self, prob: float) -> list[Decision]:
        """Consume the probability of the next window."""
        opts = self.options
        window = self._windows
        self._windows += 1
        end_sample = self._windows * WINDOW_SAMPLES
        decisions: list[Decision] = []

        if not self.in_speech:
            if prob >= opts.threshold:
                self._onset_window = window
                self._start_sample = max(self._floor_sample, window * WINDOW_SAMPLES - opts.samples(opts.pre_roll_ms))
                self._speech_windows = 1
                self._last_speech_window = window
                self._first_window = window
                self._probs = [prob]
            return self._maybe_confirm(decisions)

        self._probs.append(prob)

        if prob >= opts.neg_threshold:
            self._speech_windows += 1
            self._last_speech_window = window
            self._silence_windows = 0
        else:
            self._silence_windows += 1

        length_s = (end_sample - self._start_sample) / RATE_HZ
        if not self._confirmed:
            if self._silence_windows * WINDOW_SAMPLES >= opts.samples(opts.min_silence_ms):
                self._reset_speech()  # a blip: never confirmed, nothing to say
                return decisions
            return self._maybe_confirm(decisions)

        min_silence_ms = opts.long_min_silence_ms if length_s >= opts.soft_max_utterance_s else opts.min_silence_ms
        if self._silence_windows and self._silence_windows * WINDOW_SAMPLES >= opts.samples(min_silence_ms):
            decisions.append(self._end("silence", end_sample))
        elif length_s >= opts.max_utterance_s:
            decisions.append(self._end("max_length", end_sample))
            if prob < opts.neg_threshold:
                return decisions  # the cut fell on a pause: nothing carries over
            # Speech goes on: the next utterance starts here, already confirmed.
            self._onset_window = window
            self._first_window = window
            self._probs = [prob]
            self._start_sample = end_sample
            self._speech_windows = 1
            self._last_speech_window = window
            self._confirm(decisions)
        elif self._silence_windows == 0 and end_sample >= self._next_interim_sample:
            decisions.append(InterimDue(self._next_id, self._start_sample, end_sample))
            self._next_interim_sample = end_sample + opts.samples(opts.interim_interval_ms)
        return decisions

    def split(
        self, utterance_id: int, at_sample: int, *, radius_ms: int = 300, require_pause: bool = False
    ) -> list[Decision]:
        """End the utterance in progress inside it, where a sentence ended although the speaker
        went on without a pause long enough to close it (long turns). The cut moves to the
        least speech-like VAD window within ``radius_ms`` of ``at_sample``; the rest continues
        as a new utterance. Nothing happens if that utterance is no longer the one in progress
        or the cut would leave either part too short, or when ``require_pause`` and no window
        there dipped below ``split_pause_threshold``."""
        opts = self.options
        if not self._confirmed or utterance_id != self._next_id:
            return []
        position = self.position_sample
        low, high = at_sample - opts.samples(radius_ms), at_sample + opts.samples(radius_ms)
        candidates = [
            (prob, abs(window * WINDOW_SAMPLES + WINDOW_SAMPLES // 2 - at_sample), window)
            for window, prob in enumerate(self._probs, start=self._first_window)
            if low <= window * WINDOW_SAMPLES and (window + 1) * WINDOW_SAMPLES <= high
        ]
        if not candidates:
            return []
        quietest, _, window = min(candidates)
        if require_pause and quietest >= opts.split_pause_threshold:
            return []
        cut = window * WINDOW_SAMPLES + WINDOW_SAMPLES // 2
        min_part = opts.samples(opts.min_speech_ms)
        if cut - self._start_sample < 2 * min_part or position - cut < min_part:
            return []
        decision = UtteranceEnded(self._next_id, self._start_sample, cut, cut, "sentence")
        self._next_id += 1
        self._floor_sample = cut
        # The speaker goes on: the next utterance starts at the cut, already confirmed.
        self._probs = self._probs[window - self._first_window :]
        self._first_window = window
        self._start_sample = cut
        self._speech_windows = max(1, sum(1 for p in self._probs if p >= opts.neg_threshold))
        self._next_interim_sample = position + opts.samples(opts.interim_interval_ms)
        return [decision, SpeechStarted(self._next_id, cut)]

    def finish(self, total_samples: int) -> list[Decision]:
        """End of stream: close any utterance in progress so its tail is never lost."""
        if not self.in_speech:
            return []
        decisions: list[Decision] = []
        if not self._confirmed:
            speech_ms = self._speech_windows * WINDOW_SAMPLES * 1000 / RATE_HZ
            if speech_ms < self.options.min_speech_ms / 2:
                self._reset_speech()
                return decisions
            self._confirm(decisions)
        end = max(total_samples, self.position_sample)
        decisions.append(self._end("end_of_stream", end, speech_end_sample=end))
        return decisions

    def _maybe_confirm(self, decisions: list[Decision]) -> list[Decision]:
        speech_ms = self._speech_windows * WINDOW_SAMPLES * 1000 / RATE_HZ
        if self.in_speech and not self._confirmed and speech_ms >= self.options.min_speech_ms:
            self._confirm(decisions)
        return decisions

    def _confirm(self, decisions: list[Decision]) -> None:
        opts = self.options
        self._confirmed = True
        self._next_interim_sample = self._start_sample + opts.samples(opts.first_interim_ms + opts.pre_roll_ms)
        decisions.append(SpeechStarted(self._next_id, self._start_sample))

    def _end(self, reason: EndReason, position_sample: int, speech_end_sample: int | None = None) -> UtteranceEnded:
        opts = self.options
        speech_end = (
            speech_end_sample if speech_end_sample is not None else (self._last_speech_window + 1) * WINDOW_SAMPLES
        )
        end = min(position_sample, speech_end + opts.samples(opts.post_roll_ms))
        if reason == "max_length":
            end = speech_end = position_sample
        decision = UtteranceEnded(self._next_id, self._start_sample, end, speech_end, reason)
        self._next_id += 1
        self._floor_sample = end
        self._reset_speech()
        return decision
