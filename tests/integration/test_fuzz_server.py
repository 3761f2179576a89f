"""Generated input against a running server while a canary call streams through it.

Every ingest protocol (native, Twilio, AudioHook), the viewer websockets, the ticket endpoint and
the QA/live HTTP API get hypothesis-generated frames, messages, paths, parameters and
credentials. Each case checks the answer (a protocol-correct close or reply, never 5xx, 1011 or a
dropped connection), then that /healthz still answers; at the end the canary call has its whole
transcript and the server logged no traceback and no ERROR. Bounded to about a minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from assist.bench.clients import StreamResult, stream_native, watch_sidebar
from tests.conftest import AUDIOHOOK_KEY, LiveServer
from tests.unit.web.test_fuzz_ingest import json_values, objects

pytestmark = pytest.mark.model

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
CANARY_S = 40.0
# Closes a client may get for bad input: normal, going away, unsupported data, policy, too big,
# try again later. Never 1011 (a server error) and never a dropped connection (1006).
PROTOCOL_CLOSES = {1000, 1001, 1003, 1007, 1008, 1009, 1013}
REPLY_TIMEOUT_S = 30.0  # generous: a busy machine


class LogWatch(logging.Handler):
    """Every record with a traceback, or at ERROR and above, from any logger of this process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR or "Traceback" in record.getMessage():
            self.bad.append(f"{record.name} {record.levelname}: {record.getMessage()[:300]}")


@pytest.fixture(scope="module")
def log_watch() -> Iterator[LogWatch]:
    watch = LogWatch()
    root, uvicorn = logging.getLogger(), logging.getLogger("uvicorn")  # uvicorn's do not propagate
    for logger in (root, uvicorn):
        logger.addHandler(watch)
    previous = root.level
    root.setLevel(logging.INFO)
    yield watch
    for logger in (root, uvicorn):
        logger.removeHandler(watch)
    root.setLevel(previous)


class Canary:
    """One real call streaming at real time through the whole fuzz run, and its agent's sidebar
    (which gets every final, however late a busy machine decodes the last ones)."""

    def __init__(self, server: LiveServer, audio: np.ndarray) -> None:
        self.result, self.sidebar = StreamResult(), StreamResult()
        self.call_id = f"canary-{uuid.uuid4().hex[:8]}"
        self.thread = threading.Thread(target=asyncio.run, args=(self._run(server, audio),), name="canary", daemon=True)
        self.thread.start()

    async def _run(self, server: LiveServer, audio: np.ndarray) -> None:
        stop, connected = asyncio.Event(), asyncio.Event()
        watcher = asyncio.create_task(watch_sidebar(server.sidebar_url("canary-agent"), self.sidebar, stop, connected))
        await asyncio.wait_for(connected.wait(), 60)
        url = f"{server.ws}/native"
        await stream_native(url, audio, call_id=self.call_id, agent_id="canary-agent", result=self.result, linger_s=120)
        deadline = asyncio.get_running_loop().time() + 240
        while not self.sidebar.of_type("call_ended") and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await watcher


@pytest.fixture(scope="module")
def canary(live_server: LiveServer, shared_data: Path, log_watch: LogWatch) -> Canary:
    calls = sorted((shared_data / "calls").glob("*.flac"))
    audio, rate = sf.read(calls[0], dtype="float32")
    assert rate == 16000
    return Canary(live_server, audio[: int(CANARY_S * 16000)])


def healthy(server: LiveServer) -> None:
    response = httpx.get(f"{server.http}/healthz", timeout=REPLY_TIMEOUT_S)
    assert response.status_code == 200


def exchange(
    url: str, frames: list[str | bytes], headers: dict[str, str] | None = None
) -> tuple[list[Any], int | None]:
    """Send the frames, then read until the server closes or goes quiet; the replies and the
    close code (None: still open, closed by us)."""
    replies: list[Any] = []
    try:
        with connect(url, additional_headers=headers, open_timeout=REPLY_TIMEOUT_S, close_timeout=10) as ws:
            try:
                for frame in frames:
                    ws.send(frame)
                while True:
                    raw = ws.recv(timeout=0.3)
                    replies.append(json.loads(raw))
            except TimeoutError:
                return replies, None
            except ConnectionClosed:
                return replies, ws.close_code
    except InvalidStatus as refused:
        assert refused.response.status_code < 500, refused.response.status_code
        return replies, refused.response.status_code


def check_close(code: int | None) -> None:
    assert code is None or code in PROTOCOL_CLOSES or 400 <= code < 500, f"closed with {code}"


def check_errors_have_reasons(replies: list[Any]) -> None:
    for reply in replies:
        if isinstance(reply, dict) and reply.get("type") == "error":
            assert reply.get("reason"), reply


frames = st.one_of(st.binary(max_size=2000), st.text(max_size=200))
native_messages = objects(["start", "stop", "pause", "resume", "ping", "feedback"], "type").map(json.dumps)
twilio_messages = objects(["connected", "start", "media", "stop", "dtmf", "mark"], "event").map(json.dumps)
audiohook_messages = objects(["open", "close", "ping", "pause", "resume", "update", "discarded"], "type").map(
    lambda m: json.dumps({"version": "2", "id": str(uuid.uuid4()), "seq": 1, "position": "PT0S", **m})
)
viewer_messages = st.one_of(objects(["ping", "feedback"], "type").map(json.dumps), st.text(max_size=100))
VALID_START = json.dumps(
    {"type": "start", "call_id": "fuzz", "audio": {"encoding": "l16", "rate_hz": 16000, "channels": 2}}
)


@FUZZ
@given(st.lists(st.one_of(native_messages, frames), max_size=6), st.booleans())
def test_native(live_server: LiveServer, canary: Canary, sequence: list[str | bytes], started: bool) -> None:
    replies, code = exchange(f"{live_server.ws}/native", ([VALID_START] if started else []) + sequence)
    check_close(code)
    check_errors_have_reasons(replies)
    healthy(live_server)


@FUZZ
@given(st.lists(st.one_of(twilio_messages, st.text(max_size=200)), max_size=6))
def test_twilio(live_server: LiveServer, canary: Canary, sequence: list[str]) -> None:
    _, code = exchange(f"{live_server.ws}/twilio", list(sequence))
    check_close(code)
    healthy(live_server)


@FUZZ
@given(st.lists(st.one_of(audiohook_messages, frames), max_size=6), st.sampled_from([AUDIOHOOK_KEY, "wrong", "é"]))
def test_audiohook(live_server: LiveServer, canary: Canary, sequence: list[str | bytes], key: str) -> None:
    headers = {
        "X-API-KEY": key,
        "Audiohook-Session-Id": str(uuid.uuid4()),
        "Audiohook-Organization-Id": str(uuid.uuid4()),
    }
    replies, code = exchange(f"{live_server.ws}/audiohook", list(sequence), headers)
    check_close(code)
    for reply in replies:  # AudioHook answers in AudioHook: versioned, typed messages
        assert isinstance(reply, dict) and "type" in reply and "version" in reply, reply
    healthy(live_server)


@FUZZ
@given(st.lists(viewer_messages, max_size=6), st.sampled_from(["agent", "supervisor", "forged", "none"]))
def test_viewer_sockets(live_server: LiveServer, canary: Canary, sequence: list[str], who: str) -> None:
    if who == "agent":
        url = live_server.sidebar_url("canary-agent")
    elif who == "supervisor":
        url = live_server.supervisor_url()
    else:
        url = f"{live_server.ws}/ws/sidebar?agent=canary-agent" + ("&ticket=tk1.forged" if who == "forged" else "")
    replies, code = exchange(url, list(sequence))
    check_close(code)
    if who in ("agent", "supervisor"):
        assert code is None, "bad messages get an error reply, not a hang-up"
        check_errors_have_reasons(replies)
    else:
        assert code is not None and code in (403, 1008)
    healthy(live_server)


paths = st.sampled_from(
    [
        "/api/calls",
        "/api/calls/{id}",
        "/api/calls/{id}/export",
        "/api/calls/{id}/note",
        "/api/calls/by-platform-id/{id}",
        "/api/qa/agents",
        "/api/live/calls",
        "/api/live/calls/{id}",
        "/api/live/calls/{id}/transfer",
        "/api/kb",
        "/api/ticket",
        "/api/openapi.json",
        "/sidebar",
        "/{id}",
    ]
)
query_keys = st.sampled_from(["q", "limit", "offset", "since", "until", "agent", "format", "status", "tag", "before"])
ids = st.one_of(st.text(max_size=30), st.sampled_from(["canary", "..", "%00", "' OR 1=1 --", "a" * 300]))


@FUZZ
@given(
    paths,
    ids,
    st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    st.dictionaries(query_keys, st.text(max_size=20), max_size=4),
    st.sampled_from(["qa", "supervisor", "agent", "garbage", "none"]),
    st.one_of(st.none(), json_values.map(json.dumps), st.binary(max_size=200)),
)
def test_http_api(
    live_server: LiveServer,
    canary: Canary,
    path: str,
    ident: str,
    method: str,
    query: dict[str, str],
    who: str,
    body: str | bytes | None,
) -> None:
    tokens = {
        "qa": live_server.qa_token,
        "supervisor": live_server.supervisor_token,
        "agent": live_server.agent_token("canary-agent"),
        "garbage": "é中\t" + "x" * 5000,
    }
    if who in ("qa", "supervisor") and (method == "DELETE" or path == "/api/kb"):
        who = "agent"  # the canary's stored call stays; a knowledge-base reload is tested elsewhere
    # Raw bytes: a non-ASCII token goes on the wire as it would from a hostile client.
    headers = {"Authorization": f"Bearer {tokens[who]}".encode()} if who in tokens else {}
    url = live_server.http + path.replace("{id}", quote(ident, safe="") or "x")
    with httpx.Client(timeout=REPLY_TIMEOUT_S) as http:
        response = http.request(method, url, params=query, headers=headers, content=body)
    assert response.status_code < 500, (method, path, response.status_code, response.text[:200])
    if response.headers.get("content-type", "").startswith("application/json") and response.status_code >= 400:
        assert "error" in response.json()
    healthy(live_server)


def test_the_canary_call_kept_its_transcript_and_nothing_was_logged_as_an_error(
    live_server: LiveServer, canary: Canary, log_watch: LogWatch
) -> None:
    canary.thread.join(CANARY_S * 4 + 600)
    assert not canary.thread.is_alive(), "the canary call did not finish"
    finals = [m for m in canary.sidebar.of_type("final") if m.get("text")]
    assert canary.result.close_code == 1000, (canary.result.close_code, canary.result.close_reason)
    ended = canary.sidebar.of_type("call_ended")
    assert ended and ended[0]["reason"] == "completed", "the canary call was not ended cleanly"
    assert len(finals) >= 4, f"the canary call's transcript has {len(finals)} finals"
    speakers = {m["speaker"] for m in finals}
    assert speakers == {"customer", "agent"}
    assert not log_watch.bad, "\n".join(log_watch.bad[:20])
