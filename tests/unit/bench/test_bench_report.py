"""Report building: JSON cleaning, the markdown section, the doc update, the plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assist.bench import report
from assist.bench.analysis import stats

PNG = b"\x89PNG\r\n\x1a\n"


def phase(final: list[float], label: str = "main", calls: int = 2) -> dict[str, Any]:
    return {
        "label": label,
        "calls": calls,
        "concurrency": calls,
        "stagger_s": 1.0,
        "audio_s": 60.0,
        "wall_s": 31.0,
        "started_s": 0.0 if label == "main" else 40.0,
        "utterances": len(final),
        "lost": 0,
        "merged": 1,
        "latency": {
            "final_s": stats(final),
            "final_unmerged_s": stats(final[:-1]),
            "first_text_s": stats([0.5, 0.6]),
            "interim_lag_s": stats([0.1, 0.2]),
            "first_interim_after_audio_s": stats([4.0]),
            "card_s": stats([-0.2, 0.7]),
        },
        "final_p95_with_lost_s": stats(final)["p95"],
        "stages": {
            "audio_decode": {"n": 10, "mean": 0.00005, "p50": 0.00004, "p95": 0.00009},
            "audio_resample": {"n": 10, "mean": 0.00005, "p50": 0.00004, "p95": 0.00009},
            "audio_vad": {"n": 20, "mean": 0.0005, "p50": 0.0004, "p95": 0.0009},
            "endpoint": stats([0.3, 0.31]),
            "queue": stats([0.0, 0.02]),
            "recognition": stats([0.09, 0.12]),
            "server_total": stats([0.4, 0.5]),
            "match": stats([0.012]),
            "guidance": {"n": 5, "mean": 0.01, "p50": 0.01, "p95": 0.02},
            "push": stats([0.001, 0.002]),
        },
        "floor": {"compute_s": stats([0.08, 0.09]), "final_latency_s": stats([0.4, 0.41])},
        "wer": {
            "streaming": {"agent": 0.05, "customer": 0.1, "overall": 0.075},
            "offline": {"agent": 0.04, "customer": 0.12, "overall": 0.08},
        },
        "cards": {"right": 2, "calls": 2, "right_rate": 1.0, "unrelated_total": 1, "unrelated_per_call": 0.5},
        "errors": {"calls_with_errors": 0, "messages": [], "refused_calls": 0, "server": {}},
        "dropped": {"sidebar_finals_missing": 0, "interims_thinned": 3.0, "sidebar_overflows": 0.0},
        "resources": {
            "server_cores_busy": 0.6,
            "client_cores_busy": 0.05,
            "rss_start_mb": 600.0,
            "rss_peak_mb": 650.0,
            "server_cpu_s_per_call_s": 0.2,
        },
        "samples": {
            "final_s": final,
            "first_text_s": [0.5, 0.6],
            "floor_final_s": [0.4, 0.41],
            "endpoint_s": [0.3, 0.31],
            "queue_s": [0.0, 0.02],
            "recognition_s": [0.09, 0.12],
            "floor_compute_s": [0.08, 0.09],
            "match_s": [0.012],
            "push_s": [0.001, 0.002],
            "card_s": [-0.2, 0.7],
        },
        "per_call": [],
        "speed": 1.0,
        "timeline": [],
    }


def results() -> dict[str, Any]:
    levels = []
    for n, final in ((1, [0.4, 0.5]), (2, [0.5, 3.0])):
        level = {k: v for k, v in phase(final, f"sweep-{n}", n).items() if k not in ("samples", "per_call")}
        level.update(calls_at_once=n, passed=n == 1)
        levels.append(level)
    return {
        "main": phase([0.35, 0.45, 0.9]),
        "sweep": {
            "limit_s": 2.0,
            "window_s": 30.0,
            "stagger_s": 1.0,
            "levels": levels,
            "sustainable_calls": 1,
            "limit_reached": True,
            "rule": "p95 ≤ limit",
        },
        "resources_timeline": [
            {"t_s": float(t), "server_cores": 0.5, "server_rss_mb": 600.0 + t, "client_cores": 0.1} for t in range(60)
        ],
        "options": {"protocol": "native", "speed": 1.0, "device": "cpu"},
        "reference": {"wire": "l16 16000 Hz", "endpoint_silence_s": 0.32, "model": {"model": "tiny.en"}},
        "duration_s": 120.0,
        "environment": {
            "cpu": "Test CPU",
            "cores": 2,
            "memory_gb": 8.0,
            "gpu": None,
            "model": "tiny.en int8 (cpu, 2 threads)",
            "commit": "abc1234",
            "date": "2026-01-01 00:00",
        },
    }


def test_clean_makes_strict_json() -> None:
    cleaned = report.clean({"a": float("inf"), "b": [1.234567, float("nan"), 0.0000123456], "c": (1, "x")})
    assert cleaned == {"a": None, "b": [1.2346, None, 0.000012346], "c": [1, "x"]}
    json.dumps(cleaned, allow_nan=False)


def test_markdown_has_the_figures_and_the_reference_line() -> None:
    text = report.markdown(results(), command="python -m assist.bench", link_prefix="x/", raw_path="x/results.json")
    assert text.startswith(report.DOC_BEGIN) and text.endswith(report.DOC_END)
    assert "| end of utterance → its final (0 of 3 lost) | 3 | 0.45 s |" in text
    assert "the same without the 1 merged into the speaker's next utterance" in text
    assert "floor p50 0.41 s" in text  # reference line: latency floor
    assert "compute alone p50 85 ms" in text  # reference line: speed floor
    assert "| customer | 10.00 % | 12.00 % | -2.00 pts |" in text  # reference line: accuracy ceiling
    assert "**2 of 2** calls" in text
    assert "**Highest sustainable: 1 simultaneous calls**" in text
    assert "| 2 | 2 | 1.75 s |" in text  # sweep row
    assert "Test CPU, 2 cores" in text


def test_write_produces_json_plots_summary_and_doc(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n<!-- bench-stt:begin -->\nstt\n<!-- bench-stt:end -->\n")
    out = tmp_path / "run"
    data = results()
    report.write(data, out, command="python -m assist.bench --calls 2", doc=doc, record=tmp_path / "docs-record")
    saved = json.loads((out / "results.json").read_text())
    assert saved["schema"] == report.SCHEMA and saved["command"] == "python -m assist.bench --calls 2"
    assert saved["plots"] == [
        "plots/stages.png",
        "plots/latency_cdf.png",
        "plots/concurrency.png",
        "plots/resources.png",
    ]
    for name in saved["plots"]:
        for base in (out, tmp_path / "docs-record"):
            assert (base / name).read_bytes().startswith(PNG)
    assert (tmp_path / "docs-record" / "results.json").exists()
    summary = (out / "summary.md").read_text()
    assert "![stages](plots/stages.png)" in summary
    text = doc.read_text()
    assert "<!-- bench-stt:begin -->\nstt\n<!-- bench-stt:end -->" in text  # other sections kept
    assert "![stages](docs-record/plots/stages.png)" in text
    # A second write replaces the section instead of adding another.
    report.write(data, out, command="again", doc=doc, record=tmp_path / "docs-record")
    assert doc.read_text().count(report.DOC_BEGIN) == 1 and "`again`" in doc.read_text()


def test_model_line_prefers_the_servers_own_account() -> None:
    reference = {"model": "tiny.en", "compute_type": "int8", "device": "cpu", "cpu_threads": 1}
    assert report.model_line(reference, {}) == "tiny.en int8 (cpu, 1 thread)"
    server = {**reference, "cpu_threads": 2, "workers": 3}
    assert report.model_line(reference, server) == "tiny.en int8 (cpu, 3 decode workers × 2 threads)"
