"""The reference line of every report: how far each figure is from what the model itself allows.

- accuracy ceiling: the same model transcribes each whole recording offline (faster-whisper's
  beam 5, temperature 0, VAD: deterministic; the audio after the same wire path), scored against the same references;
- speed floor: the pure model compute time of each reference utterance decoded alone, exactly
  as a final is decoded (same padding and fallback), with nothing queued ahead of it. Plus the
  silence the endpointer must hear before it may close an utterance, that is the lowest final
  latency any streaming run could show.

Both are cached per model, settings, machine and audio file under ``bench-results/cache``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assist.bench.dataset import RATE_HZ, Recording, wire_roundtrip
from assist.stt.cpu import describe_cpu
from assist.stt.engine import DEFAULT_CPU_THREADS, DecodeItem, EngineOptions, WhisperEngine
from assist.stt.policy import EndpointOptions
from assist.stt.transcriber import MULTILINGUAL_MODEL, is_english

CACHE_VERSION = 5  # 5: deterministic offline reference (engine.OFFLINE_METHOD)
FLOOR_REPEATS = 2


@dataclass(frozen=True, slots=True)
class Wire:
    codec: str = "l16"
    rate_hz: int = 16000

    def __str__(self) -> str:
        return f"{self.codec} {self.rate_hz} Hz"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = DEFAULT_CPU_THREADS


@dataclass(frozen=True, slots=True)
class CallReference:
    offline: dict[str, str]  # speaker → whole-recording transcript
    floor_ms: list[float]  # per reference segment (in order): compute time decoded alone


def cpu_model() -> str:
    return describe_cpu().model


def cache_key(rec: Recording, spec: ModelSpec, wire: Wire) -> str:
    # The decoder's ISA path too: the same CPU forced onto AVX2 is another machine for timings.
    machine = hashlib.sha256(f"{describe_cpu().kind}|{spec}".encode()).hexdigest()[:8]
    return f"v{CACHE_VERSION}-{spec.model}-{spec.compute_type}-{spec.device}-{wire.codec}{wire.rate_hz}-{machine}-{rec.digest}"


def segment_audio(
    audio16: np.ndarray, channel: int, start_s: float, end_s: float, endpoint: EndpointOptions
) -> np.ndarray:
    """What the streaming core hands the decoder for an utterance: pre-roll, speech, post-roll."""
    begin = max(0, int((start_s - endpoint.pre_roll_ms / 1000) * RATE_HZ))
    end = min(len(audio16), int((end_s + endpoint.post_roll_ms / 1000) * RATE_HZ))
    return np.ascontiguousarray(audio16[begin:end, channel], dtype=np.float32)


class ReferenceRunner:
    """Loads the model once (lazily: a fully cached run never loads it)."""

    def __init__(self, spec: ModelSpec, wire: Wire, cache_dir: Path) -> None:
        self.spec = spec
        self.wire = wire
        self.cache_dir = cache_dir
        self.endpoint = EndpointOptions()
        self._engines: dict[str, WhisperEngine] = {}

    def spec_for(self, rec: Recording) -> ModelSpec:
        """The model the server decodes this call with: English-only, or multilingual for the rest."""
        return self.spec if is_english(rec.language) else replace(self.spec, model=MULTILINGUAL_MODEL)

    def engine(self, model: str) -> WhisperEngine:
        if model not in self._engines:
            s = self.spec
            engine = WhisperEngine(
                EngineOptions(model=model, device=s.device, compute_type=s.compute_type, cpu_threads=s.cpu_threads)
            )
            engine.decode([DecodeItem(np.zeros(RATE_HZ, dtype=np.float32), want_words=True)])  # warm-up
            self._engines[model] = engine
        return self._engines[model]

    def compute(self, rec: Recording) -> CallReference:
        audio = wire_roundtrip(rec.audio16, self.wire.codec, self.wire.rate_hz)
        engine = self.engine(self.spec_for(rec).model)
        language = rec.language.lower().split("-")[0]
        offline: dict[str, str] = {
            sp: engine.transcribe_offline(audio[:, ch], language) for ch, sp in enumerate(rec.speakers)
        }
        floor_ms = []
        for ref in rec.references:
            channel = rec.speakers.index(ref.speaker)  # type: ignore[arg-type]
            item = DecodeItem(
                segment_audio(audio, channel, ref.start_s, ref.end_s, self.endpoint), language=language, want_words=True
            )
            best = float("inf")
            for _ in range(FLOOR_REPEATS):  # the least of a few: compute, not the machine's noise
                started = time.perf_counter()
                engine.decode([item])
                best = min(best, time.perf_counter() - started)
            floor_ms.append(best * 1000)
        return CallReference(offline, floor_ms)

    def get(self, rec: Recording) -> CallReference:
        path = self.cache_dir / f"{cache_key(rec, self.spec_for(rec), self.wire)}.json"
        if path.exists():
            data = json.loads(path.read_text())
            if len(data["floor_ms"]) == len(rec.references):
                return CallReference(data["offline"], data["floor_ms"])
        result = self.compute(rec)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"call": rec.name, "offline": result.offline, "floor_ms": result.floor_ms}))
        return result

    def close(self) -> None:
        self._engines.clear()


def references_for(
    recordings: list[Recording],
    runner: ReferenceRunner,
    on_done: Callable[[Recording], None] | None = None,
) -> dict[str, CallReference]:
    out = {}
    for rec in recordings:
        out[rec.digest] = runner.get(rec)
        if on_done is not None:
            on_done(rec)
    runner.close()
    return out
