"""``python -m assist.bench.kb`` (``make eval-kb``): the knowledge matcher on labelled data and
on the shared calls, written to docs/knowledge-eval.md and docs/bench/kb/results.json.

Splits are carved reproducibly from ../shared/data/text; weights and thresholds were tuned on
the ``dev`` carves only, and the numbers reported here come from the ``test`` carves.
- Banking77: train.csv carved 70/10/20 (train/dev/test) per label; knowledge base = train+dev.
- CLINC150: train carved 90/10 (train/dev, dev + oos_train for threshold tuning); test = the
  official val split (3,000) + oos_val (100); knowledge base = all of train.
- HINT3: each bot's train file carved 80/20; knowledge base = the 80 %.
- Shared calls: each call streamed through the speech core and guidance with the bank
  knowledge base: was the article for the call's intent among the cards, how many seconds after
  the customer's utterance ended, and how many unrelated cards were shown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from assist.bench.docfile import replace_section
from assist.knowledge.embed import EncoderSet
from assist.knowledge.evaluate import EvalResult, carve, evaluate, read_csv, write_csv
from assist.knowledge.search import MatchOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT.parent / "shared" / "data"
DOC_BEGIN, DOC_END = "<!-- eval-kb:begin -->", "<!-- eval-kb:end -->"


def prepare_splits(out: Path) -> dict[str, dict[str, Path]]:
    """Write the carved CSVs; returns {dataset: {split: path}}."""
    text = DATA / "text"
    paths: dict[str, dict[str, Path]] = {}
    banking = carve(read_csv(text / "banking77" / "train.csv"), {"train": 0.7, "dev": 0.1, "test": 0.2})
    paths["banking77"] = {}
    for split, rows in banking.items():
        write_csv(out / f"banking77-{split}.csv", rows)
        paths["banking77"][split] = out / f"banking77-{split}.csv"
    write_csv(out / "banking77-kb.csv", banking["train"] + banking["dev"])
    paths["banking77"]["kb"] = out / "banking77-kb.csv"
    clinc = json.loads((text / "clinc150" / "data_full_train_val.json").read_text())
    clinc_train = carve([(t, label) for t, label in clinc["train"]], {"train": 0.9, "dev": 0.1})
    write_csv(out / "clinc150-train.csv", clinc_train["train"])
    write_csv(out / "clinc150-dev.csv", clinc_train["dev"] + [(t, "oos") for t, _ in clinc["oos_train"]])
    write_csv(out / "clinc150-kb.csv", [(t, label) for t, label in clinc["train"]])
    write_csv(
        out / "clinc150-test.csv", [(t, label) for t, label in clinc["val"]] + [(t, "oos") for t, _ in clinc["oos_val"]]
    )
    paths["clinc150"] = {s: out / f"clinc150-{s}.csv" for s in ("train", "dev", "kb", "test")}
    for bot in sorted(p.stem.removesuffix("_train") for p in (text / "hint3").glob("*_train.csv")):
        parts = carve(read_csv(text / "hint3" / f"{bot}_train.csv"), {"train": 0.8, "test": 0.2})
        paths[f"hint3-{bot}"] = {}
        for split, rows in parts.items():
            write_csv(out / f"hint3-{bot}-{split}.csv", rows)
            paths[f"hint3-{bot}"][split] = out / f"hint3-{bot}-{split}.csv"
    return paths


def progress(message: str) -> None:
    print(f"[eval-kb {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def eval_text(
    paths: dict[str, dict[str, Path]], encoders: EncoderSet, cache: Path, options: MatchOptions
) -> dict[str, EvalResult]:
    results = {}
    results["banking77"] = evaluate(
        read_csv(paths["banking77"]["kb"]),
        read_csv(paths["banking77"]["test"]),
        options=options,
        encoders=encoders,
        cache=cache,
    )
    progress(f"banking77 {results['banking77']}")
    results["clinc150"] = evaluate(
        read_csv(paths["clinc150"]["kb"]),
        read_csv(paths["clinc150"]["test"]),
        oos_label="oos",
        options=options,
        encoders=encoders,
        cache=cache,
    )
    progress(f"clinc150 {results['clinc150']}")
    for name in sorted(k for k in paths if k.startswith("hint3-")):
        results[name] = evaluate(
            read_csv(paths[name]["train"]),
            read_csv(paths[name]["test"]),
            options=options,
            encoders=encoders,
            cache=cache,
        )
        progress(f"{name} {results[name]}")
    return results


async def eval_calls(kb_dir: Path, cache: Path, encoders: EncoderSet, limit: int | None = None) -> dict[str, Any]:
    """Stream each shared call through speech + guidance; score the cards against the intent."""
    from assist.bench.dataset import load_calls
    from assist.bench.stt import stream_recording
    from assist.events import FinalTranscript
    from assist.guidance.engine import GuidanceService
    from assist.messages import transcript_message
    from assist.stt.transcriber import SttService

    guidance_service = GuidanceService(kb_dir, cache, encoders=encoders)
    stt = SttService()
    per_call: list[dict[str, Any]] = []
    try:
        for rec in load_calls(limit):
            annotation = json.loads((DATA / "calls" / f"{rec.name}.json").read_text())
            intents = set(annotation["task_types"])
            events = await stream_recording(stt, rec, realtime=False, call_id=rec.name)
            guidance = guidance_service.new_call(language="en", caller_number=None)
            cards = []
            for event in events:
                started = time.perf_counter()
                out = guidance.on_transcript(transcript_message(rec.name, event))
                emitted_s = event.emitted_s + (time.perf_counter() - started)
                for message in out:
                    if message["type"] == "suggestion":
                        cards.append(
                            {
                                "intent": message["intent"],
                                "article": message["article_id"],
                                "confidence": message["confidence"],
                                "emitted_s": round(emitted_s, 2),
                                "trigger": message["trigger"]["text"],
                                "trigger_end_s": event.end_s,
                                "final": isinstance(event, FinalTranscript),
                            }
                        )
            right = [c for c in cards if c["intent"] in intents]
            per_call.append(
                {
                    "call": rec.name,
                    "intents": sorted(intents),
                    "right_card": bool(right),
                    "delay_s": round(right[0]["emitted_s"] - right[0]["trigger_end_s"], 2) if right else None,
                    "unrelated_cards": sum(1 for c in cards if c["intent"] not in intents),
                    "cards": cards,
                }
            )
            progress(
                f"call {rec.name}: {'right' if right else 'MISSED'} "
                f"{per_call[-1]['delay_s']} s, {per_call[-1]['unrelated_cards']} unrelated"
            )
    finally:
        stt.close()
    delays: list[float] = [float(c["delay_s"]) for c in per_call if c["delay_s"] is not None]
    return {
        "calls": len(per_call),
        "right_card": sum(c["right_card"] for c in per_call),
        "right_within_2s": sum(1 for c in per_call if c["delay_s"] is not None and float(c["delay_s"]) <= 2.0),
        "delay_p50_s": float(np.percentile(delays, 50)) if delays else None,
        "delay_max_s": max(delays) if delays else None,
        "unrelated_per_call": float(np.mean([c["unrelated_cards"] for c in per_call])) if per_call else None,
        "per_call": per_call,
    }


def markdown(results: dict[str, Any], command: str) -> str:
    text = results["text"]
    b, c = text["banking77"], text["clinc150"]
    lines = [
        DOC_BEGIN,
        "## Knowledge matching (`make eval-kb`)",
        "",
        f"Command: `{command}`; {results['environment']}. Raw results: `docs/bench/kb/results.json`.",
        "",
        "| metric | target | measured |",
        "|---|---|---|",
        f"| Banking77 top-1 (test carve, n={b['n']}) | ≥ 94 % | {b['top1'] * 100:.2f} % |",
        f"| Banking77 top-3 | ≥ 98.5 % | {b['top3'] * 100:.2f} % |",
        f"| CLINC150 in-scope accuracy (val, n={c['n'] - c['n_oos']}) | ≥ 94 % | {c['in_scope_accuracy'] * 100:.2f} % |",
        f"| CLINC150 out-of-scope recall (oos_val, n={c['n_oos']}) | ≥ 60 % | {(c['oos_recall'] or 0) * 100:.2f} % |",
        f"| match latency p95, {c['n_entries']:,}-entry knowledge base | ≤ 20 ms | {c['p95_ms']:.1f} ms (p50 {c['p50_ms']:.1f} ms) |",
    ]
    calls = results.get("calls")
    if calls:
        lines += [
            f"| shared calls: right article among the cards | ≥ 23 of 25 | {calls['right_card']} of {calls['calls']} |",
            f"| … within 2 s of the end of the customer's utterance | ≥ 23 of 25 | {calls['right_within_2s']} of {calls['calls']} (median {calls['delay_p50_s']} s) |",
            f"| unrelated cards per call | ≤ 1 | {calls['unrelated_per_call']:.2f} |",
        ]
    lines += [
        "",
        "| dataset | articles | entries | test texts | top-1 | top-3 | in-scope acc. | OOS recall | p50 | p95 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in text.items():
        oos = "—" if r["oos_recall"] is None else f"{r['oos_recall'] * 100:.1f} %"
        lines.append(
            f"| {name} | {r['n_articles']} | {r['n_entries']} | {r['n']} | {r['top1'] * 100:.2f} % | "
            f"{r['top3'] * 100:.2f} % | {r['in_scope_accuracy'] * 100:.2f} % | {oos} | "
            f"{r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms |"
        )
    lines += ["", f"Options: `{results['options']}`.", "", DOC_END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "bench" / "kb")
    parser.add_argument("--splits", type=Path, default=REPO_ROOT / "var" / "eval")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "var" / "kb-cache")
    parser.add_argument("--doc", type=Path, default=None)
    parser.add_argument("--kb", type=Path, default=REPO_ROOT / "kb" / "bank")
    parser.add_argument("--calls", type=int, default=None, help="first N shared calls (default all)")
    parser.add_argument("--skip-calls", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"error: shared data not found at {DATA}", file=sys.stderr)
        return 2
    import os
    import platform

    encoders = EncoderSet()
    options = MatchOptions()
    paths = prepare_splits(args.splits)
    results: dict[str, Any] = {
        "environment": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}",
        "options": asdict(options),
        "text": {name: asdict(r) for name, r in eval_text(paths, encoders, args.cache, options).items()},
    }
    if not args.skip_calls:
        results["calls"] = asyncio.run(eval_calls(args.kb, args.cache, encoders, args.calls))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    section = markdown(results, "make eval-kb")
    if args.doc:
        replace_section(args.doc, section, DOC_BEGIN, DOC_END, title="# Knowledge evaluation")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
