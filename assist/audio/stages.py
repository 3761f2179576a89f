"""Process-wide timings of the per-frame audio stages: codec decode, resampling and VAD.

These stages run per wire frame for every call, far too often for per-event fields, so they
are kept as one Prometheus histogram per process; ``assist.metrics`` exports it on /metrics
(``assist_audio_stage_seconds{stage=...}``) and the benchmark reads it before and after a run.
"""

from __future__ import annotations

from prometheus_client import Histogram

# Per-frame work is microseconds to milliseconds.
AUDIO_STAGE_BUCKETS_S = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
)

AUDIO_STAGES = Histogram(
    "assist_audio_stage_seconds",
    "Per-frame time of the audio stages (decode: wire codec; resample: to 16 kHz, all channels; vad: "
    "VAD and endpointing of one speaker's chunk)",
    ["stage"],
    buckets=AUDIO_STAGE_BUCKETS_S,
    registry=None,  # registered into each server's registry by assist.metrics
)
DECODE = AUDIO_STAGES.labels("decode")
RESAMPLE = AUDIO_STAGES.labels("resample")
VAD = AUDIO_STAGES.labels("vad")
