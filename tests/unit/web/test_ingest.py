"""The one ingest loop, driven through a real Starlette WebSocket over a scripted ASGI channel,
with the real call session, hub and call log around a scripted decoder and voice detector (no
model): the control plane answers while audio work is stuck, admission refuses in the
protocol's terms, AudioHook's ``closed`` does not wait for a final still decoding (which then
reaches the sidebar and the call log), and a client that vanishes is an ordinary end."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.websockets import WebSocket

from assist.access.gate import AccessGate
from assist.access.tokens import ROLES
from assist.audio.codec import AudioFormat, encode_pcm
from assist.calllog.recorder import CallRecorder
from assist.calllog.store import open_store
from assist.calls.admission import Admission
from assist.calls.desk import CallDesk
from assist.config import Settings
from assist.ingest.audiohook import AudioHookProtocol
from assist.live.bus import LocalBus
from assist.live.hub import SidebarHub
from assist.metrics import Metrics
from assist.services import Services
from assist.stt.engine import DecodeOutput
from assist.web.ingest import serve
from assist.web.ingest_audiohook import AudioHookAdapter
from assist.web.ingest_native import NativeAdapter
from tests.unit.ingest.test_audiohook_protocol import ORG, PCMU_STEREO, SESSION, Client
from tests.unit.stt.test_stream import LoudnessVad, _call
from tests.unit.stt.test_transcriber_revisions import FakeService, ScriptedEngine

WAIT_S = 10.0  # generous bound for hand-offs between tasks; never a timing assertion
FINAL = DecodeOutput("I lost my card.", -0.2, 0.01, 10.0, non_speech=False)


class StuckVad(LoudnessVad):
    """Voice detection that blocks until released (a starved thread pool, a slow CPU)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, windows, h, c):  # type: ignore[no-untyped-def]
        assert self.release.wait(WAIT_S * 3)
        return super().run(windows, h, c)


class HeldEngine(ScriptedEngine):
    """Finals wait until released: a tail decode still running when the platform closes."""

    def __init__(self) -> None:
        super().__init__(FINAL, FINAL)
        self.release_final = threading.Event()
        self.release_revision.set()

    def decode(self, items):  # type: ignore[no-untyped-def]
        if any(item.purpose == "final" for item in items):
            assert self.release_final.wait(WAIT_S * 3)
        return super().decode(items)


class Channel:
    """The ASGI side of one websocket: what the client sends in, what the server sent out."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.outgoing.put(message)

    def text(self, payload: dict[str, Any]) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(payload)})

    def bytes(self, payload: bytes) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "bytes": payload})

    def disconnect(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1006})

    async def next_sent(self, kind: str | None = None) -> dict[str, Any]:
        """The next server message (text frames parsed), skipping to ``kind`` when given."""
        while True:
            message = await asyncio.wait_for(self.outgoing.get(), WAIT_S)
            if message["type"] == "websocket.send":
                message = json.loads(message["text"])
            if kind is None or message.get("type") == kind:
                return message


@pytest.fixture
def make_services(tmp_path: Path) -> Iterator[Any]:
    made: list[Services] = []

    def make(engine: ScriptedEngine, vad: LoudnessVad | None = None, *, accepting: bool = True) -> Services:
        stt = FakeService(engine)
        if vad is not None:
            stt.vad = vad
        settings = Settings(secret_key="unit-test-secret-0123", kb_dir=None, data_dir=tmp_path, close_flush_s=0.2)
        live = LocalBus(SidebarHub(), "test")
        services: Services
        metrics = Metrics(lambda: stt.scheduler, lambda: live.hub)
        recorder = CallRecorder(lambda: open_store(f"sqlite:///{tmp_path / 'calls.db'}", tmp_path))
        desk = CallDesk(stt, live, recorder, metrics, Admission(4), node_id="test", accepting=accepting)
        access = AccessGate(settings.secret_key, {r: settings.role_token(r) for r in ROLES}, None)
        services = Services(
            settings=settings, stt=stt, live=live, metrics=metrics, recorder=recorder, desk=desk, access=access
        )
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


async def connect(services: Services, adapter: Any) -> tuple[Channel, asyncio.Task[None]]:
    channel = Channel()
    websocket = WebSocket({"type": "websocket", "path": "/", "headers": []}, channel.receive, channel.send)
    await websocket.accept()
    assert (await channel.outgoing.get())["type"] == "websocket.accept"
    return channel, asyncio.create_task(serve(websocket, services, adapter))


def speech_frames(seconds: float = 2.0) -> list[bytes]:
    """A loud burst then silence, as 100 ms native L16 16 kHz stereo frames."""
    mono = _call(silence_s=0.3, burst_s=seconds, tail_s=1.0)
    stereo = np.stack([mono, np.zeros_like(mono)], axis=1)
    data = encode_pcm(stereo, AudioFormat("l16", 16000, 2))
    step = 1600 * 2 * 2
    return [data[i : i + step] for i in range(0, len(data), step)]


def native_start(call_id: str = "c1") -> dict[str, Any]:
    return {"type": "start", "call_id": call_id, "agent_id": "a1", "audio": {"encoding": "l16", "rate_hz": 16000}}


async def test_pings_are_answered_while_voice_detection_is_stuck(make_services: Any) -> None:
    vad = StuckVad()
    services = make_services(ScriptedEngine(FINAL, FINAL), vad)
    channel, server = await connect(services, NativeAdapter())
    channel.text(native_start())
    assert (await channel.next_sent())["type"] == "started"
    for frame in speech_frames():
        channel.bytes(frame)
    channel.text({"type": "ping"})
    assert (await channel.next_sent("pong"))["type"] == "pong"  # VAD has not run a single window
    assert not vad.release.is_set()
    vad.release.set()
    channel.text({"type": "stop"})
    final = await channel.next_sent("final")
    assert final["text"] == "I lost my card."
    assert (await channel.next_sent("call_ended"))["reason"] == "completed"
    assert (await channel.next_sent("websocket.close"))["code"] == 1000
    await asyncio.wait_for(server, WAIT_S)


async def test_a_call_the_node_cannot_take_is_refused_in_the_protocol_s_terms(make_services: Any) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL), accepting=False)
    channel, server = await connect(services, NativeAdapter())
    channel.text(native_start())
    error = await channel.next_sent("error")
    assert error["fatal"] is True and "shutting down" in error["reason"]
    close = await channel.next_sent("websocket.close")
    assert close["code"] == 1013  # try again later (elsewhere)
    await asyncio.wait_for(server, WAIT_S)
    assert not services.desk.sessions


async def test_audiohook_refusal_answers_open_with_disconnect_then_closed(make_services: Any) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL), accepting=False)
    protocol = AudioHookProtocol(SESSION, ORG)
    channel, server = await connect(services, AudioHookAdapter(protocol, close_flush_s=0.2))
    client = Client(AudioHookProtocol(SESSION, ORG))
    client.protocol.seq = 0
    channel.text(client.envelope("open", open_parameters()))
    disconnect = await channel.next_sent()
    assert disconnect["type"] == "disconnect"  # never 'opened'
    assert disconnect["parameters"]["reason"] == "error" and "shutting down" in disconnect["parameters"]["info"]
    client.protocol.seq = disconnect["seq"]
    channel.bytes(b"\xff" * 1600)  # a frame already in flight: not a protocol error
    channel.text(client.envelope("close", {"reason": "disconnect"}))
    assert (await channel.next_sent())["type"] == "closed"
    channel.disconnect()
    await asyncio.wait_for(server, WAIT_S)
    assert services.metrics.errors.labels("protocol")._value.get() == 0


def open_parameters() -> dict[str, Any]:
    return {
        "organizationId": ORG,
        "conversationId": "090eaa2f-72fa-480a-83e0-8667ff89c0ec",
        "participant": {"id": "883efee8-3d6c-4537-b500-6d7ca4b92fa0", "ani": "+13175550000"},
        "media": [PCMU_STEREO],
        "language": "en-US",
    }


async def test_audiohook_closed_does_not_wait_for_a_final_still_decoding(make_services: Any) -> None:
    engine = HeldEngine()
    services = make_services(engine)
    sidebar = services.live.hub.subscribe_agent("unassigned")
    protocol = AudioHookProtocol(SESSION, ORG)
    channel, server = await connect(services, AudioHookAdapter(protocol, close_flush_s=0.2))
    client = Client(AudioHookProtocol(SESSION, ORG))
    channel.text(client.envelope("open", open_parameters()))
    opened = await channel.next_sent("opened")
    client.protocol.seq = opened["seq"]
    mono = _call(silence_s=0.3, burst_s=1.5, tail_s=0.2)
    stereo = np.stack([mono[::2], np.zeros_like(mono[::2])], axis=1)  # 8 kHz, customer left
    pcmu = encode_pcm(stereo, AudioFormat("pcmu", 8000, 2))
    for begin in range(0, len(pcmu), 1600):
        channel.bytes(pcmu[begin : begin + 1600])
    channel.text(client.envelope("close", {"reason": "end"}))
    closed = await channel.next_sent("closed")  # the final is still being decoded
    assert closed["type"] == "closed" and not engine.release_final.is_set()
    engine.release_final.set()
    channel.disconnect()
    await asyncio.wait_for(server, WAIT_S)
    seen = []
    while (message := await asyncio.wait_for(sidebar.get(), WAIT_S)) is not None:
        seen.append(message)
        if message["type"] == "call_ended":
            break
    assert [m["text"] for m in seen if m["type"] == "final"] == ["I lost my card."]  # the sidebar has it
    call_id = seen[0]["call_id"]
    stored = await services.recorder.read(lambda store: store.get_call(call_id))
    assert [u["text"] for u in stored["utterances"]] == ["I lost my card."]  # and the call log


async def test_a_client_that_vanishes_mid_call_is_an_ordinary_end(
    make_services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL))
    sidebar = services.live.hub.subscribe_agent("a1")
    channel, server = await connect(services, NativeAdapter())
    channel.text(native_start())
    await channel.next_sent("started")
    for frame in speech_frames(1.0):
        channel.bytes(frame)
    with caplog.at_level(logging.INFO):
        channel.disconnect()
        await asyncio.wait_for(server, WAIT_S)
    ended = None
    while (message := await asyncio.wait_for(sidebar.get(), WAIT_S)) is not None:
        if message["type"] == "call_ended":
            ended = message
            break
    assert ended is not None and ended["reason"] == "disconnected"
    assert not services.desk.sessions
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


async def test_a_connection_that_goes_silent_is_ended_and_frees_its_slot(make_services: Any) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL))
    services.settings = Settings(secret_key="unit-test-secret-0123", kb_dir=None, idle_call_timeout_s=0.3)
    channel, server = await connect(services, NativeAdapter())
    channel.text(native_start())
    await channel.next_sent("started")
    error = await channel.next_sent("error")  # nothing more is sent: the client went quiet
    assert error["fatal"] is True and "nothing received" in error["reason"]
    assert (await channel.next_sent("websocket.close"))["code"] == 1008
    await asyncio.wait_for(server, WAIT_S)
    assert not services.desk.sessions


async def test_a_wrong_feedback_action_gets_an_error_and_the_call_goes_on(make_services: Any) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL))
    channel, server = await connect(services, NativeAdapter())
    channel.text(native_start())
    await channel.next_sent("started")
    channel.text({"type": "feedback", "card_id": "c", "action": "<script>"})
    error = await channel.next_sent("error")
    assert error["fatal"] is False and "unknown feedback action" in error["reason"]
    channel.text({"type": "ping"})
    await channel.next_sent("pong")  # still serving
    channel.text({"type": "stop"})
    assert (await channel.next_sent("call_ended"))["reason"] == "completed"
    await asyncio.wait_for(server, WAIT_S)


async def test_input_a_parser_trips_on_is_a_protocol_error_not_a_crash(
    make_services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL))

    class Tripping(NativeAdapter):
        def steps(self, received):  # type: ignore[no-untyped-def]
            raise OverflowError("cannot convert float infinity to integer")

    channel, server = await connect(services, Tripping())
    channel.text({"type": "ping"})
    error = await channel.next_sent("error")
    assert "malformed message (OverflowError)" in error["reason"]
    await asyncio.wait_for(server, WAIT_S)
    assert "Traceback" not in caplog.text


def test_twilio_timestamps_ahead_of_the_clock_are_not_filled_with_silence() -> None:
    from assist.ingest import twilio
    from assist.web.ingest_twilio import TwilioAdapter

    now = [100.0]
    adapter = TwilioAdapter(clock=lambda: now[0])
    start = {"callSid": "CA1", "tracks": ["inbound", "outbound"], "streamSid": "MZ1"}
    adapter.steps({"text": json.dumps({"event": "start", "sequenceNumber": "1", "start": start})})
    payload = __import__("base64").b64encode(b"\xff" * 160).decode()

    def media(sequence: int, timestamp_ms: int) -> int:
        """How many steps the frame became: 2 when a gap before it was filled with silence."""
        message = {
            "event": "media",
            "sequenceNumber": str(sequence),
            "media": {"track": "inbound", "timestamp": timestamp_ms, "payload": payload},
        }
        steps = adapter.steps({"text": json.dumps(message)})
        return len(steps)

    assert media(2, 0) == 1
    now[0] += 1.0
    assert media(3, 1000) == 2  # a real 1 s gap: filled with silence
    assert media(4, 5900) == 1  # 4.9 s ahead of the clock: not filled
    assert twilio.WIRE_FORMAT.rate_hz == 8000


async def test_a_connection_that_never_starts_a_call_is_closed(make_services: Any) -> None:
    services = make_services(ScriptedEngine(FINAL, FINAL))
    services.settings = Settings(secret_key="unit-test-secret-0123", kb_dir=None, start_timeout_s=0.3)
    protocol = AudioHookProtocol(SESSION, ORG)
    channel, server = await connect(services, AudioHookAdapter(protocol, close_flush_s=0.2))
    close = await channel.next_sent("websocket.close")  # never sent 'open'
    assert close["code"] == 1008 and "nothing received" in close["reason"]
    await asyncio.wait_for(server, WAIT_S)
