"""Call-log benchmark: how many calls per second the store ingests through the production write
path, and how long a full-text search takes once it holds 100,000+ utterances.

    python -m assist.bench.store [--utterances 100000] [--database-url postgresql://...] [--out DIR]

Calls are built from the shared reference transcripts (names and numbers varied), written the
way a live server writes them: one transaction per final (with the events before it), then
the closing update with tags, QA and summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from assist.calllog.call import utterance_row
from assist.calllog.store import CallQuery, CallStore, open_store
from assist.modelfiles import REPO_ROOT

QUERIES = ("lost card", "refund", '"debit card"', "transfer money", "replace*", "balance", "fraud", "address")


def reference_calls(calls_dir: Path) -> list[list[dict[str, Any]]]:
    calls = []
    for path in sorted(calls_dir.glob("*.json")):
        if path.name == "MANIFEST.json":
            continue
        segments = json.loads(path.read_text())["segments"]
        calls.append(
            [
                {"speaker": s["speaker"], "text": s["text"], "start_s": s["start_s"], "end_s": s["end_s"]}
                for s in segments
            ]
        )
    return calls


def write_call(
    store: CallStore, call_id: str, segments: list[dict[str, Any]], started_at: float, rng: random.Random
) -> int:
    store.start_call(
        {
            "id": call_id,
            "node_id": "bench",
            "platform": "native",
            "platform_call_id": call_id,
            "caller_number": f"+1202555{rng.randrange(10_000):04d}",
            "agent_id": f"agent-{rng.randrange(40)}",
            "language": "en",
            "caller": {},
            "started_at": started_at,
        }
    )
    counters = {"customer": 0, "agent": 0}
    for seq, segment in enumerate(segments):
        speaker = segment["speaker"]
        message = {
            "type": "final",
            "speaker": speaker,
            "utterance_id": counters[speaker],
            "start_s": segment["start_s"],
            "end_s": segment["end_s"],
            "emitted_s": segment["end_s"] + 0.4,
            "text": segment["text"],
            "words": [
                {"text": w, "start_s": segment["start_s"], "end_s": segment["end_s"], "confidence": 0.9}
                for w in segment["text"].split()
            ],
            "confidence": 0.9,
            "language": "en",
            "latency_ms": {"endpoint": 320.0, "queue": 1.0, "decode": 90.0, "total": 410.0},
        }
        counters[speaker] += 1
        store.append(call_id, events=[(seq, message)], utterances=[utterance_row(message)])
    store.finish_call(
        call_id,
        status="completed",
        end_reason="completed",
        ended_at=started_at + 300,
        duration_s=300.0,
        tags=[("intent", "lost_card")],
        qa={"score": 75.0, "items": []},
        summary={"text": "benchmark call"},
    )
    return len(segments)


def run(store: CallStore, calls: list[list[dict[str, Any]]], target_utterances: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    written = calls_written = 0
    started = time.perf_counter()
    ingest_s = 0.0
    ingest_calls = 0
    base = time.time() - 86400 * 30
    while written < target_utterances:
        segments = calls[calls_written % len(calls)]
        t0 = time.perf_counter()
        written += write_call(store, f"bench-{calls_written:07d}", segments, base + calls_written * 10.0, rng)
        ingest_s += time.perf_counter() - t0
        ingest_calls += 1
        calls_written += 1
    total_s = time.perf_counter() - started
    search_ms: dict[str, list[float]] = {}
    for query in QUERIES:
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            page = store.list_calls(CallQuery(text=query, limit=50))
            times.append((time.perf_counter() - t0) * 1000)
        search_ms[query] = times
        search_ms[query + " (hits)"] = [float(page.total)]
    medians = [statistics.median(v) for k, v in search_ms.items() if not k.endswith("(hits)")]
    return {
        "database": store.dialect,
        "calls": calls_written,
        "utterances": store.count_utterances(),
        "ingest_calls_per_s": round(ingest_calls / ingest_s, 1),
        "ingest_utterances_per_s": round(written / ingest_s, 0),
        "ingest_total_s": round(total_s, 1),
        "search_ms_median_per_query": {k: round(statistics.median(v), 2) for k, v in search_ms.items()},
        "search_ms_median": round(statistics.median(medians), 2),
        "search_ms_max_median": round(max(medians), 2),
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=100_000)
    parser.add_argument("--database-url", help="postgresql://... (default: a fresh SQLite file)")
    parser.add_argument("--calls-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "calls")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "bench" / "store")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.database_url, Path(tmp))
        result = run(store, reference_calls(args.calls_dir), args.utterances)
        store.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{result['database']}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
