"""A short run of the benchmark harness end to end: two calls cut to a few seconds, replayed at
twice real time into a server the harness starts, a two-level sweep. Checks that the results
JSON, the plots, the summary and the doc section are produced and agree with each other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, REPO_ROOT

pytestmark = pytest.mark.model

PNG = b"\x89PNG\r\n\x1a\n"


def ordered(st: dict[str, Any]) -> bool:
    values = [st.get(k) for k in ("p50", "p95", "max") if st.get(k) is not None]
    return values == sorted(values)


def all_stats(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every {n, p50, p95, ...} dict in the results."""
    found = []
    if isinstance(node, dict):
        if "p50" in node and "p95" in node:
            found.append((path, node))
        for key, value in node.items():
            found += all_stats(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += all_stats(value, f"{path}[{index}]")
    return found


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("bench")
    out, doc, record = tmp / "out", tmp / "benchmarks.md", tmp / "record"
    doc.write_text("# Benchmarks\n\n<!-- bench-stt:begin -->\nkept\n<!-- bench-stt:end -->\n")
    command = [
        sys.executable,
        "-m",
        "assist.bench",
        "--calls-dir",
        str(shared_data / "calls"),
        "--calls",
        "2",
        "--max-seconds",
        "16",
        "--speed",
        "2",
        "--concurrency",
        "2",
        "--stagger-s",
        "0.5",
        "--sweep-levels",
        "1,2",
        "--sweep-window-s",
        "8",
        "--sweep-stagger-s",
        "0.5",
        "--linger-s",
        "15",
        "--out",
        str(out),
        "--cache-dir",
        str(ARTIFACTS / "bench-cache"),
        "--doc",
        str(doc),
        "--record",
        str(record),
        "--no-progress",
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-4000:]
    return out, doc, record


def test_results_json_is_complete_and_consistent(bench_run: tuple[Path, Path, Path]) -> None:
    out, _, _ = bench_run
    results = json.loads((out / "results.json").read_text())
    env = results["environment"]
    assert env["cores"] >= 1 and env["cpu"] and env["model"].startswith("tiny.en") and env["commit"]
    main = results["main"]
    assert main["calls"] == 2 and len(main["per_call"]) == 2
    assert main["utterances"] == sum(c["utterances"] for c in main["per_call"]) > 0
    assert main["lost"] == sum(c["lost"] for c in main["per_call"])
    assert main["latency"]["final_s"]["n"] == main["utterances"] - main["lost"]
    assert main["errors"]["calls_with_errors"] == 0 and main["errors"]["refused_calls"] == 0
    for path, st in all_stats(results):
        assert ordered(st), f"{path}: {st}"
    for stage in ("endpoint", "queue", "recognition", "push", "audio_decode", "audio_resample", "audio_vad"):
        assert main["stages"][stage]["n"] > 0, stage
    for kind in ("streaming", "offline"):
        for speaker in ("customer", "agent", "overall"):
            assert 0.0 <= main["wer"][kind][speaker] < 1.0, (kind, speaker)
    assert results["reference"]["compute_s"]["n"] == main["utterances"]
    assert results["reference"]["final_latency_floor_s"]["p50"] > results["reference"]["endpoint_silence_s"]
    assert main["resources"]["rss_peak_mb"] > 100
    assert main["cards"]["calls"] == 2 and 0 <= main["cards"]["right"] <= 2
    sweep = results["sweep"]
    assert [level["calls_at_once"] for level in sweep["levels"]] == [1, 2]
    assert sweep["sustainable_calls"] in (0, 1, 2)
    assert results["resources_timeline"]


def test_plots_summary_and_doc(bench_run: tuple[Path, Path, Path]) -> None:
    out, doc, record = bench_run
    results = json.loads((out / "results.json").read_text())
    assert {"plots/stages.png", "plots/latency_cdf.png", "plots/concurrency.png"} <= set(results["plots"])
    for name in results["plots"]:
        for base in (out, record):
            data = (base / name).read_bytes()
            assert data.startswith(PNG) and len(data) > 5000, name
    final = results["main"]["latency"]["final_s"]
    summary = (out / "summary.md").read_text()
    assert f"| {final['n']} | {final['p50']:.2f} s | {final['p95']:.2f} s |" in summary
    assert f"{results['main']['wer']['streaming']['customer'] * 100:.2f} %" in summary
    assert "Highest sustainable" in summary or "At least" in summary
    text = doc.read_text()
    assert "<!-- bench-stt:begin -->\nkept\n<!-- bench-stt:end -->" in text
    assert text.count("<!-- bench:begin -->") == 1 and "python -m assist.bench --calls-dir" in text
    assert json.loads((record / "results.json").read_text())["main"]["calls"] == 2
