"""Bad input gets a clear, protocol-correct answer, affects only its own connection, and loses
nothing already received."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import websockets

from assist.audio.codec import AudioFormat, encode_pcm
from assist.bench.clients import AudioHookClient, StreamResult, stream_native, watch_sidebar
from assist.bench.scoring import normalise
from tests.conftest import AUDIOHOOK_KEY, LiveServer

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def speech(shared_data: Path) -> np.ndarray:
    audio, _ = sf.read(shared_data / "speech" / "whisper.cpp__jfk.wav", dtype="float32")
    return audio


async def native_exchange(server: LiveServer, *frames: str | bytes) -> tuple[list[dict], int | None, str]:
    messages: list[dict] = []
    async with websockets.connect(f"{server.ws}/native") as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            for frame in frames:
                await ws.send(frame)
            async for raw in ws:
                messages.append(json.loads(raw))
    return messages, ws.close_code, ws.close_reason or ""


START = json.dumps({"type": "start", "call_id": "bad", "audio": {"encoding": "l16", "rate_hz": 16000, "channels": 2}})


async def test_malformed_json(live_server: LiveServer) -> None:
    messages, code, reason = await native_exchange(live_server, START, "{not json")
    assert code == 1008 and "malformed JSON" in reason
    assert messages[-1]["type"] == "call_ended" or any(m["type"] == "error" for m in messages)


async def test_audio_before_start(live_server: LiveServer) -> None:
    messages, code, reason = await native_exchange(live_server, b"\x00\x00" * 160)
    assert code == 1008 and "before 'start'" in reason
    assert messages == [{"type": "error", "reason": "audio before 'start'", "fatal": True}]


async def test_unknown_message_type(live_server: LiveServer) -> None:
    _, code, reason = await native_exchange(live_server, START, json.dumps({"type": "dance"}))
    assert code == 1008 and "unknown message type" in reason


@pytest.mark.parametrize(
    ("audio", "needle"),
    [
        ({"encoding": "l16", "rate_hz": 44100, "channels": 2}, "rate_hz"),
        ({"encoding": "opus", "rate_hz": 16000, "channels": 2}, "encoding"),
        ({"encoding": "l16", "rate_hz": 16000, "channels": 6}, "channels"),
    ],
)
async def test_unsupported_format(live_server: LiveServer, audio: dict, needle: str) -> None:
    start = json.dumps({"type": "start", "call_id": "fmt", "audio": audio})
    messages, code, reason = await native_exchange(live_server, start)
    assert code == 1003 and needle in reason
    assert messages[0]["type"] == "error"


async def test_odd_length_frame_keeps_what_was_received(live_server: LiveServer, speech: np.ndarray) -> None:
    """A broken frame ends the call, but the speech before it is still transcribed and sent."""
    fmt = AudioFormat("l16", 16000, 2)
    stereo = np.stack([speech[: 16000 * 5], np.zeros(16000 * 5, np.float32)], axis=1)
    frames = [encode_pcm(stereo[i : i + 1600], fmt) for i in range(0, len(stereo), 1600)]
    messages, code, reason = await native_exchange(live_server, START, *frames, b"\x01\x02\x03")
    assert code == 1003 and "whole number" in reason
    finals = [m for m in messages if m["type"] == "final"]
    assert finals and "fellow americans" in " ".join(f["text"] for f in finals).lower()


async def test_oversize_frame(live_server: LiveServer) -> None:
    _, code, reason = await native_exchange(live_server, START, b"\x00" * (16000 * 4 * 3))
    assert code == 1003 and "at most" in reason


async def test_abrupt_disconnect_loses_nothing(live_server: LiveServer, speech: np.ndarray) -> None:
    """The platform vanishes mid-call: the agent's sidebar still gets every final."""
    sidebar = StreamResult()
    stop = asyncio.Event()
    connected = asyncio.Event()
    watcher = asyncio.create_task(watch_sidebar(live_server.sidebar_url("agent-drop"), sidebar, stop, connected))
    await asyncio.wait_for(connected.wait(), 30)
    fmt = AudioFormat("l16", 16000, 2)
    stereo = np.stack([speech, np.zeros_like(speech)], axis=1)
    ws = await websockets.connect(f"{live_server.ws}/native")
    await ws.send(json.dumps({"type": "start", "call_id": "drop", "agent_id": "agent-drop"}))
    for i in range(0, len(stereo), 3200):
        await ws.send(encode_pcm(stereo[i : i + 3200], fmt))
    await ws.send(json.dumps({"type": "ping"}))  # the pong proves the server has every frame
    while json.loads(await ws.recv())["type"] != "pong":
        pass
    ws.transport.abort()  # no close frame: the TCP connection just dies
    for _ in range(100):
        if sidebar.of_type("call_ended"):
            break
        await asyncio.sleep(0.1)
    stop.set()
    await watcher
    ended = sidebar.of_type("call_ended")
    assert ended and ended[0]["reason"] == "disconnected"
    text = normalise(" ".join(m["text"] for m in sidebar.of_type("final")))
    assert "ask not what your country" in text and "for your country" in text


async def test_bad_call_does_not_disturb_a_good_one(live_server: LiveServer, shared_data: Path) -> None:
    audio, _ = sf.read(shared_data / "calls" / "0002f70f7386445b.flac", dtype="float32")
    good = asyncio.create_task(
        stream_native(f"{live_server.ws}/native", audio[: 16000 * 12], call_id="good", speed=2.0)
    )
    bad = [native_exchange(live_server, START, "][") for _ in range(5)]
    bad.append(native_exchange(live_server, b"\xff" * 10))
    await asyncio.gather(*bad)
    result = await good
    assert result.close_code == 1000
    assert "harper valley" in " ".join(m["text"] for m in result.of_type("final")).lower()


async def test_audiohook_wrong_api_key_is_401(live_server: LiveServer) -> None:
    client = AudioHookClient(f"{live_server.ws}/audiohook", api_key="wrong")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(client.url, additional_headers=client.headers()):
            pass
    assert refused.value.response.status_code == 401


async def test_audiohook_missing_session_headers_is_400(live_server: LiveServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{live_server.ws}/audiohook", additional_headers={"X-API-KEY": AUDIOHOOK_KEY}):
            pass
    assert refused.value.response.status_code == 400


async def audiohook_exchange(server: LiveServer, build) -> list[dict]:  # type: ignore[no-untyped-def]
    client = AudioHookClient(f"{server.ws}/audiohook", api_key=AUDIOHOOK_KEY)
    messages: list[dict] = []
    async with websockets.connect(client.url, additional_headers=client.headers()) as ws:
        for frame in build(client):
            await ws.send(frame)
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                messages.append(message)
                client.serverseq = message["seq"]
                if message["type"] == "disconnect":
                    await ws.send(client.message("close", {"reason": "error"}))
                if message["type"] == "closed":
                    break
        except (TimeoutError, websockets.ConnectionClosed):
            pass
    return messages


async def test_audiohook_audio_before_open(live_server: LiveServer) -> None:
    messages = await audiohook_exchange(live_server, lambda c: [b"\xff" * 3200])
    assert messages[0]["type"] == "disconnect"
    assert messages[0]["parameters"]["reason"] == "error"
    assert "audio received" in messages[0]["parameters"]["info"]
    assert messages[-1]["type"] == "closed"


async def test_audiohook_seq_gap(live_server: LiveServer) -> None:
    def frames(client: AudioHookClient) -> list[str]:
        opening = client.open_message(conversation_id=str(uuid.uuid4()), ani="+1555")
        client.seq += 5  # skip ahead
        return [opening, client.message("ping")]

    messages = await audiohook_exchange(live_server, frames)
    kinds = [m["type"] for m in messages]
    assert kinds[:2] == ["opened", "disconnect"]
    assert "seq" in messages[1]["parameters"]["info"]


async def test_audiohook_connection_probe(live_server: LiveServer) -> None:
    before = len(live_server.services.hub.calls)  # type: ignore[attr-defined]

    def frames(client: AudioHookClient) -> list[str | bytes]:
        return [
            client.open_message(conversation_id="00000000-0000-0000-0000-000000000000", ani=None),
            b"",
            client.message("close", {"reason": "end"}),
        ]

    messages = await audiohook_exchange(live_server, frames)
    assert [m["type"] for m in messages] == ["opened", "closed"]
    assert len(live_server.services.hub.calls) == before  # type: ignore[attr-defined]


async def test_audiohook_unsupported_media(live_server: LiveServer) -> None:
    def frames(client: AudioHookClient) -> list[str]:
        message = json.loads(client.open_message(conversation_id=str(uuid.uuid4()), ani="+1"))
        message["parameters"]["media"] = [{"type": "audio", "format": "OPUS", "channels": ["external"], "rate": 48000}]
        return [json.dumps(message)]

    messages = await audiohook_exchange(live_server, frames)
    assert messages[0]["type"] == "disconnect"
    assert "no offered media" in messages[0]["parameters"]["info"]


async def test_twilio_malformed(live_server: LiveServer) -> None:
    async with websockets.connect(f"{live_server.ws}/twilio") as ws:
        await ws.send("not json at all")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 1008 and "malformed JSON" in (ws.close_reason or "")
