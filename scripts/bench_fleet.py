"""Fleet benchmark: Genesys' AudioHook reference client against one node and against a cluster,
and the cross-node fan-out latency. Results in docs/bench/fleet/*.json; docs/benchmarks.md quotes them.

    python scripts/bench_fleet.py fanout                       # cross-node fan-out p50/p95
    python scripts/bench_fleet.py client --client PATH --wav W --nodes 1 --sessions 1,20,32
    python scripts/bench_fleet.py client --client PATH --wav W --nodes 3 --sessions 100

PATH is the built reference client (client/dist/client/src/index.js of
github.com/purecloudlabs/audiohook-reference-implementation; how to build it: docs/fleet.md).
It is run under ``script`` (a pseudo-terminal: the client puts stdin in raw mode) with all
sessions starting, and so ending, together. Its exit code says nothing (0 even when every
session failed), so its log is read: sessions opened, refused at open (with the reason),
closed cleanly, pong round trips, pong and close timeouts, WARN/ERROR lines. The server side
comes from each node's /metrics (close → closed, end of utterance → final) and logs (tracebacks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from cluster import AUDIOHOOK_KEY, AUDIOHOOK_SECRET, SECRET_KEY, Cluster  # noqa: E402

from assist.bench.clients import StreamResult, stream_native, watch_sidebar  # noqa: E402
from assist.bench.launcher import agent_ticket  # noqa: E402
from assist.stt.cpu import describe_cpu  # noqa: E402

OUT = REPO_ROOT / "docs" / "bench" / "fleet"
SHARED_CALLS = REPO_ROOT.parent / "shared" / "data" / "calls"


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


def histogram_quantile(metrics: str, stage: str, q: float) -> tuple[float | None, int]:
    """A quantile of assist_stage_latency_seconds{stage=...} from a /metrics text (bucket bound)."""
    buckets: list[tuple[float, float]] = []
    pattern = re.compile(r'assist_stage_latency_seconds_bucket\{le="([^"]+)",stage="' + stage + r'"\} (\S+)')
    for line in metrics.splitlines():
        match = pattern.match(line)
        if match:
            buckets.append((float(match.group(1)), float(match.group(2))))
    if not buckets:
        return None, 0
    total = buckets[-1][1]
    if total == 0:
        return None, 0
    for bound, count in buckets:
        if count >= q * total:
            return bound, int(total)
    return None, int(total)


def server_side(cluster: Cluster) -> dict[str, Any]:
    merged: dict[str, Any] = {"nodes": []}
    for node in cluster.nodes:
        text = httpx.get(f"{node.url}/metrics", timeout=10).text
        close_p95, closes = histogram_quantile(text, "close_ack", 0.95)
        close_max, _ = histogram_quantile(text, "close_ack", 1.0)
        final_p95, finals = histogram_quantile(text, "final_total", 0.95)
        final_p50, _ = histogram_quantile(text, "final_total", 0.5)
        stages = {stage: histogram_quantile(text, stage, 0.95)[0] for stage in ("endpoint", "queue", "decode", "store")}
        refused = sum(
            float(line.split()[-1]) for line in text.splitlines() if line.startswith("assist_calls_refused_total")
        )
        log = cluster.log(node.name).read_text()
        merged["nodes"].append(
            {
                "node": node.name,
                "closes": closes,
                "close_to_closed_p95_s_bucket": close_p95,
                "close_to_closed_max_s_bucket": close_max,
                "finals": finals,
                "final_p50_s_bucket": final_p50,
                "final_p95_s_bucket": final_p95,
                "stage_p95_s_bucket": stages,
                "refused": refused,
                "tracebacks": log.count("Traceback"),
                "errors_logged": len(re.findall(r" ERROR ", log)),
            }
        )
    return merged


def read_client_log(text: str) -> dict[str, Any]:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    rtts_ms = [int(v) / 1e6 for v in re.findall(r"onPongMessage - rtt: (\d+)ns", text)]
    refused = re.findall(r"Disconnect in state OPENING, reason: (\w+), info: \"([^\"]*)\"", text)
    return {
        "sessions_created": len(re.findall(r"Session \d+ of \d+ created", text)),
        # The client's last line: without it the log was cut short and the counts are a floor.
        "log_complete": "All sessions disconnected" in text,
        "opened": text.count("onOpenedMessage - Session open!"),
        "refused_at_open": len(refused),
        "refusal_reasons": sorted({info for _, info in refused})[:5],
        "disconnects_mid_call": len(re.findall(r"Disconnect in state OPEN,", text)),
        "closed_cleanly": len(re.findall(r"onClosedMessage - Session closed \(state: CLOSING\)", text)),
        "closed_with_error": len(re.findall(r"state: CLOSING-ERROR", text)),
        "unexpected_ws_close": text.count("closed unexpectedly"),
        "pong_timeouts": text.count("not received in ping interval"),
        "close_timeouts": text.count("Timeout waiting for close transaction"),
        "warn_lines": len(re.findall(r"^\[[0-9:.]+\] WARN", text, re.M)),
        "error_lines": len(re.findall(r"^\[[0-9:.]+\] (?:ERROR|FATAL)", text, re.M)),
        "pongs": len(rtts_ms),
        "pong_rtt_ms_p50": pct(rtts_ms, 50),
        "pong_rtt_ms_p99": pct(rtts_ms, 99),
        "pong_rtt_ms_max": round(max(rtts_ms), 2) if rtts_ms else None,
    }


def run_client(client: Path, uri: str, wav: Path, sessions: int, log: Path) -> dict[str, Any]:
    command = [
        "node",
        str(client),
        *("--uri", uri, "--api-key", AUDIOHOOK_KEY, "--client-secret", AUDIOHOOK_SECRET, "--wavfile", str(wav)),
        *("--session-count", str(sessions), "--connection-rate", "10000"),
    ]
    started = time.monotonic()
    with log.open("w") as out:
        # `script` gives the client the terminal it insists on (it sets stdin to raw mode).
        subprocess.run(
            ["script", "-qfec", shlex.join(command), "/dev/null"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=900,
        )
    return {"wall_s": round(time.monotonic() - started, 1), **read_client_log(log.read_text(errors="replace"))}


def machine() -> dict[str, Any]:
    cpu = describe_cpu()
    return {"cpu": cpu.model, "isa": cpu.isa, "kind": cpu.kind, "cores": cpu.cores, "python": platform.python_version()}


def client_bench(args: argparse.Namespace) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    levels = [int(n) for n in args.sessions.split(",")]
    env = {"ASSIST_STT_WORKERS": str(args.workers)} if args.workers else {}
    if args.max_calls:
        env["ASSIST_MAX_CALLS"] = str(args.max_calls)
    env.update(item.split("=", 1) for item in args.env)
    for level in levels:
        cluster = Cluster(args.nodes, state_dir=REPO_ROOT / "bench-results" / "fleet" / f"n{args.nodes}-s{level}")
        cluster.node_env = env
        cluster.up()
        try:
            capacity = [httpx.get(f"{n.url}/readyz", timeout=10).json()["capacity"] for n in cluster.nodes]
            uri = (cluster.entry if args.nodes > 1 else cluster.nodes[0].url).replace("http", "ws", 1) + "/audiohook"
            client = run_client(Path(args.client), uri, Path(args.wav), level, cluster.state_dir / "client.log")
            time.sleep(2)
            result = {
                "machine": machine(),
                "nodes": args.nodes,
                "sessions": level,
                "capacity": capacity,
                "client": client,
                "server": server_side(cluster),
            }
        finally:
            cluster.down()
        path = OUT / f"client-n{args.nodes}-s{level}{args.tag}.json"
        path.write_text(json.dumps(result, indent=2))
        print(json.dumps({k: result[k] for k in ("nodes", "sessions", "client")}, indent=1))
        print(json.dumps(result["server"], indent=1))


async def fanout_run(cluster: Cluster, calls: int) -> dict[str, Any]:
    files = sorted(SHARED_CALLS.glob("*.flac"))[:calls]
    owner, remote = cluster.nodes[0], cluster.nodes[1]
    results = []
    for index, path in enumerate(files):
        audio, _ = sf.read(path, dtype="float32")
        agent = f"fanout-{index}"
        local_view, remote_view = StreamResult(), StreamResult()
        stops = [asyncio.Event(), asyncio.Event()]
        urls = [
            f"{node.url.replace('http', 'ws', 1)}/ws/sidebar?agent={agent}&ticket={agent_ticket(SECRET_KEY, agent)}"
            for node in (owner, remote)
        ]
        connected = [asyncio.Event(), asyncio.Event()]
        watchers = [
            asyncio.create_task(watch_sidebar(url, view, stop, ready))
            for url, view, stop, ready in zip(urls, (local_view, remote_view), stops, connected, strict=True)
        ]
        for ready in connected:
            await ready.wait()
        await stream_native(
            f"{owner.url.replace('http', 'ws', 1)}/native", audio[: 60 * 16000], call_id=f"f{index}", agent_id=agent
        )
        await asyncio.sleep(1.0)
        for stop in stops:
            stop.set()
        await asyncio.gather(*watchers)
        results.append((local_view, remote_view))
    same, cross = [], []
    for local_view, remote_view in results:
        for bucket, view in ((same, local_view), (cross, remote_view)):
            for received_at, message in view.messages:
                if "published_at" in message and message.get("type") in ("interim", "final"):
                    bucket.append((view.started_wall + received_at - float(message["published_at"])) * 1000)
    return {
        "messages_same_node": len(same),
        "messages_cross_node": len(cross),
        "same_node_ms_p50": pct(same, 50),
        "same_node_ms_p95": pct(same, 95),
        "cross_node_ms_p50": pct(cross, 50),
        "cross_node_ms_p95": pct(cross, 95),
        "cross_node_ms_max": round(max(cross), 2) if cross else None,
    }


async def bus_only(redis_url: str, messages: int = 500) -> dict[str, Any]:
    """The bus alone: two RedisBus instances in this process (no websocket, no decoding):
    owner's publish → applied and queued for a viewer on the other 'node'."""
    from assist.live.hub import LiveCall, SidebarHub
    from assist.live.redis_bus import RedisBus

    owner, other = RedisBus(SidebarHub(), "bench-a", redis_url), RedisBus(SidebarHub(), "bench-b", redis_url)
    await owner.start()
    await other.start()
    viewer = other.hub.subscribe_agent("bench")
    owner.start_call(LiveCall("bench-call", "bench", "native", "p", None, "en"))
    await viewer.get()
    latencies = []
    for index in range(messages):
        started = time.perf_counter()
        text = "a sentence of about the usual length for one final " * 2
        owner.publish("bench-call", {"type": "final", "call_id": "bench-call", "utterance_id": index, "text": text})
        await viewer.get()
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.01)
    owner.end_call("bench-call", "completed")
    await owner.close()
    await other.close()
    return {"bus_only_ms_p50": pct(latencies, 50), "bus_only_ms_p95": pct(latencies, 95), "bus_only_messages": messages}


def fanout_bench(args: argparse.Namespace) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(2, state_dir=REPO_ROOT / "bench-results" / "fleet" / "fanout")
    cluster.up()
    try:
        figures = asyncio.run(fanout_run(cluster, args.calls))
        figures.update(asyncio.run(bus_only(cluster.redis_url)))
    finally:
        cluster.down()
    result = {"machine": machine(), "calls": args.calls, **figures}
    (OUT / "fanout.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fan = sub.add_parser("fanout")
    fan.add_argument("--calls", type=int, default=3)
    cli = sub.add_parser("client")
    cli.add_argument("--client", required=True, help="the reference client's built index.js")
    cli.add_argument("--wav", required=True, help="8 kHz stereo WAV (PCM or mu-law)")
    cli.add_argument("--nodes", type=int, default=1)
    cli.add_argument("--sessions", default="1,20,32")
    cli.add_argument("--workers", type=int, default=0, help="decode workers per node (0: the default)")
    cli.add_argument("--max-calls", type=int, default=0, help="cap per node (0: measured capacity)")
    cli.add_argument("--env", action="append", default=[], help="ASSIST_X=value for every node (repeatable)")
    cli.add_argument("--tag", default="", help="suffix of the result file name")
    args = parser.parse_args()
    if args.command == "fanout":
        fanout_bench(args)
    else:
        client_bench(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
