"""``python -m assist calls list|show|export|replay``: the call log from a terminal.

Reads the same database as the server (``ASSIST_DATABASE_URL``, or SQLite under
``ASSIST_DATA_DIR``; ``--database`` overrides), so it works with the server running or not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from assist.errors import AssistError


def register(commands: Any) -> None:
    calls = commands.add_parser("calls", help="the call log: list, show, export, replay")
    calls.add_argument("--database", help="postgresql://... or sqlite:///path (default: the server's settings)")
    sub = calls.add_subparsers(dest="calls_command", required=True)

    listing = sub.add_parser("list", help="calls, newest first")
    listing.add_argument("-q", "--search", help='full-text search: words, "a phrase", prefix*')
    listing.add_argument("--agent")
    listing.add_argument("--intent")
    listing.add_argument("--signal")
    listing.add_argument("--status", choices=["live", "completed", "interrupted", "failed"])
    listing.add_argument("--max-score", type=float)
    listing.add_argument("--since", help="YYYY-MM-DD")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(run=run_list)

    show = sub.add_parser("show", help="one call: transcript, scorecard, summary")
    show.add_argument("call_id", help="call id, or the platform's call id")
    show.set_defaults(run=run_show)

    export = sub.add_parser("export", help="write a call as JSON or CSV")
    export.add_argument("call_id")
    export.add_argument("--format", choices=["json", "csv"], default="json")
    export.add_argument("-o", "--output", type=Path, help="file (default: stdout)")
    export.set_defaults(run=run_export)

    replay = sub.add_parser("replay", help="print a call's events with their original timing")
    replay.add_argument("call_id")
    replay.add_argument("--speed", type=float, default=1.0, help="N times faster (default 1)")
    replay.set_defaults(run=run_replay)


def _store(args: argparse.Namespace) -> Any:
    from assist.calllog.store import open_store
    from assist.config import load_settings

    settings = load_settings()
    return open_store(args.database or settings.database_url, settings.data_dir)


def _find(store: Any, call_id: str) -> dict[str, Any] | None:
    call = store.get_call(call_id)
    if call is None:
        legs = store.find_by_platform_id(call_id)
        if legs:
            call = store.get_call(legs[-1]["id"])
    return call  # type: ignore[no-any-return]


def _guarded(run: Any) -> Any:
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return int(run(args))
        except AssistError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `| head`
            return 0

    return wrapper


@_guarded
def run_list(args: argparse.Namespace) -> int:
    from assist.calllog.store import CallQuery

    since = dt.datetime.fromisoformat(args.since).timestamp() if args.since else None
    store = _store(args)
    page = store.list_calls(
        CallQuery(
            text=args.search,
            agent_id=args.agent,
            intent=args.intent,
            signal=args.signal,
            status=args.status,
            max_score=args.max_score,
            since=since,
            limit=args.limit,
        )
    )
    tags = store.tags_for([c["id"] for c in page.calls])
    for call in page.calls:
        call_tags = tags.get(call["id"], {})
        if args.json:
            print(json.dumps({**call, "tags": call_tags, "hits": page.hits.get(call["id"], [])}, ensure_ascii=False))
            continue
        started = dt.datetime.fromtimestamp(call["started_at"]).strftime("%Y-%m-%d %H:%M")
        score = "—" if call["qa_score"] is None else f"{call['qa_score']:.0f}"
        about = ",".join(call_tags.get("intent", [])) or "-"
        print(
            f"{call['id']}  {started}  {call['status']:<11} agent={call['agent_id']:<12} score={score:<3} "
            f"{call['caller_number'] or 'unknown':<14} {about}"
        )
        for hit in page.hits.get(call["id"], [])[:3]:
            print(f"    {hit['start_s']:7.1f}s {hit['speaker']}: {hit['text']}")
    if not args.json:
        print(f"({len(page.calls)} of {page.total})", file=sys.stderr)
    return 0


@_guarded
def run_show(args: argparse.Namespace) -> int:
    call = _find(_store(args), args.call_id)
    if call is None:
        print(f"no call {args.call_id}", file=sys.stderr)
        return 1
    print(
        f"call {call['id']} ({call['platform']} {call['platform_call_id']}), agent {call['agent_id']}, {call['status']}"
    )
    if call.get("summary"):
        print(f"\nSummary: {call['summary'].get('text', '')}")
    qa = call.get("qa")
    if qa:
        print(f"\nQA score: {qa.get('score')}")
        for item in qa.get("items", []):
            print(f"  [{item['status']:<14}] {item['title']}")
    print("\nTranscript:")
    for u in call["utterances"]:
        print(f"  {u['start_s']:7.1f}s {u['speaker']:<8} {u['text']}")
    return 0


@_guarded
def run_export(args: argparse.Namespace) -> int:
    from assist.web.qa_api import transcript_csv

    call = _find(_store(args), args.call_id)
    if call is None:
        print(f"no call {args.call_id}", file=sys.stderr)
        return 1
    text = transcript_csv(call) if args.format == "csv" else json.dumps(call, ensure_ascii=False, indent=1)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


@_guarded
def run_replay(args: argparse.Namespace) -> int:
    from assist.calllog.replay import schedule

    store = _store(args)
    call = _find(store, args.call_id)
    if call is None:
        print(f"no call {args.call_id}", file=sys.stderr)
        return 1
    begun = time.monotonic()
    for at_s, event in schedule(store.events(call["id"]), args.speed):
        delay = begun + at_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        kind = event.get("type")
        if kind == "interim":
            continue  # a terminal cannot rewrite lines gracefully; finals carry the words
        at = f"{float(event.get('emitted_s') or 0):7.1f}s"
        if kind == "final":
            print(f"{at} {event['speaker']:<8} {event['text']}", flush=True)
        elif kind in ("suggestion", "offer"):
            print(f"{at} [{kind}] {event.get('title')}", flush=True)
        elif kind == "signal":
            print(f"{at} [signal {event.get('kind')}] {event.get('title')}", flush=True)
        else:
            print(f"{at} [{kind}]", flush=True)
    return 0
