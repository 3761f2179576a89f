"""Chinese matching on what the recogniser heard, not only on typed text.

For each Mandarin call (``zh_calls``), the customer's first turn states the intent. It is
decoded as the server decodes a final (base, greedy, the knowledge base's speech prompt, then
the call's script and numbers as digits), and matched against the telecom knowledge base with
the production matcher, with and without the pinyin features (fuzzy pinyin TF-IDF and BM25
sound bigrams, assist/knowledge/index.py). A call counts as right when the matcher's first
answer above its threshold is the call's intent.

``python -m assist.bench.zh_matching [--corpus bench-results/zh-corpus] [--out FILE]``
(render the corpus first: ``make corpus-zh``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assist.bench.dataset import REPO_ROOT, load_calls
from assist.bench.reference import segment_audio
from assist.bench.zh_calls import DEFAULT_OUT
from assist.knowledge.corpus import load_kb
from assist.knowledge.embed import EncoderSet
from assist.knowledge.index import build_index
from assist.knowledge.search import Matcher, MatchOptions
from assist.stt.cpu import describe_cpu
from assist.stt.engine import DecodeItem, EngineOptions, WhisperEngine
from assist.stt.policy import EndpointOptions
from assist.stt.script import to_script
from assist.stt.zh_numbers import numbers_as_digits

KB_DIR = REPO_ROOT / "kb" / "telecom"


def heard(corpus: Path, engine: WhisperEngine) -> list[dict[str, Any]]:
    """Per call: its intent, the customer's first turn as typed, and as the recogniser heard it."""
    rows = []
    endpoint = EndpointOptions()
    for split in ("tuning", "held_out"):
        for rec in load_calls(directory=corpus / split):
            turn = next(r for r in rec.references if r.speaker == "customer")
            audio = segment_audio(rec.audio16, 0, turn.start_s, turn.end_s, endpoint)
            out = engine.decode([DecodeItem(audio, language="zh", want_words=True)])[0]
            text = numbers_as_digits(to_script(out.text, "t2s"))
            rows.append({"call": rec.name, "split": split, "intent": rec.intents[0], "typed": turn.text, "heard": text})
    return rows


def accuracy(matcher: Matcher, rows: list[dict[str, Any]], field: str) -> dict[str, Any]:
    """Right: the first answer above the threshold; first_ranked: the best article, whatever
    its confidence (how much of the miss is the threshold)."""
    right, first_ranked, misses = 0, 0, []
    for row in rows:
        ranked = matcher.rank(row[field], language="zh", k=1)
        first_ranked += bool(ranked) and ranked[0].article.intent == row["intent"]
        hits = matcher.match(row[field], language="zh")
        got = hits[0].article.intent if hits else None
        if got == row["intent"]:
            right += 1
        else:
            best = ranked[0] if ranked else None
            misses.append(
                {
                    "call": row["call"],
                    "text": row[field],
                    "got": got,
                    "want": row["intent"],
                    "best": best.article.intent if best else None,
                    "confidence": round(best.confidence, 3) if best else None,
                }
            )
    n = len(rows)
    return {
        "right": right,
        "first_ranked": first_ranked,
        "calls": n,
        "rate": right / n if n else None,
        "misses": misses,
    }


def measure(corpus: Path) -> dict[str, Any]:
    kb = load_kb(KB_DIR)
    engine = WhisperEngine(EngineOptions(model="base", prompts=kb.speech_prompts))
    rows = heard(corpus, engine)
    encoders = EncoderSet()
    cache = REPO_ROOT / "bench-results" / "cache" / "kb-index"
    options = MatchOptions(threshold=kb.match_threshold) if kb.match_threshold is not None else MatchOptions()
    results: dict[str, Any] = {"cpu": describe_cpu().model, "calls": rows}
    for pinyin in (True, False):
        matcher = Matcher(build_index(kb, encoders, cache, pinyin=pinyin), encoders, options)
        key = "with_pinyin" if pinyin else "without_pinyin"
        results[key] = {
            split: {
                field: accuracy(matcher, [r for r in rows if r["split"] == split], field)
                for field in ("typed", "heard")
            }
            for split in ("tuning", "held_out")
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results" / "zh-matching.json")
    args = parser.parse_args(argv)
    results = measure(args.corpus)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    for key in ("with_pinyin", "without_pinyin"):
        for split, fields in results[key].items():
            line = ", ".join(
                f"{field} {v['right']}/{v['calls']} (first ranked {v['first_ranked']})" for field, v in fields.items()
            )
            print(f"{key:15} {split:9} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
