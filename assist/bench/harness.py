"""The benchmark run: reference line, main replay, capacity sweep; one results dict.

1. reference: offline transcripts (accuracy ceiling) and per-utterance compute time (speed
   floor) for the calls, cached, computed before the server starts so they disturb nothing;
2. main: every call replayed through the server, ``concurrency`` at once, staggered starts;
3. sweep: N simultaneous calls (each cut to ``sweep_window_s``) for rising N until p95 final
   latency passes ``limit_s``; the highest N that stayed under is the sustainable count.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assist.bench import monitor as mon
from assist.bench.analysis import analyse_call, stats, summarise_run
from assist.bench.dataset import CALLS_DIR, REPO_ROOT, Recording, load_calls
from assist.bench.launcher import AUDIOHOOK_KEY, ServerOptions, ServerProcess, Target, wait_ready
from assist.bench.reference import CallReference, ModelSpec, ReferenceRunner, Wire, references_for
from assist.bench.replay import Protocol, ReplayOptions, replay_all
from assist.bench.sweep import LevelOutcome, next_level, sustainable
from assist.qa.disposition import load_dispositions
from assist.stt.engine import DEFAULT_CPU_THREADS
from assist.stt.transcriber import ENGLISH_MODEL

SWEEP_LEVELS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64)


def sweep_stagger(window_s: float, level: int, configured: float | None) -> float:
    """Starts spread over at most a quarter of the window: N calls really run at once."""
    if configured is not None:
        return configured
    return min(1.0, window_s / (4 * level))


@dataclass
class HarnessOptions:
    calls_dir: Path = CALLS_DIR
    calls: int | None = None  # the first N calls (default all)
    kb_dir: Path | None = None  # the server's knowledge base (default kb/bank); telecom for the Mandarin calls
    max_seconds: float | None = None  # cut each call (tests, quick looks)
    protocol: Protocol = "native"
    concurrency: int = 4
    stagger_s: float = 2.0
    speed: float = 1.0
    linger_s: float = 30.0
    sweep: bool = True
    sweep_levels: list[int] = field(default_factory=lambda: list(SWEEP_LEVELS))
    sweep_window_s: float = 45.0
    sweep_stagger_s: float | None = None  # None: min(1 s, window / 4N), so all N overlap for 3/4 of it
    sweep_refine: int = 2
    limit_s: float = 2.0
    device: str = "cpu"
    compute_type: str | None = None
    cpu_threads: int | None = None
    workers: int | None = None
    url: str | None = None  # a running server instead of launching one
    secret_key: str | None = None
    audiohook_key: str = AUDIOHOOK_KEY
    ingest_token: str | None = None
    server_pid: int | None = None
    cache_dir: Path = REPO_ROOT / "bench-results" / "cache"
    out: Path = REPO_ROOT / "bench-results" / "latest"
    progress: bool = True

    @property
    def wire(self) -> Wire:
        return Wire("pcmu", 8000) if self.protocol == "audiohook" else Wire("l16", 16000)

    def model_spec(self) -> ModelSpec:
        server = ServerOptions(device=self.device, compute_type=self.compute_type)
        return ModelSpec(
            ENGLISH_MODEL, self.device, server.effective_compute_type, self.cpu_threads or DEFAULT_CPU_THREADS
        )


def log(message: str) -> None:
    tqdm.write(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr)


def server_stages(before: mon.Snapshot, after: mon.Snapshot) -> dict[str, Any]:
    """Per-frame stages and counters from the server's /metrics over one run."""
    d = mon.delta(before, after)
    stages: dict[str, Any] = {}
    for stage in ("decode", "resample", "vad"):
        h = mon.histogram(d, "assist_audio_stage_seconds", stage=stage)
        stages[f"audio_{stage}"] = {"n": int(h.count), "mean": h.mean, "p50": h.quantile(0.5), "p95": h.quantile(0.95)}
    for stage in ("guidance_wait", "guidance"):
        h = mon.histogram(d, "assist_stage_latency_seconds", stage=stage)
        stages[stage] = {"n": int(h.count), "mean": h.mean, "p50": h.quantile(0.5), "p95": h.quantile(0.95)}
    counters = {
        "errors": {k: v for k, v in mon.by_label(d, "assist_errors_total", "kind").items() if v},
        "decode_errors": mon.total(d, "assist_stt_decode_errors_total"),
        "interims_thinned": mon.total(d, "assist_stt_interims_thinned_total"),
        "revisions_shed": mon.total(d, "assist_stt_revisions_shed_total"),
        "sidebar_overflows": mon.total(d, "assist_sidebar_overflows_total"),
        "sidebar_interims_coalesced": mon.total(d, "assist_sidebar_interims_coalesced_total"),
    }
    return {"stages": stages, "counters": counters, "metrics_available": bool(after)}


async def measure(
    target: Target,
    recordings: list[Recording],
    references: dict[str, CallReference],
    *,
    concurrency: int,
    stagger_s: float,
    label: str,
    options: HarnessOptions,
    monitor: mon.ResourceMonitor,
    origin_wall: float,
) -> dict[str, Any]:
    """Replay ``recordings``; everything measured about that run."""
    replay = ReplayOptions(protocol=options.protocol, speed=options.speed, linger_s=options.linger_s)
    total = sum(r.duration_s for r in recordings)
    bar = tqdm(
        total=round(total, 1),
        desc=f"{label} ({concurrency} at once)",
        unit="s audio",
        disable=not options.progress,
        leave=False,
        file=sys.stderr,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]",
    )
    on_frame: Callable[[float], None] = bar.update
    before = mon.scrape(target.http)
    started = time.time()
    runs = await replay_all(
        target, recordings, concurrency=concurrency, stagger_s=stagger_s, label=label, options=replay, on_frame=on_frame
    )
    ended = time.time()
    bar.close()
    await asyncio.sleep(0.3)  # let the server publish its last counters
    after = mon.scrape(target.http)
    dispositions = load_dispositions(options.kb_dir or REPO_ROOT / "kb" / "bank")  # the server's
    measures = [analyse_call(run, references.get(run.recording.digest), dispositions=dispositions) for run in runs]
    summary = summarise_run(measures)
    if options.speed != 1.0:  # emitted_s is wall time, end_s audio time: apart at any other pace
        summary["stages"]["server_total"] = stats([])
    server = server_stages(before, after)
    summary["stages"].update(server["stages"])
    summary["server_counters"] = server["counters"]
    summary["dropped"]["interims_thinned"] = server["counters"]["interims_thinned"]
    summary["dropped"]["sidebar_overflows"] = server["counters"]["sidebar_overflows"]
    summary["dropped"]["sidebar_interims_coalesced"] = server["counters"]["sidebar_interims_coalesced"]
    summary["errors"]["server"] = server["counters"]["errors"]
    resources = mon.usage(monitor.window(started, ended))
    if resources.get("server_cpu_s") is not None and summary["audio_s"]:
        resources["server_cpu_s_per_call_s"] = resources["server_cpu_s"] / summary["audio_s"]
    summary.update(
        {
            "label": label,
            "concurrency": concurrency,
            "stagger_s": stagger_s,
            "speed": options.speed,
            "wall_s": ended - started,
            "started_s": started - origin_wall,
            "resources": resources,
            "timeline": mon.series(monitor.window(started, ended), origin_wall),
        }
    )
    return summary


def level_outcome(level: int, summary: dict[str, Any], limit_s: float) -> LevelOutcome:
    p95 = summary["final_p95_with_lost_s"]
    refused = summary["errors"]["refused_calls"]
    ok = p95 is not None and p95 <= limit_s and refused == 0
    return LevelOutcome(level, ok, p95, refused)


def sweep_summary(summary: dict[str, Any], outcome: LevelOutcome) -> dict[str, Any]:
    """What the capacity table and plots need from a level (raw samples dropped)."""
    keep = {k: v for k, v in summary.items() if k not in ("samples", "per_call", "timeline")}
    keep["calls_at_once"] = outcome.level
    keep["passed"] = outcome.passed
    keep["p95_with_lost_s"] = outcome.p95_s
    return keep


async def run_async(
    options: HarnessOptions, target: Target, references: dict[str, CallReference], recordings: list[Recording]
) -> dict[str, Any]:
    origin = time.time()
    monitor = mon.ResourceMonitor(target.pid, target.http, gpu=options.device == "cuda").start()
    results: dict[str, Any] = {}
    try:
        log(f"main run: {len(recordings)} calls, {options.concurrency} at once, speed {options.speed:g}×")
        main = await measure(
            target,
            recordings,
            references,
            concurrency=options.concurrency,
            stagger_s=options.stagger_s,
            label="main",
            options=options,
            monitor=monitor,
            origin_wall=origin,
        )
        results["main"] = main
        lat = main["latency"]["final_s"]
        log(
            f"main run: final p50 {_s(lat['p50'])}, p95 {_s(lat['p95'])}, cards right {main['cards']['right']}/{main['calls']}"
        )
        if options.sweep:
            results["sweep"] = await run_sweep(options, target, recordings, monitor, origin)
    finally:
        monitor.stop()
    results["resources_timeline"] = mon.series(monitor.samples, origin)
    return results


async def run_sweep(
    options: HarnessOptions, target: Target, calls: list[Recording], monitor: mon.ResourceMonitor, origin: float
) -> dict[str, Any]:
    window = [rec.cut(options.sweep_window_s) for rec in calls]
    outcomes: list[LevelOutcome] = []
    levels: list[dict[str, Any]] = []
    while (level := next_level(outcomes, options.sweep_levels, options.sweep_refine)) is not None:
        chosen = [window[i % len(window)] for i in range(level)]
        summary = await measure(
            target,
            chosen,
            {},
            concurrency=level,
            stagger_s=sweep_stagger(options.sweep_window_s, level, options.sweep_stagger_s),
            label=f"sweep-{level}",
            options=options,
            monitor=monitor,
            origin_wall=origin,
        )
        outcome = level_outcome(level, summary, options.limit_s)
        outcomes.append(outcome)
        levels.append(sweep_summary(summary, outcome))
        log(
            f"sweep {level} calls: final p95 {_s(outcome.p95_s)} "
            f"({'under' if outcome.passed else 'over'} {options.limit_s:g} s), "
            f"server {summary['resources'].get('server_cores_busy') or 0:.2f} cores busy"
        )
    levels.sort(key=lambda r: r["calls_at_once"])
    return {
        "limit_s": options.limit_s,
        "window_s": options.sweep_window_s,
        "stagger_s": options.sweep_stagger_s,  # None: per level, min(1 s, window / 4N)
        "levels": levels,
        "sustainable_calls": sustainable(outcomes),
        "limit_reached": any(not o.passed for o in outcomes),
        "rule": "highest N with p95 final latency (lost utterances count as infinitely late) ≤ limit and no call refused",
    }


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def load(options: HarnessOptions) -> list[Recording]:
    recordings = [rec.cut(options.max_seconds) for rec in load_calls(options.calls, options.calls_dir)]
    if not recordings:
        raise SystemExit(f"no calls found in {options.calls_dir}")
    return recordings


def reference_line(options: HarnessOptions, recordings: list[Recording]) -> dict[str, CallReference]:
    runner = ReferenceRunner(options.model_spec(), options.wire, options.cache_dir / "reference")
    bar = tqdm(
        total=len(recordings), desc="reference (offline + compute floor)", disable=not options.progress, leave=False
    )
    try:
        return references_for(recordings, runner, on_done=lambda _: bar.update(1))
    finally:
        bar.close()


def run(options: HarnessOptions) -> dict[str, Any]:
    """The whole benchmark; returns the results dict (report.py writes it out)."""
    started = time.time()
    recordings = load(options)
    log(f"{len(recordings)} calls, {sum(r.duration_s for r in recordings):.0f} s of audio; reference line first")
    references = reference_line(options, recordings)
    server_info: dict[str, Any] = {}
    if options.url:
        target = Target(
            options.url.rstrip("/"),
            secret_key=options.secret_key,
            audiohook_key=options.audiohook_key,
            ingest_token=options.ingest_token,
            pid=options.server_pid,
        )
        target.stt = wait_ready(target.http, 30).get("stt") or {}
        results = asyncio.run(run_async(options, target, references, recordings))
        server_info = {"launched": False, "url": target.http, "stt": target.stt}
    else:
        server_options = ServerOptions(
            device=options.device,
            compute_type=options.compute_type,
            cpu_threads=options.cpu_threads,
            workers=options.workers,
            kb_dir=options.kb_dir,
            cache_dir=options.cache_dir,
        )
        log("starting the server")
        process = ServerProcess(server_options, options.out / "server.log")
        with process as target:
            log(f"server ready in {process.started_s:.1f} s at {target.http}")
            results = asyncio.run(run_async(options, target, references, recordings))
            server_info = {
                "launched": True,
                "ready_s": process.started_s,
                "settings": target.settings_env,
                "stt": target.stt,
            }
    results["server"] = server_info
    results["options"] = _options_dict(options)
    results["reference"] = reference_summary(options, results["main"])
    results["duration_s"] = time.time() - started
    return results


def reference_summary(options: HarnessOptions, main: dict[str, Any]) -> dict[str, Any]:
    from assist.stt.policy import EndpointOptions

    endpoint = EndpointOptions()
    return {
        "wire": str(options.wire),
        "model": asdict(options.model_spec()),
        "offline_wer": main["wer"]["offline"],
        "compute_s": main["floor"]["compute_s"],
        "final_latency_floor_s": main["floor"]["final_latency_s"],
        "endpoint_silence_s": endpoint.min_silence_ms / 1000,
        "how": "offline: faster-whisper transcribe() on each whole channel, beam 5, temperature 0, VAD, after the same wire path; "
        "compute: each reference utterance (plus pre/post-roll) decoded alone as a final, the least of 2 timed runs, nothing else running; "
        "latency floor: the endpointer's closing silence + that compute time",
    }


def _options_dict(options: HarnessOptions) -> dict[str, Any]:
    out = asdict(options)
    out.pop("secret_key", None)
    out.pop("ingest_token", None)
    return {k: str(v) if isinstance(v, Path) else v for k, v in out.items()}
