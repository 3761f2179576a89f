"""Evaluate the production matcher on labelled text (Banking77 format: text,label CSV).

Each label becomes an article whose phrasings are its training texts; every test text is
matched with the production matcher and threshold. Out-of-scope test texts carry
``oos_label``: a correct answer for them is "no match".
"""

from __future__ import annotations

import csv
import json
import random
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assist.knowledge.corpus import kb_from_examples
from assist.knowledge.embed import EncoderSet
from assist.knowledge.index import build_index
from assist.knowledge.search import Matcher, MatchOptions


@dataclass(frozen=True)
class EvalResult:
    top1: float  # in-scope texts whose best article is right (threshold ignored)
    top3: float
    in_scope_accuracy: float  # right article AND above the threshold
    oos_recall: float | None  # out-of-scope texts answered with "no match"
    p50_ms: float
    p95_ms: float
    n: int
    n_oos: int
    n_articles: int
    n_entries: int


def read_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if rows and [c.lower() for c in rows[0][:2]] in (["text", "label"], ["text", "category"], ["sentence", "label"]):
        rows = rows[1:]
    return [(r[0], r[1]) for r in rows if len(r) >= 2 and r[0].strip()]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def evaluate(
    train: list[tuple[str, str]],
    test: list[tuple[str, str]],
    *,
    oos_label: str | None = None,
    options: MatchOptions | None = None,
    encoders: EncoderSet | None = None,
    cache: Path | None = None,
    language: str = "en",
) -> EvalResult:
    examples: dict[str, list[str]] = defaultdict(list)
    for text, label in train:
        if label != oos_label:
            examples[label].append(text)
    kb = kb_from_examples("eval", examples, language)
    encoders = encoders or EncoderSet()
    matcher = Matcher(build_index(kb, encoders, cache), encoders, options)
    intent_of = {a.id: a.intent for a in kb.articles}
    hits1 = hits3 = accepted = oos_right = n_in = n_oos = 0
    latencies = []
    for text, label in test:
        started = time.perf_counter()
        ranked = matcher.rank(text, language=language, k=3)
        latencies.append((time.perf_counter() - started) * 1000)
        top = ranked[0] if ranked else None
        above = top is not None and top.confidence >= matcher.options.threshold
        if label == oos_label:
            n_oos += 1
            oos_right += not above
            continue
        n_in += 1
        labels = [intent_of[h.article.id] for h in ranked]
        hits1 += bool(labels) and labels[0] == label
        hits3 += label in labels[:3]
        accepted += bool(labels) and labels[0] == label and above
    part = matcher.index.part(language)
    return EvalResult(
        top1=hits1 / max(1, n_in),
        top3=hits3 / max(1, n_in),
        in_scope_accuracy=accepted / max(1, n_in),
        oos_recall=oos_right / n_oos if n_oos else None,
        p50_ms=float(np.percentile(latencies, 50)),
        p95_ms=float(np.percentile(latencies, 95)),
        n=len(test),
        n_oos=n_oos,
        n_articles=len(kb.articles),
        n_entries=part.n_entries if part else 0,
    )


def carve(rows: list[tuple[str, str]], fractions: dict[str, float], seed: int = 13) -> dict[str, list[tuple[str, str]]]:
    """Stratified split by label, reproducible: fractions like {'train': .7, 'dev': .1, 'test': .2}."""
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)
    out: dict[str, list[tuple[str, str]]] = {name: [] for name in fractions}
    names = list(fractions)
    for label in sorted(by_label):
        items = by_label[label][:]
        rng.shuffle(items)
        start = 0
        for index, name in enumerate(names):
            end = len(items) if index == len(names) - 1 else start + round(fractions[name] * len(items))
            out[name].extend(items[start:end])
            start = end
    return out


def result_json(result: EvalResult) -> str:
    data: dict[str, Any] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(result).items()}
    return json.dumps(data)
