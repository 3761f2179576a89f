"""Command line: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import logging
import os

from assist.cli import access, call, calls, kb, transcribe


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models come from PyPI packages, never a hub
    parser = argparse.ArgumentParser(prog="python -m assist", description="assist: real-time agent assist")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    transcribe.register(commands)
    call.register(commands)
    kb.register(commands)
    calls.register(commands)
    access.register(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result: int = args.run(args)
    return result
