"""Whisper on CTranslate2: batched decoding of whole utterances on an encoder window fitted to them.

The only module that imports faster_whisper. Everything here blocks: call it from the
scheduler's worker thread, never from the event loop. Results are fully materialised (lists,
not generators) before they leave the worker.

Window policy (measured, see docs/stt.md): Whisper's encoder is trained on 30 s windows; its
cost grows faster than linearly with the window (tiny.en, one AVX2 thread: 3 s ≈ 15 ms, 10 s
≈ 70 ms, 30 s ≈ 450 ms). Each utterance is padded with real silence to a window a little longer
than itself and decoded *with timestamps*, so that what the decoder says past the end of the
speech (on a short window it tends to start the utterance over) can be recognised and dropped.
Nothing slow runs on the way to a final: a result that still looks wrong is returned with its
``anomaly`` and the caller may ask for a revision on a longer window, off the critical path.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

from assist.errors import ModelError
from assist.modelfiles import whisper_model_dir
from assist.stt import text as textguard
from assist.stt.policy import EndpointOptions

log = logging.getLogger(__name__)

RATE_HZ = 16_000
HOP_SAMPLES = 160  # one mel frame = 10 ms
FULL_WINDOW_S = 30.0
TIMESTAMP_S = 0.02  # one timestamp token step
TIMESTAMP_ALLOWANCE = 8  # decoder steps for timestamp tokens beyond the text's own
SPEECH_END_SLACK_S = 0.1  # a segment starting this close to the end of the audio holds no speech
MAX_PROMPT_TOKENS = 96  # a prompt is read on every decode: a short vocabulary list, not a document
# Measured on 2 cores (docs/stt.md, "Threads and replicas"): tiny.en decodes an utterance faster
# on one thread than on two (72 vs 84 ms), and one replica per core keeps both cores busy
# under load, where one two-thread replica left ~0.6 of a core idle.
DEFAULT_CPU_THREADS = 1
MAX_DEFAULT_WORKERS = 8


def default_workers(device: str, cpu_threads: int) -> int:
    """Decode workers (model replicas) when none are configured: one per ``cpu_threads`` cores
    on CPU; one on a GPU, whose kernels already run a batch in parallel."""
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() else "cpu"
    if device != "cpu":
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_WORKERS, cores // cpu_threads))


# "turn": a speaker's finals decoded again together (assist/stt/turns.py), off the latency path.
Purpose = Literal["final", "interim", "revision", "turn"]


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """Encoder input for an utterance: its length plus ``margin_s`` of silence, rounded up to a
    multiple of ``step_s`` (so utterances of similar length batch together), at least ``min_s``,
    at most Whisper's 30 s."""

    min_s: float
    margin_s: float
    step_s: float

    def window_s(self, audio_s: float) -> float:
        steps = math.ceil((audio_s + self.margin_s) / self.step_s - 1e-9)
        return float(min(FULL_WINDOW_S, max(self.min_s, steps * self.step_s)))


# Chosen by measurement on the tuning sets (docs/stt.md, "Encoder windows"). Finals: 10/20/30 s
# (a window fitted to the utterance saved ~25 % of a final's decode and cost ~3 WER points on
# unseen voices). Interims, shown for a moment and replaced by the final, take a fitted window:
# most of the decoding a call costs is interims. A revision (a loop the guards could not
# repair) gets Whisper's whole 30 s window, and so do finals decoded again together: on the
# tuning voices their WER was 12.0 % on 30 s against 15.1 % on the finals' 10/20/30 s steps.
FINAL_WINDOW = WindowPolicy(min_s=10.0, margin_s=1.0, step_s=10.0)
INTERIM_WINDOW = WindowPolicy(min_s=4.0, margin_s=1.0, step_s=2.0)
REVISION_WINDOW = WindowPolicy(min_s=FULL_WINDOW_S, margin_s=0.0, step_s=FULL_WINDOW_S)
# Loops: what the guards collapse to one copy and what a revision on the whole window can
# mend. A low log-probability is not among them: on unseen voices the 30 s window made such
# finals worse, not better (docs/stt.md).
LOOP_ANOMALIES = frozenset({"repetition", "too_many_tokens", "too_many_words"})


@dataclass(frozen=True, slots=True)
class EngineOptions:
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = DEFAULT_CPU_THREADS  # per replica
    replicas: int = 1  # model replicas decoding in parallel (CTranslate2 inter_threads)
    final_window: WindowPolicy = FINAL_WINDOW
    interim_window: WindowPolicy = INTERIM_WINDOW
    revision_window: WindowPolicy = REVISION_WINDOW
    turn_window: WindowPolicy = REVISION_WINDOW
    beam_size: int = 1
    turn_beam_size: int = 1  # off the latency path, beam search pays (docs/stt.md, "Context windows")
    # Per language, text the decoder reads as if said just before (Whisper's "previous text"):
    # the knowledge base's vocabulary and script. Empty: no prompt. See docs/stt.md, "Languages".
    prompts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DecodeItem:
    audio: npt.NDArray[np.float32]  # 16 kHz mono
    language: str = "en"
    want_words: bool = False
    purpose: Purpose = "final"

    @property
    def audio_s(self) -> float:
        return len(self.audio) / RATE_HZ


@dataclass(frozen=True, slots=True)
class DecodedWord:
    text: str
    start_s: float  # relative to the item's first sample
    end_s: float
    probability: float


@dataclass(frozen=True, slots=True)
class DecodedSegment:
    """One timestamped stretch of the output, relative to the item (what the guards judge)."""

    start_s: float  # relative to the item's first sample
    end_s: float
    text: str


@dataclass(frozen=True, slots=True)
class DecodeOutput:
    text: str
    avg_logprob: float
    no_speech_prob: float
    padded_s: float
    non_speech: bool
    anomaly: str | None = None  # what still looks wrong after the guards (a revision may help)
    words: tuple[DecodedWord, ...] = field(default_factory=tuple)


@dataclass(slots=True)
class _Decoded:
    tokens: list[int]  # text tokens only
    text: str
    avg_logprob: float
    no_speech_prob: float


# Names the offline reference method in benchmark caches; change it when the method changes.
OFFLINE_METHOD = "beam5-t0-vad25-rp"
OFFLINE_LOOP_RATIO = 2.4  # faster-whisper's compression_ratio_threshold
OFFLINE_VAD_ONSET = EndpointOptions().threshold  # the endpointer's: telephone-band voices start low


class WhisperEngine:
    """One loaded Whisper model, shared by every call in the process."""

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        model_dir = whisper_model_dir(self.options.model)
        try:
            self._model = WhisperModel(
                str(model_dir),
                device=self.options.device,
                compute_type=self.options.compute_type,
                cpu_threads=self.options.cpu_threads,
                num_workers=self.options.replicas,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelError(f"cannot load Whisper {self.options.model} from {model_dir}: {error}") from error
        self.multilingual = self._model.model.is_multilingual
        self._tokenizers: dict[str, Tokenizer] = {}
        self._suppress: dict[str, list[int]] = {}
        self._prompt_texts = dict(self.options.prompts)
        self._prompts: dict[str, list[int]] = {}  # language → the prompt's tokens
        self._lock = threading.Lock()  # tokenizer cache only; decoding itself is thread-safe
        self.name = self.options.model

    # -- policy -----------------------------------------------------------------------------

    def window_s(self, item: DecodeItem) -> float:
        """The encoder window this item is padded to."""
        policy = {
            "final": self.options.final_window,
            "interim": self.options.interim_window,
            "revision": self.options.revision_window,
            "turn": self.options.turn_window,
        }[item.purpose]
        return policy.window_s(item.audio_s)

    def beam_size(self, item: DecodeItem) -> int:
        """Beam search where it is off the latency path (a turn or window decoded again)."""
        return self.options.turn_beam_size if item.purpose == "turn" else self.options.beam_size

    def tokenizer(self, language: str) -> Tokenizer:
        key = language if self.multilingual else "en"
        with self._lock:
            if key not in self._tokenizers:
                tokenizer = Tokenizer(
                    self._model.hf_tokenizer,
                    self.multilingual,
                    task="transcribe",
                    language=key if self.multilingual else "en",
                )
                self._tokenizers[key] = tokenizer
                self._suppress[key] = list(get_suppressed_tokens(tokenizer, [-1]))
            return self._tokenizers[key]

    def set_prompts(self, prompts: Sequence[tuple[str, str]]) -> None:
        """Replace the per-language prompts (a knowledge base was loaded or reloaded)."""
        with self._lock:
            self._prompt_texts = dict(prompts)
            self._prompts.clear()

    def _prompt(self, tokenizer: Tokenizer) -> list[int]:
        """<|startofprev|> and the language's prompt; [] when it has none."""
        key = tokenizer.language_code if self.multilingual else "en"
        with self._lock:
            if key not in self._prompts:
                text = self._prompt_texts.get(key, "").strip()
                tokens = tokenizer.encode(" " + text)[-MAX_PROMPT_TOKENS:] if text else []
                self._prompts[key] = [tokenizer.sot_prev, *tokens] if tokens else []
            return self._prompts[key]

    # -- decoding ---------------------------------------------------------------------------

    def transcribe_offline(self, audio: npt.NDArray[np.float32], language: str = "en") -> str:
        """The whole recording at once, beam 5 in 30 s windows: the accuracy reference for
        streaming. Deterministic, unlike faster-whisper's defaults: their temperature fallback
        *samples*, and one speaker's channel (mostly silence, synthetic voices) drew repeats
        and "9, 9, 9, ..." loops that changed from run to run (a CI run scored a 16 s channel at
        WER 295 %). So: temperature 0 only (no sampling), no text carried from the previous
        window (what turns one bad window into a loop), Silero VAD with the endpointer's onset
        threshold to drop the silences, and where a window still loops (faster-whisper's own
        test: compression ratio above 2.4) the recording again with a repetition penalty, kept
        if it loops less (docs/benchmarks.md, "Reference line")."""
        text, ratio = self._offline_pass(audio, language)
        if ratio > OFFLINE_LOOP_RATIO:
            penalised, penalised_ratio = self._offline_pass(audio, language, repetition_penalty=1.2)
            if penalised_ratio < ratio:
                return penalised
        return text

    def _offline_pass(
        self, audio: npt.NDArray[np.float32], language: str, *, repetition_penalty: float = 1.0
    ) -> tuple[str, float]:
        """The recording's text and its windows' highest compression ratio (a loop's mark)."""
        segments = list(
            self._model.transcribe(
                audio,
                language=language if self.multilingual else "en",
                beam_size=5,
                temperature=0.0,
                condition_on_previous_text=False,
                vad_filter=True,
                vad_parameters={"threshold": OFFLINE_VAD_ONSET, "neg_threshold": OFFLINE_VAD_ONSET - 0.1},
                repetition_penalty=repetition_penalty,
            )[0]
        )
        ratio = max((segment.compression_ratio for segment in segments), default=0.0)
        return " ".join(segment.text.strip() for segment in segments), ratio

    def decode(self, items: Sequence[DecodeItem]) -> list[DecodeOutput]:
        """Decode a batch. Items may differ in length, purpose and language; they are grouped here."""
        outputs: list[DecodeOutput | None] = [None] * len(items)
        groups: dict[tuple[float, str, int], list[int]] = {}
        for index, item in enumerate(items):
            key = (self.window_s(item), item.language if self.multilingual else "en", self.beam_size(item))
            groups.setdefault(key, []).append(index)
        for (window_s, language, _), indices in groups.items():
            group = [items[i] for i in indices]
            for i, out in zip(indices, self._decode_group(group, window_s, language), strict=True):
                outputs[i] = out
        return [out for out in outputs if out is not None]

    def _decode_group(self, items: list[DecodeItem], window_s: float, language: str) -> list[DecodeOutput]:
        tokenizer = self.tokenizer(language)
        encoded = self._encode(items, window_s)
        decoded = self._generate(encoded, items, tokenizer)
        outputs: list[DecodeOutput] = []
        for item, result in zip(items, decoded, strict=True):
            anomaly = textguard.is_anomalous(result.text, len(result.tokens), item.audio_s, result.avg_logprob)
            # A window's repetition is left for the caller to judge: people do say a sentence
            # twice, and the caller holds the finals each was first heard in.
            if anomaly is not None and item.purpose != "turn":
                self._repair(result, tokenizer, anomaly)
            outputs.append(
                DecodeOutput(
                    text=result.text,
                    avg_logprob=result.avg_logprob,
                    no_speech_prob=result.no_speech_prob,
                    padded_s=window_s,
                    non_speech=textguard.is_non_speech(result.text, result.no_speech_prob, result.avg_logprob),
                    anomaly=anomaly,
                )
            )
        words_for = [i for i, item in enumerate(items) if item.want_words]
        if words_for:
            self._attach_words(outputs, items, decoded, encoded, words_for, tokenizer)
        return outputs

    @staticmethod
    def _repair(result: _Decoded, tokenizer: Tokenizer, anomaly: str) -> None:
        """Never show a loop: keep one copy of a repetition; other anomalies (low confidence)
        stand as decoded."""
        if anomaly not in LOOP_ANOMALIES:
            return
        repaired = textguard.collapse_repetitions(result.text)
        if repaired != result.text:
            result.text = repaired
            result.tokens = tokenizer.encode(" " + repaired)

    def _encode(self, items: list[DecodeItem], window_s: float) -> ctranslate2.StorageView:
        n_frames = int(window_s * RATE_HZ / HOP_SAMPLES)
        n_samples = n_frames * HOP_SAMPLES
        extractor = self._model.feature_extractor
        features = np.empty((len(items), extractor.mel_filters.shape[0], n_frames), np.float32)
        for row, item in enumerate(items):
            audio = item.audio[:n_samples]
            padded = np.zeros(n_samples, dtype=np.float32)
            padded[: len(audio)] = audio
            features[row] = extractor(padded, padding=0)[:, :n_frames]
        return self._model.model.encode(ctranslate2.StorageView.from_array(features))

    def _generate(
        self, encoded: ctranslate2.StorageView, items: list[DecodeItem], tokenizer: Tokenizer
    ) -> list[_Decoded]:
        # With timestamps (see the module docstring), after the language's prompt if it has one.
        prompt = self._prompt(tokenizer) + list(tokenizer.sot_sequence)
        longest_s = max(item.audio_s for item in items)
        results = self._model.model.generate(
            encoded,
            [prompt] * len(items),
            beam_size=self.beam_size(items[0]),  # one per group (decode() groups by it)
            max_length=min(448, len(prompt) + textguard.max_new_tokens(longest_s) + TIMESTAMP_ALLOWANCE),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress[tokenizer.language_code if self.multilingual else "en"],
        )
        decoded = []
        for item, result in zip(items, results, strict=True):
            sequence = [t for t in result.sequences_ids[0] if t != tokenizer.eot]
            segments = _segments(sequence, tokenizer, item.audio_s)
            speech_end_s = item.audio_s - SPEECH_END_SLACK_S
            kept = textguard.keep_segments([(seg.start_s, seg.text) for seg in segments], speech_end_s)
            text = " ".join(kept_text for _, kept_text in kept)
            # CTranslate2 returns the length-normalised score; undo it as faster-whisper does.
            cum_logprob = result.scores[0] * len(sequence)
            decoded.append(
                _Decoded(
                    tokens=tokenizer.encode(" " + text) if text else [],
                    text=text,
                    avg_logprob=cum_logprob / (len(sequence) + 1),
                    no_speech_prob=result.no_speech_prob,
                )
            )
        return decoded

    def _attach_words(
        self,
        outputs: list[DecodeOutput],
        items: list[DecodeItem],
        decoded: list[_Decoded],
        encoded: ctranslate2.StorageView,
        indices: list[int],
        tokenizer: Tokenizer,
    ) -> None:
        indices = [i for i in indices if decoded[i].tokens]
        if not indices:
            return
        if len(indices) != len(items):
            encoded = ctranslate2.StorageView.from_array(np.asarray(encoded)[indices])
        alignments = self._model.find_alignment(
            tokenizer,
            [decoded[i].tokens for i in indices],
            encoded,
            [max(1, len(items[i].audio) // HOP_SAMPLES) for i in indices],
        )
        for index, words in zip(indices, alignments, strict=True):
            cleaned = tuple(
                DecodedWord(
                    text=str(w["word"]).strip(),
                    start_s=float(w["start"]),
                    end_s=max(float(w["end"]), float(w["start"])),
                    probability=float(w["probability"]),
                )
                for w in words
                if str(w["word"]).strip()
            )
            outputs[index] = dataclasses.replace(outputs[index], words=_merge_punctuation(cleaned))


def _segments(sequence: list[int], tokenizer: Tokenizer, audio_s: float) -> list[DecodedSegment]:
    """Split a timestamped token sequence into segments. An unclosed last segment ends with the
    audio; text before any timestamp (not produced with timestamp rules) starts at 0."""
    segments: list[DecodedSegment] = []
    begin = tokenizer.timestamp_begin
    start_s: float | None = None
    text_tokens: list[int] = []
    for token in sequence:
        if token >= begin:
            at_s = (token - begin) * TIMESTAMP_S
            if start_s is None:
                start_s = at_s
                continue
            if text_tokens:
                segments.append(DecodedSegment(start_s, at_s, tokenizer.decode(text_tokens).strip()))
            text_tokens = []
            start_s = None
        else:
            text_tokens.append(token)
    if text_tokens:
        segments.append(DecodedSegment(start_s or 0.0, audio_s, tokenizer.decode(text_tokens).strip()))
    return segments


def _merge_punctuation(words: tuple[DecodedWord, ...]) -> tuple[DecodedWord, ...]:
    """Attach stand-alone punctuation to the word before it (Whisper splits some of it off)."""
    merged: list[DecodedWord] = []
    for word in words:
        if merged and not any(ch.isalnum() for ch in word.text):
            prev = merged[-1]
            merged[-1] = DecodedWord(prev.text + word.text, prev.start_s, word.end_s, prev.probability)
        else:
            merged.append(word)
    return tuple(merged)
