"""The report's PNG plots (matplotlib, Agg): stage latencies, latency CDFs against the floor,
latency and CPU against concurrency, server CPU and RSS over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _horizontal() -> dict[str, Any]:
    """boxplot's horizontal switch: ``orientation`` since matplotlib 3.10, ``vert`` before."""
    import matplotlib

    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def draw(results: dict[str, Any], directory: Path) -> list[str]:
    """Draw every plot the results allow; returns paths relative to ``directory``'s parent."""
    directory.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    files = []
    for name, painter in (
        ("stages.png", _stages),
        ("latency_cdf.png", _cdf),
        ("concurrency.png", _concurrency),
        ("resources.png", _resources),
    ):
        fig = painter(plt, results)
        if fig is None:
            continue
        fig.tight_layout()
        fig.savefig(directory / name, dpi=100)
        plt.close(fig)
        files.append(f"{directory.name}/{name}")
    return files


def _stages(plt: Any, results: dict[str, Any]) -> Any:
    samples = results["main"]["samples"]
    rows = [
        ("push to sidebar", samples["push_s"]),
        ("knowledge match", samples["match_s"]),
        ("recognition compute alone (floor)", samples["floor_compute_s"]),
        ("recognition", samples["recognition_s"]),
        ("recognition queue", samples["queue_s"]),
        ("endpoint (speech end → closed)", samples["endpoint_s"]),
        ("final at client (floor)", samples["floor_final_s"]),
        ("final at client", samples["final_s"]),
    ]
    rows = [(label, [v for v in data if v is not None and v > 0]) for label, data in rows]
    rows = [(label, data) for label, data in rows if data]
    stages = results["main"]["stages"]
    marks = [
        (label, stages.get(key) or {})
        for label, key in (
            ("audio decode / frame", "audio_decode"),
            ("resample / frame", "audio_resample"),
            ("VAD / chunk", "audio_vad"),
        )
    ]
    marks = [(label, st) for label, st in marks if st.get("p50")]
    if not rows and not marks:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.45 * (len(rows) + len(marks)) + 1.6))
    if rows:
        ax.boxplot(
            [np.array(data) * 1000 for _, data in rows],
            **_horizontal(),
            whis=(5, 95),
            showfliers=True,
            flierprops={"markersize": 2, "alpha": 0.4},
        )
    for offset, (_label, st) in enumerate(marks, start=len(rows) + 1):
        ax.plot([st["p50"] * 1000, st["p95"] * 1000], [offset, offset], "-", color="tab:purple")
        ax.plot([st["p50"] * 1000], [offset], "o", color="tab:purple")
    ax.set_yticks(range(1, len(rows) + len(marks) + 1), [label for label, _ in rows] + [label for label, _ in marks])
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale); boxes p25–p75, whiskers p5–p95; per-frame stages: p50 ● to p95")
    ax.set_title("Latency by stage, main run")
    ax.grid(alpha=0.3, axis="x")
    return fig


def _cdf(plt: Any, results: dict[str, Any]) -> Any:
    samples = results["main"]["samples"]
    curves = [
        ("end of utterance → final at client", samples["final_s"], "-"),
        ("floor: closing silence + compute alone", samples["floor_final_s"], "--"),
        ("start of utterance → first text", samples["first_text_s"], "-"),
        ("end of intent utterance → right card", samples["card_s"], "-"),
    ]
    if not any(data for _, data, _ in curves):
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for label, data, style in curves:
        values = np.sort(np.array(data, dtype=float))
        if len(values):
            ax.plot(values, np.arange(1, len(values) + 1) / len(values), style, label=f"{label} (n={len(values)})")
    limit = (results.get("sweep") or {}).get("limit_s")
    if limit:
        ax.axvline(limit, color="grey", linestyle=":", label=f"limit {limit:g} s")
    ax.set_xlabel("seconds")
    ax.set_ylabel("fraction")
    ax.set_title("Latency distributions at the client, main run (CDF)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _concurrency(plt: Any, results: dict[str, Any]) -> Any:
    sweep = results.get("sweep")
    if not sweep or not sweep["levels"]:
        return None
    levels = sweep["levels"]
    n = [r["calls_at_once"] for r in levels]

    def series(path: tuple[str, ...]) -> list[float]:
        out = []
        for r in levels:
            value: Any = r
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            out.append(np.nan if value is None else float(value))
        return out

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(n, series(("latency", "final_s", "p50")), "o-", label="final p50")
    ax1.plot(n, series(("latency", "final_s", "p95")), "s-", label="final p95")
    ax1.plot(n, series(("latency", "first_text_s", "p50")), "^-", label="first text p50")
    ax1.axhline(sweep["limit_s"], color="grey", linestyle=":", label=f"p95 limit {sweep['limit_s']:g} s")
    if sweep.get("sustainable_calls"):
        ax1.axvline(sweep["sustainable_calls"], color="tab:green", linestyle="--", label="highest sustainable")
    ax1.set_xlabel("simultaneous two-speaker calls")
    ax1.set_ylabel("seconds")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.plot(n, series(("resources", "server_cores_busy")), "o-", label="server cores busy")
    ax2.plot(n, series(("resources", "client_cores_busy")), "x--", label="harness cores busy")
    ax2.set_xlabel("simultaneous two-speaker calls")
    ax2.set_ylabel("CPU cores")
    ax2.grid(alpha=0.3)
    rss = ax2.twinx()
    rss.plot(n, series(("resources", "rss_peak_mb")), "s:", color="tab:red", label="server peak RSS")
    rss.set_ylabel("MB")
    handles = ax2.get_legend_handles_labels()
    extra = rss.get_legend_handles_labels()
    ax2.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper left")
    fig.suptitle(f"Capacity sweep ({results['options']['device']})")
    return fig


def _resources(plt: Any, results: dict[str, Any]) -> Any:
    timeline = results.get("resources_timeline") or []
    if len(timeline) < 2:
        return None
    t = np.array([p["t_s"] for p in timeline])
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.plot(t, [p["server_cores"] for p in timeline], label="server CPU (cores)", lw=1)
    ax.plot(t, [p["client_cores"] for p in timeline], label="harness CPU (cores)", lw=0.8, alpha=0.7)
    ax.set_xlabel("seconds since the first call")
    ax.set_ylabel("CPU cores")
    ax.grid(alpha=0.3)
    rss = ax.twinx()
    rss.plot(t, [p["server_rss_mb"] for p in timeline], color="tab:red", lw=1, label="server RSS (MB)")
    rss.set_ylabel("MB")
    phases = [results["main"], *((results.get("sweep") or {}).get("levels") or [])]
    for index, phase in enumerate(phases):
        start = phase.get("started_s")
        if start is None:
            continue
        ax.axvspan(start, start + phase["wall_s"], color="grey" if index % 2 else "tab:blue", alpha=0.06)
        ax.text(start, ax.get_ylim()[1] * 0.95, str(phase.get("label", "")).replace("sweep-", "N="), fontsize=7)
    handles = ax.get_legend_handles_labels()
    extra = rss.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper right")
    ax.set_title("Server CPU and memory over the benchmark")
    return fig
