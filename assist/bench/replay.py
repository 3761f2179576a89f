"""Replaying calls into a running server: one call at a time per slot, N slots, staggered starts.

Each call streams through the native protocol (L16 16 kHz, 100 ms frames) or AudioHook (PCMU
8 kHz stereo, 200 ms frames) at the chosen pace, while the call's agent sidebar is watched on
its own socket; everything either socket receives is kept with its arrival time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import websockets

from assist.bench.clients import AudioHookClient, StreamResult, stream_native, watch_sidebar
from assist.bench.dataset import Recording
from assist.bench.launcher import Target

Protocol = Literal["native", "audiohook"]
SIDEBAR_GRACE_S = 5.0  # after the ingest socket closes, time for the sidebar to see call_ended


@dataclass
class CallRun:
    """The raw record of one replayed call."""

    index: int
    recording: Recording
    protocol: Protocol
    agent_id: str
    ingest: StreamResult = field(default_factory=StreamResult)
    sidebar: StreamResult | None = None
    error: str | None = None
    started_wall: float = 0.0
    ended_wall: float = 0.0


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    protocol: Protocol = "native"
    speed: float = 1.0  # 1 = real time; more for bulk re-processing
    linger_s: float = 30.0  # after the last audio, how long to wait for the server to end the call
    sidebar: bool = True


async def replay_call(
    target: Target,
    rec: Recording,
    *,
    index: int,
    label: str,
    options: ReplayOptions,
    on_frame: Callable[[float], None] | None = None,
) -> CallRun:
    agent_id = f"bench-{label}-{index}"
    run = CallRun(index, rec, options.protocol, agent_id, started_wall=time.time())
    sidebar_url = target.sidebar_url(agent_id) if options.sidebar else None
    stop = asyncio.Event()
    watcher: asyncio.Task[None] | None = None
    if sidebar_url is not None:
        run.sidebar = StreamResult()
        connected = asyncio.Event()
        watcher = asyncio.create_task(watch_sidebar(sidebar_url, run.sidebar, stop, connected))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(connected.wait(), 10)
        if watcher.done():
            run.error = f"sidebar: {watcher.exception()!r}"
            run.sidebar, watcher = None, None
    try:
        if options.protocol == "native":
            await stream_native(
                f"{target.ws}/native",
                rec.audio16,
                call_id=f"bench-{label}-{index}-{rec.name}",
                agent_id=agent_id,
                caller_number=rec.caller_number,
                language=rec.language,
                speed=options.speed,
                token=target.ingest_token,
                linger_s=options.linger_s,
                on_frame=on_frame,
                result=run.ingest,
            )
        else:
            client = AudioHookClient(f"{target.ws}/audiohook", api_key=target.audiohook_key)
            await client.stream(
                rec.audio16,
                agent_id=agent_id,
                ani=rec.caller_number,
                language=rec.language,
                speed=options.speed,
                linger_s=options.linger_s,
                on_frame=on_frame,
                result=run.ingest,
            )
    except (OSError, websockets.WebSocketException, TimeoutError) as error:
        run.error = f"ingest: {error!r}"
    finally:
        if watcher is not None and run.sidebar is not None:
            await _await_call_end(run.sidebar, SIDEBAR_GRACE_S)
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watcher, 5)
        run.ended_wall = time.time()
    return run


async def _await_call_end(result: StreamResult, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(m.get("type") == "call_ended" for _, m in result.messages):
            return
        await asyncio.sleep(0.05)


async def replay_all(
    target: Target,
    recordings: list[Recording],
    *,
    concurrency: int,
    stagger_s: float,
    label: str,
    options: ReplayOptions,
    on_frame: Callable[[float], None] | None = None,
) -> list[CallRun]:
    """``concurrency`` slots; slot i starts after i × stagger and takes the next call whenever its
    previous one ends, so that many calls are in progress at once until the list runs out."""
    pending = list(enumerate(recordings))
    runs: list[CallRun] = []

    async def slot(number: int) -> None:
        await asyncio.sleep(number * stagger_s)
        while pending:
            index, rec = pending.pop(0)
            runs.append(await replay_call(target, rec, index=index, label=label, options=options, on_frame=on_frame))

    await asyncio.gather(*(slot(i) for i in range(max(1, concurrency))))
    return sorted(runs, key=lambda r: r.index)
