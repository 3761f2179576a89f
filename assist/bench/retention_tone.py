"""Does a sentiment model see quiet dissatisfaction better than words?

``python -m assist.bench.retention_tone [--set SET]``

Reads the calls the retention evaluation streamed through the speech path (its kept database,
``bench-results/retention-corpus/SET.db``; run ``assist.bench.retention_eval`` first) and asks how
well each tone measure separates the calls labelled at risk from the rest (ROC AUC: 1.0 is a
perfect ranking, 0.5 a coin): VADER (a validated sentiment model for short informal English,
MIT licence, on PyPI) on the customer's closing words and as a trend over the call, against the
words the product uses (the complaint lexicon's trend, and the closing classifier of
assist/qa/resolution.py). The answer decides which the risk model reads (docs/retention.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assist.bench.dataset import REPO_ROOT
from assist.bench.retention_eval import CACHE, SETS, load_scripts
from assist.calllog.store import open_store
from assist.guidance.signals import utterance_dissatisfaction
from assist.qa.callview import CallView, call_view
from assist.qa.resolution import closing
from assist.retention.tone import LexiconTone, fall

CLOSE_RISK = {"resigned": 1.0, "neither": 0.5, "polite": 0.4, "content": 0.0}


def measures(polarity: Callable[[str], float]) -> dict[str, Callable[[CallView], float]]:
    """Each measure: higher means more at risk."""

    def customer(view: CallView) -> list[str]:
        return [u.text for u in view.said_by("customer") if u.text.strip()]

    return {
        "words: closing classifier (resigned > neither > polite > content)": lambda v: CLOSE_RISK[closing(v).close],
        "words: complaint lexicon, trend (last third - first)": lambda v: (
            -fall([utterance_dissatisfaction(t, v.language) for t in customer(v)])
        ),
        "VADER: closing words (minus compound, last 2 utterances)": lambda v: (
            -min((polarity(t) for t in customer(v)[-2:]), default=0.0)
        ),
        "VADER: trend (first third - last third)": lambda v: fall([polarity(t) for t in customer(v)]),
        "words: the falling-tone sign's lexicon tone, trend": lambda v: fall(
            [LexiconTone(v.language).polarity(t) for t in customer(v)]
        ),
    }


def snownlp_trend() -> Callable[[CallView], float] | None:
    """SnowNLP (MIT; a naive Bayes sentiment model trained on Chinese shopping reviews), when
    installed (``pip install snownlp==0.12.3``; not a dependency of the product): its trend."""
    try:
        from snownlp import SnowNLP
    except ImportError:
        return None

    def polarity(text: str) -> float:
        return 2.0 * float(SnowNLP(text).sentiments) - 1.0

    return lambda v: fall([polarity(u.text) for u in v.said_by("customer") if u.text.strip()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="tuning", dest="eval_set")
    parser.add_argument("--out", type=Path, help="default: bench-results/retention-tone-SET.json")
    args = parser.parse_args(argv)
    from sklearn.metrics import roc_auc_score
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    chosen = SETS[args.eval_set]
    kept = CACHE / f"{chosen.name}.db"
    if not kept.exists():
        parser.error(f"{kept} is missing: run python -m assist.bench.retention_eval --set {chosen.name} first")
    calls = load_scripts(chosen.scripts)
    views: list[tuple[bool, CallView]] = []
    with tempfile.TemporaryDirectory(prefix="assist-tone-") as tmp:
        shutil.copy(kept, Path(tmp) / "eval.db")
        store = open_store(f"sqlite:///{Path(tmp) / 'eval.db'}", Path(tmp))
        for call in calls:
            rows = store.find_by_platform_id(call["id"])
            if rows:
                views.append((bool(call["at_risk"]), call_view(store.events(rows[-1]["id"]))))
        store.close()
    labels = [label for label, _ in views]
    result: dict[str, Any] = {"set": chosen.name, "calls": len(views), "at_risk": sum(labels), "auc": {}}
    for name, measure in measures(lambda text: float(analyzer.polarity_scores(text)["compound"])).items():
        if name.startswith("VADER") and chosen.language != "en":
            continue  # VADER reads English only
        result["auc"][name] = round(float(roc_auc_score(labels, [measure(view) for _, view in views])), 3)
    snow = snownlp_trend() if chosen.language == "zh" else None
    if snow is not None:
        result["auc"]["SnowNLP: trend (first third - last third)"] = round(
            float(roc_auc_score(labels, [snow(view) for _, view in views])), 3
        )
    out = args.out or REPO_ROOT / "bench-results" / f"retention-tone-{chosen.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
