"""``python -m assist.bench`` (``make bench``): replay recorded calls through a running server and
measure every stage, accuracy and capacity. See docs/benchmarks.md for what each figure means.

Starts its own server (or targets ``--url``), replays the calls of ``--calls-dir`` (stereo FLAC/WAV
with JSON references, as ../shared/data/calls) through the native protocol or AudioHook, several
at once with staggered starts, then sweeps the number of simultaneous calls. Writes
results.json, summary.md and plots/ to ``--out`` (default bench-results/<timestamp>/).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from assist.bench.dataset import CALLS_DIR, REPO_ROOT
from assist.bench.harness import SWEEP_LEVELS, HarnessOptions, run


def _levels(text: str) -> list[int]:
    levels = sorted({int(x) for x in text.split(",") if x.strip()})
    if not levels or levels[0] < 1:
        raise argparse.ArgumentTypeError("levels are positive integers, e.g. 1,2,4,8")
    return levels


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assist.bench", description=__doc__.splitlines()[0].strip("`"))
    data = p.add_argument_group("calls")
    data.add_argument("--calls-dir", type=Path, default=CALLS_DIR, help="stereo calls + JSON references")
    data.add_argument("--calls", type=int, default=None, help="use the first N calls (default all)")
    data.add_argument("--kb-dir", type=Path, default=None, help="the server's knowledge base (default kb/bank)")
    data.add_argument("--max-seconds", type=float, default=None, help="cut each call to this length")
    play = p.add_argument_group("replay")
    play.add_argument("--protocol", choices=("native", "audiohook"), default="native")
    play.add_argument("--concurrency", type=int, default=4, help="calls at once in the main run")
    play.add_argument("--stagger-s", type=float, default=2.0, help="between call starts in the main run")
    play.add_argument("--speed", type=float, default=1.0, help="1 = real time; more for bulk re-processing")
    play.add_argument("--linger-s", type=float, default=30.0, help="wait this long for a call's last events")
    sweep = p.add_argument_group("capacity sweep")
    sweep.add_argument("--no-sweep", dest="sweep", action="store_false")
    sweep.add_argument("--sweep-levels", type=_levels, default=list(SWEEP_LEVELS), help="simultaneous calls to try")
    sweep.add_argument("--sweep-window-s", type=float, default=45.0, help="length of each call in a level")
    sweep.add_argument("--sweep-stagger-s", type=float, default=None, help="default min(1 s, window / 4N)")
    sweep.add_argument("--sweep-refine", type=int, default=2, help="bisection steps after the first failing level")
    sweep.add_argument("--limit-s", type=float, default=2.0, help="p95 final latency a level must stay under")
    server = p.add_argument_group("server")
    server.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    server.add_argument("--compute-type", default=None, help="default int8 on CPU, float16 on CUDA")
    server.add_argument("--cpu-threads", type=int, default=None)
    server.add_argument("--workers", type=int, default=None, help="decode workers (ASSIST_STT_WORKERS)")
    server.add_argument("--url", default=None, help="a running server (http://host:port) instead of starting one")
    server.add_argument("--secret-key", default=None, help="its ASSIST_SECRET_KEY, to watch agent sidebars")
    server.add_argument("--audiohook-key", default="bench-audiohook-key", help="its ASSIST_AUDIOHOOK_API_KEY")
    server.add_argument("--ingest-token", default=None, help="its ASSIST_INGEST_TOKEN, if set")
    server.add_argument("--server-pid", type=int, default=None, help="its process id, for CPU/RSS (else /metrics)")
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, default=None, help="default bench-results/<timestamp>")
    out.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "bench-results" / "cache")
    out.add_argument("--doc", type=Path, default=None, help="markdown file whose bench section is replaced")
    out.add_argument(
        "--record", type=Path, default=None, help="with --doc: copy JSON + plots here (docs/bench/harness)"
    )
    out.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def _masked(argv: list[str]) -> list[str]:
    """The command line as recorded in the report: secrets replaced."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in ("--secret-key", "--ingest-token", "--audiohook-key"):
            arg = "…"
        elif arg.startswith(("--secret-key=", "--ingest-token=", "--audiohook-key=")):
            arg = arg.split("=", 1)[0] + "=…"
        out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.calls_dir.exists():
        print(f"error: no calls at {args.calls_dir}", file=sys.stderr)
        return 2
    out = args.out or REPO_ROOT / "bench-results" / time.strftime("%Y%m%d-%H%M%S")
    url = args.url.replace("ws://", "http://", 1).replace("wss://", "https://", 1) if args.url else None
    options = HarnessOptions(
        calls_dir=args.calls_dir,
        kb_dir=args.kb_dir,
        calls=args.calls,
        max_seconds=args.max_seconds,
        protocol=args.protocol,
        concurrency=args.concurrency,
        stagger_s=args.stagger_s,
        speed=args.speed,
        linger_s=args.linger_s,
        sweep=args.sweep,
        sweep_levels=args.sweep_levels,
        sweep_window_s=args.sweep_window_s,
        sweep_stagger_s=args.sweep_stagger_s,
        sweep_refine=args.sweep_refine,
        limit_s=args.limit_s,
        device=args.device,
        compute_type=args.compute_type,
        cpu_threads=args.cpu_threads,
        workers=args.workers,
        url=url,
        secret_key=args.secret_key,
        audiohook_key=args.audiohook_key,
        ingest_token=args.ingest_token,
        server_pid=args.server_pid,
        cache_dir=args.cache_dir,
        out=out,
        progress=args.progress,
    )
    results = run(options)
    command = " ".join(
        ["python -m assist.bench", *(shlex.quote(a) for a in _masked(sys.argv[1:] if argv is None else argv))]
    )
    from assist.bench import report

    section = report.write(results, out, command=command, doc=args.doc, record=args.record)
    print(section)
    print(f"\nresults: {out}/results.json, {out}/summary.md, {out}/plots/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
