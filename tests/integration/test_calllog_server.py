"""The call log through the running server, on SQLite and on PostgreSQL: finals stored as they
happen, QA API (checked against its own OpenAPI document), replay, redaction, pause, transfer."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
import soundfile as sf
import websockets
from openapi_core import OpenAPI
from openapi_spec_validator import validate as validate_spec

from assist.bench.clients import stream_native
from assist.calls.session import CallMetadata
from assist.events import FinalTranscript, SttTimings, Word
from tests.conftest import LiveServer

pytestmark = pytest.mark.model
CALL = "0002f70f7386445b"
CLIP_S = 22.0


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest) -> LiveServer:
    name = "live_server" if request.param == "sqlite" else "live_server_pg"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> np.ndarray:
    audio, _ = sf.read(shared_data / "calls" / f"{CALL}.flac", dtype="float32")
    return audio[: int(CLIP_S * 16000)]


# -- OpenAPI response checking -------------------------------------------------------------------


class _Request:
    def __init__(self, request: httpx.Request) -> None:
        url = urlsplit(str(request.url))
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.full_url_pattern = f"{self.host_url}{url.path}"
        self.method = request.method.lower()
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.parameters = RequestParameters(
            query=ImmutableMultiDict(httpx.QueryParams(url.query).multi_items()),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = request.headers.get("content-type", "application/json")
        self.body = request.content or None


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").split(";")[0]
        from werkzeug.datastructures import Headers

        self.headers = Headers(dict(response.headers))
        # openapi-core checks a text/* body as it is given: give it text, as a client reads it.
        self.data = response.text if self.content_type.startswith("text/") else response.content


class CheckedClient:
    """httpx, with every response validated against the server's own OpenAPI document."""

    def __init__(self, http: httpx.AsyncClient, spec: OpenAPI) -> None:
        self.http, self.spec = http, spec

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, url, **kwargs)
        self.spec.validate_response(_Request(response.request), _Response(response))
        return response

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)


async def openapi_client(server: LiveServer) -> tuple[httpx.AsyncClient, CheckedClient]:
    async with httpx.AsyncClient(base_url=server.http) as plain:
        document = (await plain.get("/api/openapi.json")).json()
    http = httpx.AsyncClient(base_url=server.http, headers=server.qa_headers, timeout=30)
    validate_spec(document)
    return http, CheckedClient(http, OpenAPI.from_dict(document))


async def wait_stored(http: httpx.AsyncClient, platform_call_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """The call once the call log has closed it (a busy machine may take a while)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await http.get(f"/api/calls/by-platform-id/{platform_call_id}")
        if response.status_code == 200 and response.json()["calls"][-1]["status"] != "live":
            return response.json()["calls"][-1]  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"call {platform_call_id} was not closed in the call log")


async def test_a_call_is_logged_searchable_scored_and_replayable(server: LiveServer, clip: np.ndarray) -> None:
    platform_id = f"QA-{server.services.settings.node_id}"  # type: ignore[attr-defined]
    result = await stream_native(
        f"{server.ws}/native", clip, call_id=platform_id, caller_number="+12025550143", agent_id="qa-agent", speed=4.0
    )
    finals = [m for m in result.of_type("final") if m["text"]]
    assert finals
    http, checked = await openapi_client(server)
    async with http:
        item = await wait_stored(http, platform_id)
        assert item["status"] == "completed" and item["agent_id"] == "qa-agent"
        call = (await checked.get(f"/api/calls/{item['id']}")).json()
        stored = {(u["speaker"], u["utterance_id"]): u["text"] for u in call["utterances"]}
        assert stored == {(m["speaker"], m["utterance_id"]): m["text"] for m in finals}
        assert call["qa"]["items"] and call["summary"]["text"]
        assert "lost_card" in call["tags"].get("intent", []) or call["guidance"]

        listed = (await checked.get("/api/calls", params={"agent": "qa-agent", "limit": 5})).json()
        assert item["id"] in [c["id"] for c in listed["calls"]]
        word = max(finals[-1]["text"].split(), key=len).strip(".,?!")
        searched = (await checked.get("/api/calls", params={"q": word, "agent": "qa-agent"})).json()
        assert searched["calls"][0]["hits"], word
        assert (await checked.get("/api/calls", params={"limit": 0})).status_code == 400
        assert (await checked.get("/api/qa/agents")).json()["agents"]
        exported = await checked.get(f"/api/calls/{item['id']}/export", params={"format": "csv"})
        assert exported.text.splitlines()[0].startswith("call_id,speaker") and len(exported.text.splitlines()) > 1
        note = (await checked.get(f"/api/calls/{item['id']}/note")).json()
        assert note["live"] is False and note["note"]

        bought = (await checked.post("/api/ticket")).json()  # checked against the OpenAPI document too
        assert bought["role"] == "qa" and bought["expires_in_s"] > 0
        replay_url = f"{server.ws}/ws/replay/{item['id']}?speed=50&ticket={bought['ticket']}"
        async with websockets.connect(replay_url) as ws:
            replayed = [json.loads(raw) async for raw in ws]
        assert replayed[0]["type"] == "call_started" and replayed[-1]["type"] == "replay_ended"
        replay_finals = [(m["speaker"], m["utterance_id"], m["text"]) for m in replayed if m["type"] == "final"]
        assert [f for f in replay_finals if f[2]] == [(m["speaker"], m["utterance_id"], m["text"]) for m in finals]
        times = [m["emitted_s"] for m in replayed[1:-1] if "emitted_s" in m]
        assert times == sorted(times)

        assert (await checked.request("DELETE", f"/api/calls/{item['id']}")).json() == {"deleted": 1}
        assert (await checked.get(f"/api/calls/{item['id']}")).status_code == 404


async def test_qa_api_needs_the_qa_role(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.http) as http:
        assert (await http.get("/api/calls")).status_code == 401
        agent = {"Authorization": f"Bearer {live_server.agent_token('qa-agent')}"}
        assert (await http.get("/api/calls", headers=agent)).status_code == 401
        supervisor = {"Authorization": f"Bearer {live_server.supervisor_token}"}
        assert (await http.get("/api/calls", headers=supervisor)).status_code == 401
        assert (await http.get("/api/calls/nope", headers=live_server.qa_headers)).status_code == 404
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{live_server.ws}/ws/replay/x?ticket=wrong"):
            pass
    with pytest.raises(websockets.InvalidStatus):  # a ticket bought with an agent's token
        agent_ticket = live_server.ticket(live_server.agent_token("qa-agent"))
        async with websockets.connect(f"{live_server.ws}/ws/replay/x?ticket={agent_ticket}"):
            pass


def final_event(utterance_id: int, speaker: str, text: str, start_s: float) -> FinalTranscript:
    words = tuple(Word(w, start_s, start_s + 0.1, 0.9) for w in text.split())
    timings = SttTimings(start_s + 1, start_s + 1.3, 0.1, 50.0, 1, 10.0)
    return FinalTranscript(speaker, utterance_id, start_s, start_s + 1, text, start_s + 1.4, timings, "en", 0.9, words)  # type: ignore[arg-type]


async def test_redaction_before_sidebar_and_storage(server: LiveServer) -> None:
    services = server.services
    sidebar: list[dict[str, Any]] = []
    session = await services.desk.open(CallMetadata("native", "REDACT-1", agent_id="red-agent"))  # type: ignore[attr-defined]
    outbox = session.subscribe()
    assert outbox is not None
    said = [
        ("agent", "Can I take the long number on the card please?"),
        ("customer", "Yes it's four one one one one one one one one one one one one one one one"),
        ("agent", "And the security code on the back?"),
        ("customer", "one two three"),
        ("customer", "My email is jane dot doe at example dot com and my phone is 202-555-0143"),
    ]
    for i, (speaker, text) in enumerate(said):
        await session._handle(final_event(i, speaker, text, 2.0 * i))
    await session.end("completed")
    while len(outbox):
        message = await outbox.get()
        if message and message.get("type") == "final":
            sidebar.append(message)
    shown = " ".join(m["text"] for m in sidebar)
    for secret in ("four one one one", "one two three", "jane", "example", "555"):
        assert secret not in shown
    async with httpx.AsyncClient(base_url=server.http, headers=server.qa_headers) as http:
        item = await wait_stored(http, "REDACT-1")
        call = (await http.get(f"/api/calls/{item['id']}")).json()
        exported = (await http.get(f"/api/calls/{item['id']}/export")).text
    kinds = {r["kind"] for u in call["utterances"] for r in u["redactions"]}
    assert {"card", "cvv", "email", "phone"} <= kinds
    for secret in ("four one one one", "one two three", "jane", "example.com", "0143"):
        assert secret not in exported
    assert all(set(r) == {"kind", "start", "end"} for u in call["utterances"] for r in u["redactions"])


async def test_paused_audio_is_never_transcribed_or_stored(live_server: LiveServer, shared_data: Path) -> None:
    from assist.audio.codec import AudioFormat, encode_pcm

    audio, _ = sf.read(shared_data / "speech" / "whisper.cpp__jfk.wav", dtype="float32")
    stereo = np.stack([audio, np.zeros_like(audio)], axis=1)
    fmt = AudioFormat("l16", 16000, 2)
    messages: list[dict[str, Any]] = []
    async with websockets.connect(f"{live_server.ws}/native") as ws:
        await ws.send(json.dumps({"type": "start", "call_id": "PAUSE-1", "agent_id": "pause-agent"}))
        await ws.send(json.dumps({"type": "pause"}))
        for begin in range(0, len(stereo), 3200):
            await ws.send(encode_pcm(stereo[begin : begin + 3200], fmt))
        await ws.send(json.dumps({"type": "resume"}))
        await ws.send(json.dumps({"type": "stop"}))
        async for raw in ws:
            messages.append(json.loads(raw))
    assert not [m for m in messages if m["type"] in ("final", "interim") and m["text"]]
    assert [m["type"] for m in messages if m["type"] in ("paused", "resumed")] == ["paused", "resumed"]
    resumed = next(m for m in messages if m["type"] == "resumed")
    assert resumed["discarded_s"] == pytest.approx(len(audio) / 16000, abs=0.1)
    async with httpx.AsyncClient(base_url=live_server.http, headers=live_server.qa_headers) as http:
        item = await wait_stored(http, "PAUSE-1")
        call = (await http.get(f"/api/calls/{item['id']}")).json()
    assert call["utterances"] == []


async def test_transfer_hands_the_call_and_its_note_to_the_next_agent(live_server: LiveServer) -> None:
    services = live_server.services
    session = await services.desk.open(CallMetadata("native", "XFER-1", agent_id="first-agent"))  # type: ignore[arg-type]
    await session._handle(final_event(0, "agent", "Good morning, thanks for calling, how can I help?", 0.0))
    await session._handle(final_event(0, "customer", "I lost my debit card and I need a new one", 2.0))
    second: list[dict[str, Any]] = []
    connected = asyncio.Event()

    async def watch() -> None:
        async with websockets.connect(live_server.sidebar_url("second-agent")) as ws:
            connected.set()
            async for raw in ws:
                second.append(json.loads(raw))

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(connected.wait(), 30)
    async with httpx.AsyncClient(base_url=live_server.http) as http:
        mid_call = await http.get(
            f"/api/calls/{session.call_id}/note", headers=live_server.headers(live_server.agent_token("first-agent"))
        )
        assert mid_call.status_code == 200 and mid_call.json()["live"] is True
        reason = mid_call.json()["note"].split("Reason: ")[1].split(". Already done")[0]
        assert "card" in reason.lower(), mid_call.json()["note"]  # the intent, or what the customer said
        response = await http.post(
            f"/api/live/calls/{session.call_id}/transfer",
            json={"agent_id": "second-agent"},
            headers={"Authorization": f"Bearer {live_server.agent_token('first-agent')}"},
        )
        assert response.status_code == 200
    for _ in range(50):
        if any(m["type"] == "transferred" for m in second):
            break
        await asyncio.sleep(0.1)
    await session.end("completed")
    watcher.cancel()
    kinds = [m["type"] for m in second]
    assert "call_started" in kinds and "final" in kinds and "transferred" in kinds  # the call so far, then the note

    # A new leg of the same conversation (e.g. a new AudioHook session after a blind transfer).
    leg2 = await services.desk.open(CallMetadata("native", "XFER-1", agent_id="third-agent"))  # type: ignore[arg-type]
    outbox = leg2.subscribe()
    assert outbox is not None
    handover = None
    for _ in range(50):
        handover = next((m for m in leg2.logged if m["type"] == "handover"), None)
        if handover:
            break
        await asyncio.sleep(0.1)
    await leg2.end("completed")
    assert handover is not None and handover["kind"] == "transfer" and handover["from_call_id"] == session.call_id
