"""``python -m assist call AUDIO``: play a stereo recording into a running server as a live call
(native protocol), so the sidebar and supervisor pages have something to show."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from assist.bench.clients import stream_native
from assist.errors import AssistError
from assist.stt.filestream import load_wire_audio


def register(commands: Any) -> None:
    cmd = commands.add_parser("call", help="stream a recording into a running server as a live call")
    cmd.add_argument("audio", type=Path, help="stereo WAV/FLAC: channel 0 customer, 1 agent")
    cmd.add_argument("--server", default="ws://127.0.0.1:8080", help="server base URL (ws://...)")
    cmd.add_argument("--agent", default="demo-agent", help="agent whose sidebar shows the call")
    cmd.add_argument("--caller", default="+14155550100", help="caller's number (profile lookup)")
    cmd.add_argument("--language", default="en")
    cmd.add_argument("--speed", type=float, default=1.0, help="1 = real time; 0 = as fast as possible")
    cmd.add_argument("--token", default=None, help="ingest token, if the server requires one")
    cmd.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        audio, _ = load_wire_audio(args.audio, 16000)
    except AssistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if audio.shape[1] == 1:
        audio = audio.repeat(2, axis=1) * [1.0, 0.0]  # mono: the customer alone
    result = asyncio.run(
        stream_native(
            f"{args.server.rstrip('/')}/native",
            audio.astype("float32"),
            call_id=f"cli-{uuid.uuid4().hex[:8]}",
            caller_number=args.caller,
            agent_id=args.agent,
            language=args.language,
            speed=args.speed,
            token=args.token,
        )
    )
    for _, message in result.messages:
        if message.get("type") in ("final", "error", "call_ended"):
            print(json.dumps(message, ensure_ascii=False))
    return 0 if result.close_code == 1000 else 1
