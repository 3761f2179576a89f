"""SIGTERM mid-call: the server finishes every final, tells each client, and exits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
import websockets

from assist.audio.codec import AudioFormat, encode_pcm
from assist.bench.clients import AudioHookClient
from tests.conftest import ARTIFACTS, REPO_ROOT, free_port

pytestmark = pytest.mark.model


@pytest.fixture
def server_process(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "ASSIST_AUDIOHOOK_API_KEY": "k",
        "ASSIST_DATA_DIR": str(ARTIFACTS / "server-data"),
        "ASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'calls.db'}",
        "ASSIST_NODE_ID": "shutdown-test",
        "ASSIST_MAX_FINAL_WAIT_S": "3600",  # a busy machine's backlog must not refuse the test's calls
        "ASSIST_SHUTDOWN_GRACE_S": "60",  # drains as soon as the calls are done; a busy machine needs longer
        "HF_HUB_OFFLINE": "1",
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "server.py"), "--port", str(port), "--log-level", "info"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 600  # model load and calibration on a busy machine
    while time.time() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                break
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
    yield process, port
    if process.poll() is None:
        process.kill()
    process.wait(10)


async def test_sigterm_finishes_calls_and_tells_clients(server_process, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    process, port = server_process
    audio, _ = sf.read(shared_data / "speech" / "whisper.cpp__jfk.wav", dtype="float32")
    stereo = np.stack([audio, np.zeros_like(audio)], axis=1)
    fmt = AudioFormat("l16", 16000, 2)
    native_messages: list[dict] = []
    native = await websockets.connect(f"ws://127.0.0.1:{port}/native")
    await native.send(json.dumps({"type": "start", "call_id": "shutdown-native"}))
    for begin in range(0, len(stereo), 3200):
        await native.send(encode_pcm(stereo[begin : begin + 3200], fmt))
    await native.send(json.dumps({"type": "ping"}))  # the pong proves the server has the audio
    while (message := json.loads(await native.recv()))["type"] != "pong":
        native_messages.append(message)

    client = AudioHookClient(f"ws://127.0.0.1:{port}/audiohook", api_key="k")
    hook = await websockets.connect(client.url, additional_headers=client.headers())
    await hook.send(client.open_message(conversation_id="11111111-2222-3333-4444-555555555555", ani="+1555"))
    wire = AudioFormat("pcmu", 8000, 2)
    import soxr

    pcmu = soxr.resample(stereo, 16000, 8000).astype(np.float32)
    for begin in range(0, len(pcmu), 1600):
        await hook.send(encode_pcm(pcmu[begin : begin + 1600], wire))
    await hook.send(client.message("ping"))
    hook_messages: list[dict] = []

    async def read_native() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in native:
                native_messages.append(json.loads(raw))

    async def read_hook() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in hook:
                message = json.loads(raw)
                hook_messages.append(message)
                if message["type"] == "pong":
                    process.send_signal(signal.SIGTERM)  # mid-call, speech still being decoded
                if message["type"] == "disconnect":
                    client.serverseq = message["seq"]
                    await hook.send(client.message("close", {"reason": "end"}))

    await asyncio.wait_for(asyncio.gather(read_native(), read_hook()), 180)
    assert await asyncio.get_running_loop().run_in_executor(None, process.wait, 120) is not None
    native_text = " ".join(m["text"] for m in native_messages if m["type"] == "final").lower()
    assert "for your country" in native_text  # the tail, still being decoded at SIGTERM
    assert native_messages[-1]["type"] == "call_ended" and native_messages[-1]["reason"] == "server_shutdown"
    kinds = [m["type"] for m in hook_messages]
    assert "disconnect" in kinds
    disconnect = next(m for m in hook_messages if m["type"] == "disconnect")
    assert disconnect["parameters"]["reason"] == "completed"
    finals = [
        e["data"]
        for m in hook_messages
        if m["type"] == "event"
        for e in m["parameters"]["entities"]
        if e["type"] == "transcript" and e["data"]["isFinal"]
    ]
    assert finals and kinds.index("disconnect") > kinds.index("event")  # finals first, then disconnect
