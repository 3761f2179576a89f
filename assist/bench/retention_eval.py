"""The retention risk model on scripted calls through the speech path.

``python -m assist.bench.retention_eval [--out FILE] [--speed 4]``

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
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assist.bench.clients import stream_native
from assist.bench.corpus import mix, seed_for
from assist.bench.dataset import REPO_ROOT
from assist.bench.launcher import ServerOptions, ServerProcess
from assist.bench.voices import RATE_HZ, synthesize, voice
from assist.calllog.store import open_store
from assist.retention.service import RetentionAssessor

DATA = Path(__file__).with_name("data")
SCRIPTS = DATA / "retention_calls.yaml"
CUSTOMERS = DATA / "retention_customers.csv"
VOICES = {"customer": "nyc-m3", "agent": "rp-f2"}  # two voices no setting was chosen by for this
CACHE = REPO_ROOT / "bench-results" / "retention-corpus"


def load_scripts(path: Path = SCRIPTS) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["calls"])


def render(call: dict[str, Any]) -> np.ndarray:
    """Stereo 16 kHz, customer left: each turn after its scripted pause."""
    cached = CACHE / f"{call['id']}.npy"
    if cached.exists():
        return np.asarray(np.load(cached), dtype=np.float32)
    placements, at_s = [], 0.0
    for speaker, text, pause_s in call["turns"]:
        audio = synthesize(voice(VOICES[speaker]), text)
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


async def stream_all(http: str, calls: list[dict[str, Any]], speed: float) -> None:
    for call in calls:
        await stream_native(
            f"{http.replace('http', 'ws', 1)}/native",
            render(call),
            call_id=call["id"],
            caller_number=call["caller"],
            agent_id="agent-eval",
            speed=speed,
            linger_s=60.0,
        )


def assess_on_their_days(database_url: str, data_dir: Path, calls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    store = open_store(database_url, data_dir)
    now = time.time()
    assessor = RetentionAssessor()
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
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results" / "retention-eval.json")
    parser.add_argument("--speed", type=float, default=4.0)
    args = parser.parse_args(argv)
    calls = sorted(load_scripts(), key=lambda c: -float(c["days_ago"]))  # the order they happened
    import csv

    with CUSTOMERS.open(encoding="utf-8") as handle:
        segments = {row["phone"]: row["segment"] for row in csv.DictReader(handle)}
    for call in calls:
        render(call)
    with tempfile.TemporaryDirectory(prefix="assist-retention-") as tmp:
        data = Path(tmp)
        database_url = f"sqlite:///{data / 'eval.db'}"
        options = ServerOptions(kb_dir=knowledge_base(data), extra_env={"ASSIST_DATABASE_URL": database_url})
        with ServerProcess(options, data / "server.log") as target:
            asyncio.run(stream_all(target.http, calls, args.speed))
        found = assess_on_their_days(database_url, data, calls)
    result = report(calls, found, segments)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "per_call"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
