"""``python -m assist call AUDIO``: play a stereo recording into a running server as a live call
(native protocol), so the sidebar and supervisor pages have something to show. The transcript,
cards and alerts print as they arrive; a problem is one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from assist.bench.clients import stream_native
from assist.errors import AssistError
from assist.stt.filestream import load_wire_audio

DEMO_CALLER = "+12025550143"  # Patricia Brown, gold, in kb/bank/customers.csv


def register(commands: Any) -> None:
    cmd = commands.add_parser("call", help="stream a recording into a running server as a live call")
    cmd.add_argument("audio", type=Path, help="stereo WAV/FLAC: channel 0 customer, 1 agent")
    cmd.add_argument(
        "--server", default="http://127.0.0.1:8080", help="the server's URL as it prints it (http://, https://, ws://)"
    )
    cmd.add_argument("--agent", default="demo-agent", help="agent whose sidebar shows the call")
    cmd.add_argument("--caller", default=DEMO_CALLER, help="caller's number (the profile is looked up by it)")
    cmd.add_argument("--language", default="en")
    cmd.add_argument("--speed", type=float, default=1.0, help="1 = real time; 0 = as fast as possible")
    cmd.add_argument("--token", default=None, help="ingest token, if the server requires one")
    cmd.add_argument("--jsonl", action="store_true", help="print every message as JSON instead")
    cmd.set_defaults(run=run)


def native_url(server: str) -> str:
    """The /native websocket URL of a server given as http(s):// or ws(s)://; ValueError otherwise."""
    parts = urlsplit(server.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"--server {server!r} is not a URL like http://127.0.0.1:8080")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/native", "", ""))


def describe(message: dict[str, Any]) -> str | None:
    """One line a person reads while the call plays (None: nothing to show)."""
    kind = message.get("type")
    if kind == "final" and message.get("text"):
        start = float(message.get("start_s") or 0.0)
        return f"[{int(start // 60)}:{int(start % 60):02d}] {message.get('speaker')}: {message['text']}"
    if kind == "call_started":
        caller = message.get("caller") or {}
        who = caller.get("name") or message.get("caller_number") or "unknown caller"
        return f"call started: {who}" + (f" ({caller['segment']})" if caller.get("segment") else "")
    if kind == "suggestion" and message.get("pinned", True):
        return f"  answer: {message.get('title')}"
    if kind == "offer":
        return f"  offer: {message.get('title')}"
    if kind == "signal":
        return f"  alert: {message.get('title')}"
    if kind == "error":
        return f"  server: {message.get('reason')}"
    if kind == "call_ended":
        return f"call ended: {message.get('reason')}"
    return None


def run(args: argparse.Namespace) -> int:
    try:
        url = native_url(args.server)
        audio, _ = load_wire_audio(args.audio, 16000)
    except (AssistError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if audio.shape[1] == 1:
        audio = audio.repeat(2, axis=1) * [1.0, 0.0]  # mono: the customer alone

    def show(message: dict[str, Any], _: float) -> None:
        line = json.dumps(message, ensure_ascii=False) if args.jsonl else describe(message)
        if line is not None:
            print(line, flush=True)

    try:
        result = asyncio.run(
            stream_native(
                url,
                audio.astype("float32"),
                call_id=f"cli-{uuid.uuid4().hex[:8]}",
                caller_number=args.caller,
                agent_id=args.agent,
                language=args.language,
                speed=args.speed,
                token=args.token,
                linger_s=120.0,  # the last finals of a long call on a busy server
                on_message=show,
            )
        )
    except OSError as error:
        print(
            f"error: cannot reach the server at {url}: {error.strerror or error} (is it running? `make run`)",
            file=sys.stderr,
        )
        return 1
    except Exception as error:  # websockets' refusals and protocol errors: one line, not a traceback
        status = getattr(getattr(error, "response", None), "status_code", None)
        reason = f"HTTP {status}" if status else f"{type(error).__name__}: {error}"
        print(f"error: the server did not take the call ({reason})", file=sys.stderr)
        return 1
    ended = [m for _, m in result.messages if m.get("type") == "call_ended"]
    if result.close_code != 1000 or not ended:
        detail = result.close_reason or ("no call_ended received" if not ended else f"close code {result.close_code}")
        print(f"error: the call did not end cleanly: {detail}", file=sys.stderr)
        return 1
    return 0
