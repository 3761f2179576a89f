"""``python -m assist kb check DIR`` and ``python -m assist kb benchmark --train T --test T``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assist.errors import AssistError


def register(commands: Any) -> None:
    kb = commands.add_parser("kb", help="knowledge base tools")
    sub = kb.add_subparsers(dest="kb_command", required=True)
    check = sub.add_parser("check", help="validate a knowledge base folder; print every mistake")
    check.add_argument("path", type=Path)
    check.set_defaults(run=run_check)
    bench = sub.add_parser("benchmark", help="match labelled test texts with the production matcher")
    bench.add_argument("--train", type=Path, required=True, help="text,label CSV: each label becomes an article")
    bench.add_argument("--test", type=Path, required=True, help="text,label CSV to match")
    bench.add_argument("--oos-label", default=None, help="label of out-of-scope test texts (expect no match)")
    bench.add_argument("--language", default="en")
    bench.add_argument("--cache", type=Path, default=None, help="index cache folder")
    bench.set_defaults(run=run_benchmark)


def run_check(args: argparse.Namespace) -> int:
    from assist.knowledge.corpus import KnowledgeError, load_kb

    try:
        kb = load_kb(args.path)
    except KnowledgeError as error:
        print(error, file=sys.stderr)
        return 1
    languages = sorted({a.language for a in kb.articles})
    print(
        f"{kb.name}: {len(kb.articles)} articles, {len(kb.intents())} intents, languages {', '.join(languages)}; "
        f"content hash {kb.content_hash}"
    )
    return 0


def run_benchmark(args: argparse.Namespace) -> int:
    from assist.knowledge.evaluate import evaluate, read_csv, result_json

    try:
        result = evaluate(
            read_csv(args.train),
            read_csv(args.test),
            oos_label=args.oos_label,
            cache=args.cache,
            language=args.language,
        )
    except (OSError, AssistError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(result_json(result))
    return 0
