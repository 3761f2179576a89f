"""After-call work, coaching, mood, the QA events and the call recording, on a running server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
import websockets

from assist.audio.codec import AudioFormat, encode_pcm
from assist.bench.clients import stream_native
from tests.conftest import LiveServer, serve_in_thread, until
from tests.integration.test_calllog_server import wait_stored

pytestmark = pytest.mark.model
CALL = "0002f70f7386445b"


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> np.ndarray:
    audio, _ = sf.read(shared_data / "calls" / f"{CALL}.flac", dtype="float32")
    return audio[: 16000 * 20]


@pytest.fixture(scope="module")
def recording_server(
    stt_service: object, guidance_service: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("rec") / "calls.db"
    yield from serve_in_thread(
        stt_service, guidance_service, f"sqlite:///{database}", "test-recording", record_audio=True
    )


async def test_wrapup_is_proposed_saved_and_both_versions_kept(live_server: LiveServer, clip: np.ndarray) -> None:
    agent, other = "wrap-agent", "other-agent"
    await stream_native(f"{live_server.ws}/native", clip, call_id="WRAP-1", agent_id=agent, speed=4.0)
    as_agent = live_server.headers(live_server.agent_token(agent))
    async with (
        httpx.AsyncClient(base_url=live_server.http, timeout=30) as http,
        httpx.AsyncClient(base_url=live_server.http, headers=live_server.qa_headers) as qa,
    ):
        call_id = (await wait_stored(qa, "WRAP-1"))["id"]
        url = f"/api/calls/{call_id}/wrapup"
        proposed = (await http.get(url, headers=as_agent)).json()
        assert proposed["live"] is False and proposed["saved"] is None
        codes = {d["code"] for d in proposed["dispositions"]}
        assert proposed["proposed"]["disposition"] in codes and proposed["proposed"]["summary"]
        assert "so far" not in proposed["proposed"]["summary"]
        assert (await http.get(url, headers=live_server.headers(live_server.agent_token(other)))).status_code == 403
        assert (await http.get(url)).status_code == 401
        saved = {"summary": "Customer asked about their balance.", "disposition": "balance", "outcome": "resolved"}
        assert (await http.put(url, headers=live_server.qa_headers, json=saved)).status_code == 403  # QA reads only
        assert (await http.put(url, headers=as_agent, json={**saved, "disposition": "nope"})).status_code == 400
        assert (await http.put(url, headers=as_agent, content=b"{not json")).status_code == 400
        response = await http.put(url, headers=as_agent, json={**saved, "notes": "wants paper statements"})
        assert response.status_code == 200 and response.json()["saved"]["notes"] == "wants paper statements"
        stored = (await http.get(f"/api/calls/{call_id}", headers=live_server.qa_headers)).json()["wrapup"]
        assert stored["saved"]["disposition"] == "balance" and stored["proposed"] == proposed["proposed"]
        events = (await http.get(f"/api/calls/{call_id}/events", headers=live_server.qa_headers)).json()
        times = [e["replay_s"] for e in events["events"]]
        assert events["call"]["call_id"] == call_id and times == sorted(times) and times[-1] > 5
        assert (await http.get(f"/api/calls/{call_id}/recording", headers=live_server.qa_headers)).status_code == 404


async def test_a_live_call_cannot_be_wrapped_up_yet(live_server: LiveServer) -> None:
    from assist.calls.session import CallMetadata

    session = await live_server.services.desk.open(CallMetadata("native", "WRAP-LIVE", agent_id="live-agent"))  # type: ignore[attr-defined]
    try:
        async with httpx.AsyncClient(base_url=live_server.http) as http:
            headers = live_server.headers(live_server.agent_token("live-agent"))
            url = f"/api/calls/{session.call_id}/wrapup"
            assert (await http.get(url, headers=headers)).json()["live"] is True
            body = {"summary": "x", "disposition": "general", "outcome": "resolved"}
            assert (await http.put(url, headers=headers, json=body)).status_code == 409
    finally:
        await session.end("completed")


async def test_a_supervisor_message_and_the_mood_reach_the_right_screens(
    live_server: LiveServer, clip: np.ndarray
) -> None:
    agent = "coached-agent"
    sidebar: list[dict[str, Any]] = []
    overview: list[dict[str, Any]] = []

    async def watch(url: str, into: list[dict[str, Any]], ready: asyncio.Event) -> None:
        async with websockets.connect(url) as ws:
            ready.set()
            async for raw in ws:
                into.append(json.loads(raw))

    ready = [asyncio.Event(), asyncio.Event()]
    watchers = [
        asyncio.create_task(watch(live_server.sidebar_url(agent), sidebar, ready[0])),
        asyncio.create_task(watch(live_server.supervisor_url(), overview, ready[1])),
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 30)
    streaming = asyncio.create_task(
        stream_native(f"{live_server.ws}/native", clip, call_id="COACH-1", agent_id=agent, speed=1.0)
    )
    await until(lambda: any(m["type"] == "call_started" and m["agent_id"] == agent for m in overview), "the call")
    call_id = next(m["call_id"] for m in overview if m["type"] == "call_started" and m["agent_id"] == agent)
    async with websockets.connect(live_server.supervisor_url()) as supervisor:
        await supervisor.send(json.dumps({"type": "coaching", "call_id": call_id, "text": "Offer the fee refund"}))
        await supervisor.send(json.dumps({"type": "coaching", "call_id": call_id, "text": ""}))
        refused = json.loads(await asyncio.wait_for(supervisor.recv(), 30))
        while refused["type"] != "error":
            refused = json.loads(await asyncio.wait_for(supervisor.recv(), 30))
        assert "characters" in refused["reason"]
    await until(lambda: any(m["type"] == "coaching" for m in sidebar), "the message on the sidebar")
    coaching = next(m for m in sidebar if m["type"] == "coaching")
    assert coaching["text"] == "Offer the fee refund" and coaching["call_id"] == call_id
    await streaming
    await until(lambda: any(m["type"] == "call_ended" and m["call_id"] == call_id for m in overview), "the end")
    for watcher in watchers:
        watcher.cancel()
    moods = [m for m in overview if m["type"] == "mood" and m["call_id"] == call_id]
    assert moods and moods[-1]["intent"], "the supervisor sees the topic and the mood per call"
    async with websockets.connect(live_server.sidebar_url(agent)) as ws:  # agents cannot coach
        await ws.send(json.dumps({"type": "coaching", "call_id": call_id, "text": "hi"}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert reply["type"] == "error" and "unknown message type" in reply["reason"]


async def test_the_recording_keeps_the_call_and_silences_the_pause(
    recording_server: LiveServer, clip: np.ndarray
) -> None:
    server = recording_server
    fmt = AudioFormat("l16", 16000, 2)
    start = {"type": "start", "call_id": "REC-1", "audio": {"encoding": "l16", "rate_hz": 16000, "channels": 2}}
    async with websockets.connect(f"{server.ws}/native") as ws:
        await ws.send(json.dumps(start))
        for part, paused in (
            (clip[: 16000 * 4], False),
            (clip[16000 * 4 : 16000 * 6], True),
            (clip[16000 * 6 : 16000 * 8], False),
        ):
            if paused:
                await ws.send(json.dumps({"type": "pause"}))
            for begin in range(0, len(part), 1600):
                await ws.send(encode_pcm(part[begin : begin + 1600], fmt))
            if paused:
                await ws.send(json.dumps({"type": "resume"}))
        await ws.send(json.dumps({"type": "stop"}))
        async for _ in ws:
            pass
    async with httpx.AsyncClient(base_url=server.http, headers=server.qa_headers, timeout=30) as http:
        call_id = (await wait_stored(http, "REC-1"))["id"]
        response = None
        for _ in range(600):  # the FLAC is made just after the call log closes the call
            response = await http.get(f"/api/calls/{call_id}/recording")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert response is not None and response.status_code == 200
        assert response.headers["content-type"] == "audio/flac"
        import io

        audio, rate = sf.read(io.BytesIO(response.content), dtype="float32")
        assert rate == 16000 and audio.shape[1] == 2 and abs(len(audio) - 16000 * 8) < 1600
        paused = audio[16000 * 4 : 16000 * 6]
        assert not paused.any(), "nothing said while paused is kept"
        assert np.abs(audio[: 16000 * 4] - clip[: 16000 * 4]).max() < 1e-3
        assert (await http.delete(f"/api/calls/{call_id}")).json() == {"deleted": 1}
        assert (await http.get(f"/api/calls/{call_id}/recording")).status_code == 404
