"""SIGKILL mid-call: every final the sidebar already had is in the call log after a restart,
and the call is marked interrupted (and still scored)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path

import httpx
import pytest
import soundfile as sf
import websockets

from assist.audio.codec import AudioFormat, encode_pcm
from assist.config import Settings
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.model
SECRET = "durability-secret-0123"


def first_call(shared_data: Path) -> Path:
    return sorted((shared_data / "calls").glob("*.flac"))[0]


async def test_sigkill_loses_no_delivered_final(tmp_path: Path, shared_data: Path) -> None:
    env = {
        "ASSIST_SECRET_KEY": SECRET,
        "ASSIST_DATA_DIR": str(tmp_path / "data"),
        "ASSIST_NODE_ID": "kill-test",
        "ASSIST_MAX_FINAL_WAIT_S": "3600",  # a busy machine's backlog must not refuse the test's call
    }
    server = ServerProcess(tmp_path / "server.log", env)
    await asyncio.get_running_loop().run_in_executor(None, server.start)
    settings = Settings(secret_key=SECRET)
    audio, rate = sf.read(first_call(shared_data), dtype="float32")
    assert rate == 16000 or rate == 8000
    fmt = AudioFormat("l16", int(rate), 2)
    frame = int(rate) // 10
    sidebar_finals: list[dict] = []
    sidebar = await websockets.connect(
        f"{server.ws}/ws/sidebar?agent=alice",
        additional_headers={"Authorization": f"Bearer {settings.agent_token('alice')}"},
    )

    async def watch() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in sidebar:
                message = json.loads(raw)
                if message["type"] == "final" and message["text"]:
                    sidebar_finals.append(message)

    watcher = asyncio.create_task(watch())
    native = await websockets.connect(f"{server.ws}/native")
    await native.send(
        json.dumps(
            {
                "type": "start",
                "call_id": "KILL-1",
                "agent_id": "alice",
                "caller_number": "+12025550143",
                "audio": {"encoding": "l16", "rate_hz": int(rate), "channels": 2},
            }
        )
    )
    # Stream at 4x real time until the sidebar has shown a few finals, then kill -9 mid-call.
    position = 0
    while len(sidebar_finals) < 4 and position < len(audio):
        await native.send(encode_pcm(audio[position : position + frame], fmt))
        position += frame
        await asyncio.sleep(0.025)
    assert len(sidebar_finals) >= 4, "the call produced no finals"
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    await asyncio.sleep(0.2)
    watcher.cancel()
    delivered = list(sidebar_finals)

    server.start()  # same data dir and node: the open call is found and closed
    try:
        headers = {"Authorization": f"Bearer {settings.role_token('qa')}"}
        async with httpx.AsyncClient(base_url=server.http, headers=headers) as client:
            legs = (await client.get("/api/calls/by-platform-id/KILL-1")).json()["calls"]
            assert len(legs) == 1 and legs[0]["status"] == "interrupted"
            call = (await client.get(f"/api/calls/{legs[0]['id']}")).json()
        stored = {(u["speaker"], u["utterance_id"]): u["text"] for u in call["utterances"]}
        for final in delivered:
            assert stored.get((final["speaker"], final["utterance_id"])) == final["text"]
        assert call["end_reason"] == "server_restart" and call["qa"] is not None
    finally:
        server.kill()
