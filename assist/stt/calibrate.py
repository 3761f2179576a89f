"""Settings that depend on how fast this CPU decodes, measured at start rather than guessed.

The same decode takes several times longer on an AVX2-only CPU than on one with AVX-512 VNNI
(docs/benchmarks.md). Interims are most of what a call costs, and an interim every 480 ms is
cheap on one machine and half a core per speaker on another. So the server times a few decodes
of the sizes it will see, after the warm-up, and spaces interims so that one speaker's
interims keep a decode worker busy at most ``INTERIM_DUTY`` of the time. The same timings give
two estimates of how many calls the node can hold, reported on /readyz: with every interim
decoded, and with finals alone (the scheduler thins interims first under load, so the measured
capacity lies between the two: on the AVX2 path of a 2-core EPYC 7 and 48, measured 30).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np

from assist.stt.cpu import CpuInfo
from assist.stt.engine import RATE_HZ, DecodeItem, WhisperEngine
from assist.stt.policy import EndpointOptions

INTERIM_DUTY = 0.2  # at most this share of one worker for one speaker's interims
MAX_INTERIM_INTERVAL_MS = 1500  # beyond this, live text stops feeling live
WINDOW_MS = 32  # interims are due on VAD window boundaries
# A typical contact-centre call (the shared calls): speech on one channel or the other about
# 60 % of the time, a final every ~2.5 s of speech.
SPEECH_SHARE = 0.6
FINALS_PER_SPEECH_S = 0.4
TARGET_BUSY = 0.75  # plan capacity so that decode workers are busy at most this much


@dataclass(frozen=True, slots=True)
class Calibration:
    cpu: str
    interim_decode_ms: float  # a 2 s interim (fitted window)
    final_decode_ms: float  # a 3 s final with word timings (10 s window)
    interim_interval_ms: int
    decode_core_s_per_call_s: float  # estimated decode cost of one call, every interim decoded
    capacity_calls: int  # calls the decode workers hold at TARGET_BUSY with every interim decoded
    capacity_calls_finals: int  # ... when interims are thinned to nothing (finals alone): the ceiling

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _timed_ms(engine: WhisperEngine, item: DecodeItem, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        engine.decode([item])
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def _speech_like(seconds: float) -> np.ndarray:
    """A deterministic voiced signal (harmonics with a syllable-rate envelope): decodes like
    speech in cost; the text does not matter."""
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    voice = sum(np.sin(2 * np.pi * 130.0 * k * t) / k for k in range(1, 8))  # a 130 Hz voice
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4.0 * t))
    return (0.1 * voice * envelope).astype(np.float32)


def interval_for(interim_ms: float, base: EndpointOptions) -> int:
    """Interim spacing for a measured interim cost: never below the configured one."""
    wanted = interim_ms / INTERIM_DUTY
    windows = math.ceil(max(base.interim_interval_ms, min(MAX_INTERIM_INTERVAL_MS, wanted)) / WINDOW_MS)
    return int(windows * WINDOW_MS)


def cost_per_call_s(interim_ms: float, final_ms: float, interval_ms: int) -> float:
    """Decode core-seconds per second of a two-speaker call."""
    per_speech_s = (1000.0 / interval_ms) * interim_ms + FINALS_PER_SPEECH_S * final_ms
    return SPEECH_SHARE * per_speech_s / 1000.0


def calibrate(
    engine: WhisperEngine, cpu: CpuInfo, base: EndpointOptions, workers: int, repeats: int = 3
) -> Calibration:
    """Time representative decodes on ``engine`` (already warmed up); blocks for ~1 s."""
    interim_ms = _timed_ms(engine, DecodeItem(_speech_like(2.0), purpose="interim"), repeats)
    final_ms = _timed_ms(engine, DecodeItem(_speech_like(3.0), want_words=True), repeats)
    interval_ms = interval_for(interim_ms, base)
    cost = cost_per_call_s(interim_ms, final_ms, interval_ms)
    cores = workers * engine.options.cpu_threads * TARGET_BUSY
    capacity = max(1, int(cores / max(cost, 1e-6)))
    finals_only = max(1, int(cores / max(SPEECH_SHARE * FINALS_PER_SPEECH_S * final_ms / 1000.0, 1e-6)))
    return Calibration(
        cpu=cpu.kind,
        interim_decode_ms=round(interim_ms, 1),
        final_decode_ms=round(final_ms, 1),
        interim_interval_ms=interval_ms,
        decode_core_s_per_call_s=round(cost, 4),
        capacity_calls=capacity,
        capacity_calls_finals=finals_only,
    )


def calibrated_endpoint(base: EndpointOptions, calibration: Calibration) -> EndpointOptions:
    """The first interim stays where it was (first text soon after speech starts); the ones
    after it are spaced by what this CPU can afford."""
    return dataclasses.replace(base, interim_interval_ms=calibration.interim_interval_ms)
