"""Whisper on CTranslate2: batched decoding of whole utterances with a bucketed encoder window.

The only module that imports faster_whisper. Everything here blocks: call it from the
scheduler's worker thread, never from the event loop. Results are fully materialised (lists,
not generators) before they leave the worker.

Padding policy (measured, see docs/stt.md): Whisper's encoder is trained on 30 s windows, and
encoding the full window costs ~0.2-0.3 s for tiny.en on 2 cores whatever the utterance length.
We pad each utterance with real silence to the smallest bucket (10, 20 or 30 s) that holds it
plus a second of margin, which is ~4x cheaper; a decode that looks anomalous (a repetition loop,
more tokens than speech could hold, very low confidence) is redone with the full 30 s window.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

from assist.errors import ModelError
from assist.modelfiles import whisper_model_dir
from assist.stt import text as textguard

log = logging.getLogger(__name__)

RATE_HZ = 16_000
HOP_SAMPLES = 160  # one mel frame = 10 ms
FULL_WINDOW_S = 30.0
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


@dataclass(frozen=True, slots=True)
class EngineOptions:
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = DEFAULT_CPU_THREADS  # per replica
    replicas: int = 1  # model replicas decoding in parallel (CTranslate2 inter_threads)
    pad_buckets_s: tuple[float, ...] = (10.0, 20.0, 30.0)
    min_margin_s: float = 1.0  # silence after the speech inside the encoder window
    beam_size: int = 1


@dataclass(frozen=True, slots=True)
class DecodeItem:
    audio: npt.NDArray[np.float32]  # 16 kHz mono
    language: str = "en"
    want_words: bool = False
    allow_fallback: bool = True

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
class DecodeOutput:
    text: str
    avg_logprob: float
    no_speech_prob: float
    padded_s: float
    non_speech: bool
    fallback: str | None = None  # why the full window was used, if it was
    words: tuple[DecodedWord, ...] = field(default_factory=tuple)


@dataclass(slots=True)
class _Decoded:
    tokens: list[int]
    text: str
    avg_logprob: float
    no_speech_prob: float


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
        self._lock = threading.Lock()  # tokenizer cache only; decoding itself is thread-safe
        self.name = self.options.model

    # -- policy -----------------------------------------------------------------------------

    def window_s(self, audio_s: float) -> float:
        """The encoder window an utterance of this length is padded to."""
        for bucket in self.options.pad_buckets_s:
            if audio_s + self.options.min_margin_s <= bucket:
                return bucket
        return FULL_WINDOW_S

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

    # -- decoding ---------------------------------------------------------------------------

    def transcribe_offline(self, audio: npt.NDArray[np.float32], language: str = "en") -> str:
        """The whole recording at once, faster-whisper's defaults (beam 5, 30 s windows, text
        conditioned on the previous window): the accuracy reference for streaming."""
        segments, _ = self._model.transcribe(audio, language=language if self.multilingual else "en", beam_size=5)
        return " ".join(segment.text.strip() for segment in segments)

    def decode(self, items: Sequence[DecodeItem]) -> list[DecodeOutput]:
        """Decode a batch. Items may differ in length and language; they are grouped here."""
        outputs: list[DecodeOutput | None] = [None] * len(items)
        groups: dict[tuple[float, str], list[int]] = {}
        for index, item in enumerate(items):
            key = (self.window_s(item.audio_s), item.language if self.multilingual else "en")
            groups.setdefault(key, []).append(index)
        for (window_s, language), indices in groups.items():
            group = [items[i] for i in indices]
            for i, out in zip(indices, self._decode_group(group, window_s, language), strict=True):
                outputs[i] = out
        return [out for out in outputs if out is not None]

    def _decode_group(self, items: list[DecodeItem], window_s: float, language: str) -> list[DecodeOutput]:
        tokenizer = self.tokenizer(language)
        encoded = self._encode(items, window_s)
        decoded = self._generate(encoded, items, tokenizer)
        outputs: list[DecodeOutput] = []
        retry: list[int] = []
        for index, (item, result) in enumerate(zip(items, decoded, strict=True)):
            anomaly = textguard.is_anomalous(result.text, len(result.tokens), item.audio_s, result.avg_logprob)
            if anomaly and item.allow_fallback and window_s < FULL_WINDOW_S:
                retry.append(index)
            elif anomaly is not None:
                self._repair(result, tokenizer, anomaly)
            outputs.append(self._output(item, result, window_s, None))
        if retry:
            retry_items = [items[i] for i in retry]
            redone = self._decode_full(retry_items, tokenizer)
            for index, out in zip(retry, redone, strict=True):
                outputs[index] = out
        words_for = [i for i, item in enumerate(items) if item.want_words and i not in retry]
        if words_for:
            self._attach_words(outputs, items, decoded, encoded, words_for, tokenizer)
        return outputs

    def _decode_full(self, items: list[DecodeItem], tokenizer: Tokenizer) -> list[DecodeOutput]:
        log.debug("re-decoding %d item(s) with the full window", len(items))
        encoded = self._encode(items, FULL_WINDOW_S)
        decoded = self._generate(encoded, items, tokenizer)
        outputs = []
        for item, result in zip(items, decoded, strict=True):
            anomaly = textguard.is_anomalous(result.text, len(result.tokens), item.audio_s, result.avg_logprob)
            if anomaly is not None:
                self._repair(result, tokenizer, anomaly)
            outputs.append(self._output(item, result, FULL_WINDOW_S, anomaly or "anomaly"))
        want = [i for i, item in enumerate(items) if item.want_words]
        if want:
            self._attach_words(outputs, items, decoded, encoded, want, tokenizer)
        return outputs

    @staticmethod
    def _repair(result: _Decoded, tokenizer: Tokenizer, anomaly: str) -> None:
        """Last resort when even the full window repeats itself: keep one copy of the
        repetition (never show a loop); other anomalies (low confidence) stand as decoded."""
        if anomaly not in ("repetition", "too_many_tokens", "too_many_words"):
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
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        longest_s = max(item.audio_s for item in items)
        results = self._model.model.generate(
            encoded,
            [prompt] * len(items),
            beam_size=self.options.beam_size,
            max_length=min(448, len(prompt) + textguard.max_new_tokens(longest_s)),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress[tokenizer.language_code if self.multilingual else "en"],
        )
        decoded = []
        for result in results:
            tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
            # CTranslate2 returns the length-normalised score; undo it as faster-whisper does.
            cum_logprob = result.scores[0] * len(tokens)
            decoded.append(
                _Decoded(
                    tokens=tokens,
                    text=tokenizer.decode(tokens).strip(),
                    avg_logprob=cum_logprob / (len(tokens) + 1),
                    no_speech_prob=result.no_speech_prob,
                )
            )
        return decoded

    def _output(self, item: DecodeItem, result: _Decoded, window_s: float, fallback: str | None) -> DecodeOutput:
        return DecodeOutput(
            text=result.text,
            avg_logprob=result.avg_logprob,
            no_speech_prob=result.no_speech_prob,
            padded_s=window_s,
            non_speech=textguard.is_non_speech(result.text, result.no_speech_prob, result.avg_logprob),
            fallback=fallback,
        )

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
