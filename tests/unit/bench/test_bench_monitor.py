"""Reading the server's /metrics: deltas and histogram quantiles."""

from __future__ import annotations

import math

import pytest

from assist.bench.monitor import (
    HistogramDelta,
    ResourceSample,
    by_label,
    delta,
    histogram,
    parse_metrics,
    series,
    total,
    usage,
)

EXPOSITION = """# HELP assist_audio_stage_seconds x
# TYPE assist_audio_stage_seconds histogram
assist_audio_stage_seconds_bucket{le="0.001",stage="vad"} %d
assist_audio_stage_seconds_bucket{le="0.002",stage="vad"} %d
assist_audio_stage_seconds_bucket{le="+Inf",stage="vad"} %d
assist_audio_stage_seconds_count{stage="vad"} %d
assist_audio_stage_seconds_sum{stage="vad"} %f
# HELP assist_errors x
# TYPE assist_errors counter
assist_errors_total{kind="protocol"} %d
assist_errors_total{kind="decode"} 0.0
"""


def snapshot(le1: int, le2: int, inf: int, total_s: float, errors: int) -> dict[str, float]:
    return parse_metrics(EXPOSITION % (le1, le2, inf, inf, total_s, errors))


def test_histogram_delta_and_quantiles() -> None:
    before = snapshot(10, 10, 10, 0.005, 1)
    after = snapshot(60, 110, 110, 0.155, 3)  # 50 in (0, 1 ms], 50 in (1, 2 ms]
    h = histogram(delta(before, after), "assist_audio_stage_seconds", stage="vad")
    assert h.count == 100
    assert h.mean == pytest.approx(0.0015)
    assert h.quantile(0.5) == pytest.approx(0.001)
    assert h.quantile(0.75) == pytest.approx(0.0015)
    assert h.quantile(0.95) == pytest.approx(0.0019)


def test_quantile_beyond_the_last_bucket_is_its_bound() -> None:
    h = HistogramDelta(((0.001, 1.0), (math.inf, 10.0)), 10.0, 1.0)
    assert h.quantile(0.95) == 0.001
    assert HistogramDelta((), 0.0, 0.0).quantile(0.5) is None


def test_counters_by_label_and_total() -> None:
    d = delta(snapshot(0, 0, 0, 0, 1), snapshot(0, 0, 0, 0, 4))
    assert by_label(d, "assist_errors_total", "kind") == {"protocol": 3.0, "decode": 0.0}
    assert total(d, "assist_errors_total") == 3.0


def test_usage_and_series() -> None:
    samples = [ResourceSample(100.0 + i, 10.0 + 0.5 * i, 500.0 + i, 1.0 + 0.1 * i) for i in range(5)]
    used = usage(samples)
    assert used["server_cores_busy"] == pytest.approx(0.5)
    assert used["client_cores_busy"] == pytest.approx(0.1)
    assert used["rss_peak_mb"] == 504.0
    points = series(samples, origin=100.0)
    assert [p["t_s"] for p in points] == [1.0, 2.0, 3.0, 4.0]
    assert all(p["server_cores"] == pytest.approx(0.5) for p in points)
    assert usage(samples[:1])["server_cores_busy"] is None
