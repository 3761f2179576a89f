"""Replay timing: a stored call's events re-sent with their original spacing, N times faster.
Plain logic; the websocket that sends them is assist/web/replay.py, the CLI assist/cli/calls.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Message = dict[str, Any]
MAX_SPEED = 100.0


def schedule(events: list[Message], speed: float = 1.0) -> Iterator[tuple[float, Message]]:
    """(seconds after replay start, event) pairs, in stored order. Events keep the call's own
    time axis (``emitted_s``); one without it goes out with the event before it."""
    if not speed > 0:
        raise ValueError("speed must be positive")
    speed = min(speed, MAX_SPEED)
    at_s = 0.0
    for event in events:
        emitted_s = event.get("emitted_s")
        if isinstance(emitted_s, int | float):
            at_s = max(at_s, float(emitted_s) / speed)  # never backwards: order is the stored order
        yield at_s, event
