"""The retention worklist API's latency over a large call log.

    python -m assist.bench.worklist [--calls 100000] [--database-url postgresql://...] [--out FILE]

Fills a fresh call log with ``--calls`` finished calls from ``--customers`` numbers (a risk
assessment each, about a third of the customers at risk), starts the real server on it, and
times ``GET /api/retention`` with the filters a retention team uses, over HTTP, each 50 times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from assist.bench.scoring import percentile
from assist.calllog.store import CallStore, open_store
from assist.modelfiles import REPO_ROOT
from assist.stt.cpu import describe_cpu

SEGMENTS = (("vip", 0.05, 4.0), ("gold", 0.15, 3.0), ("silver", 0.25, 2.0), ("standard", 0.55, 1.0))
QUERIES: tuple[dict[str, str], ...] = (
    {},
    {"status": "open"},
    {"segment": "vip"},
    {"min_score": "0.7"},
    {"q": "20255501"},
    {"offset": "500"},
    {"at_risk": "false"},
)
REASON = [{"kind": "repeat_call", "strength": 0.8, "note": "called about billing dispute 3 times", "evidence": []}]


def fill(store: CallStore, calls: int, customers: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    numbers = [f"+1202555{n:04d}" for n in range(customers)]
    profiles = {}
    for number in numbers:
        segment, _, value = rng.choices(SEGMENTS, weights=[share for _, share, _ in SEGMENTS])[0]
        profiles[number] = ({"name": f"Customer {number[-4:]}", "segment": segment}, value)
    base = time.time() - 90 * 86400
    conn_tx = store._tx  # one transaction per 1,000 calls: filling 100,000 calls one by one takes too long
    batch: list[tuple[str, str, float]] = []
    for index in range(calls):
        batch.append((f"wl-{index:07d}", rng.choice(numbers), base + index * (90 * 86400 / calls)))
        if len(batch) == 1000 or index == calls - 1:
            with conn_tx() as cur:
                for call_id, number, started in batch:
                    caller, value = profiles[number]
                    cur.execute(
                        store._sql(
                            "INSERT INTO calls (id, node_id, platform, platform_call_id, caller_number, agent_id,"
                            " language, caller, started_at, ended_at, duration_s, status, summary)"
                            " VALUES (?, 'bench', 'native', ?, ?, 'agent', 'en', ?, ?, ?, 240, 'completed', ?)"
                        ),
                        [call_id, call_id, number, store._json(caller), started, started + 240,
                         store._json({"text": "benchmark call", "outcome": "resolved"})],
                    )  # fmt: skip
            for call_id, number, started in batch:
                caller, value = profiles[number]
                score = rng.random() ** 2
                risk = {"score": score, "value": value, "priority": score * value, "at_risk": score >= 0.5}
                call = {"id": call_id, "caller_number": number, "caller": caller, "started_at": started}
                store.save_risk(call, {**risk, "reasons": REASON}, started + 300)
            batch.clear()


async def time_queries(url: str, headers: dict[str, str], repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        for query in QUERIES:
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                response = await http.get("/api/retention", params=query)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            out[json.dumps(query) or "{}"] = {
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(percentile(times, 95) or 0.0, 2),
                "total": response.json()["total"],
            }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=30_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results" / "worklist.json")
    args = parser.parse_args(argv)
    import threading

    import uvicorn

    from assist.config import Settings
    from assist.services import Services
    from assist.web.app import build_app

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = open_store(args.database_url, data)
        started = time.perf_counter()
        fill(store, args.calls, args.customers)
        fill_s = time.perf_counter() - started
        store.close()
        settings = Settings.model_validate(
            {"data_dir": data, "database_url": args.database_url, "kb_dir": None, "stt_workers": 1}
        )
        services = Services.create(settings)
        server = uvicorn.Server(uvicorn.Config(build_app(services), host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        headers = {"Authorization": f"Bearer {settings.role_token('qa')}"}
        try:
            timings = asyncio.run(time_queries(f"http://127.0.0.1:{port}", headers, args.repeats))
        finally:
            server.should_exit = True
            thread.join(10)
            services.close()
    result = {
        "calls": args.calls,
        "customers": args.customers,
        "database": "postgresql" if args.database_url else "sqlite",
        "fill_s": round(fill_s, 1),
        "queries": timings,
        "p95_ms_worst": max(v["p95_ms"] for v in timings.values()),
        "cpu": describe_cpu().model,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
