"""Websocket clients that stream a stereo recording to a running server the way each platform
does: our native protocol, Genesys AudioHook (PCMU 8 kHz stereo, 200 ms frames) and Twilio
Media Streams (two µ-law tracks, 20 ms). Used by the end-to-end tests and the benchmark."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soxr
import websockets

from assist.audio.codec import AudioFormat, encode_pcm
from assist.ingest.audiohook import format_duration

Listener = Callable[[dict[str, Any], float], None]
FrameSent = Callable[[float], None]  # called with the seconds of audio just sent


@dataclass
class StreamResult:
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (seconds since start, msg)
    close_code: int | None = None
    close_reason: str = ""
    started_at: float = 0.0  # perf_counter() at the start
    started_wall: float = 0.0  # time.time() at the same moment: wall clock = started_wall + seconds since start
    sent: list[tuple[float, float]] = field(default_factory=list)  # (audio position s, seconds since start)

    def of_type(self, *kinds: str) -> list[dict[str, Any]]:
        return [m for _, m in self.messages if m.get("type") in kinds]

    def start_clock(self) -> None:
        self.started_at, self.started_wall = time.perf_counter(), time.time()

    def mark_sent(self, position_s: float) -> None:
        """Audio up to ``position_s`` (call time) has just been sent."""
        self.sent.append((position_s, time.perf_counter() - self.started_at))


def to_rate(audio16: np.ndarray, rate_hz: int) -> np.ndarray:
    return audio16 if rate_hz == 16000 else soxr.resample(audio16, 16000, rate_hz).astype(np.float32)


async def _pace(started: float, position_s: float, speed: float) -> None:
    if speed <= 0:
        await asyncio.sleep(0)
        return
    delay = started + position_s / speed - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def stream_native(
    url: str,
    audio16: np.ndarray,
    *,
    call_id: str,
    caller_number: str | None = None,
    agent_id: str | None = None,
    language: str = "en",
    rate_hz: int = 16000,
    frame_ms: int = 100,
    speed: float = 1.0,
    token: str | None = None,
    linger_s: float = 10.0,
    on_frame: FrameSent | None = None,
    result: StreamResult | None = None,
    on_message: Listener | None = None,
) -> StreamResult:
    """Stream interleaved stereo L16; collect every event until the server ends the call
    (``on_message`` sees each as it arrives)."""
    result = result or StreamResult()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    audio = to_rate(audio16, rate_hz)
    fmt = AudioFormat("l16", rate_hz, audio.shape[1])
    frame = int(rate_hz * frame_ms / 1000)
    async with websockets.connect(url, additional_headers=headers, max_size=2**22) as ws:
        result.start_clock()
        reader = asyncio.create_task(_collect(ws, result, on_message))
        await ws.send(
            json.dumps(
                {
                    "type": "start",
                    "call_id": call_id,
                    "caller_number": caller_number,
                    "agent_id": agent_id,
                    "language": language,
                    "audio": {"encoding": "l16", "rate_hz": rate_hz, "channels": fmt.channels},
                }
            )
        )
        for index, begin in enumerate(range(0, len(audio), frame)):
            await _pace(result.started_at, index * frame_ms / 1000, speed)
            chunk = audio[begin : begin + frame]
            await ws.send(encode_pcm(chunk, fmt))
            result.mark_sent((begin + len(chunk)) / rate_hz)
            if on_frame is not None:
                on_frame(len(chunk) / rate_hz)
        await ws.send(json.dumps({"type": "stop"}))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(reader, linger_s)
    result.close_code, result.close_reason = ws.close_code, ws.close_reason or ""
    return result


async def _collect(ws: Any, result: StreamResult, on_message: Listener | None = None) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for raw in ws:
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            at = time.perf_counter() - result.started_at
            result.messages.append((at, message))
            if on_message:
                on_message(message, at)


# -- Genesys AudioHook ------------------------------------------------------------------------------


@dataclass
class AudioHookClient:
    """Plays the Genesys side of AudioHook v2: open, 200 ms PCMU stereo frames, ping, close."""

    url: str
    api_key: str
    organization_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0
    serverseq: int = 0
    position_s: float = 0.0

    def headers(self) -> dict[str, str]:
        return {
            "Audiohook-Organization-Id": self.organization_id,
            "Audiohook-Session-Id": self.session_id,
            "Audiohook-Correlation-Id": str(uuid.uuid4()),
            "X-API-KEY": self.api_key,
        }

    def message(self, kind: str, parameters: dict[str, Any] | None = None) -> str:
        self.seq += 1
        return json.dumps(
            {
                "version": "2",
                "id": self.session_id,
                "type": kind,
                "seq": self.seq,
                "serverseq": self.serverseq,
                "position": format_duration(self.position_s),
                "parameters": parameters or {},
            }
        )

    def open_message(
        self,
        *,
        conversation_id: str,
        ani: str | None,
        language: str = "en-US",
        custom_config: dict[str, Any] | None = None,
        channels: int = 2,
    ) -> str:
        media = {"type": "audio", "format": "PCMU", "channels": ["external", "internal"][:channels], "rate": 8000}
        return self.message(
            "open",
            {
                "organizationId": self.organization_id,
                "conversationId": conversation_id,
                "participant": {"id": str(uuid.uuid4()), "ani": ani or "", "aniName": "", "dnis": "+18005550100"},
                "media": [media],
                "language": language,
                "customConfig": custom_config or {},
            },
        )

    async def stream(
        self,
        audio16: np.ndarray,
        *,
        conversation_id: str | None = None,
        ani: str | None = None,
        agent_id: str | None = None,
        language: str = "en-US",
        speed: float = 1.0,
        frame_ms: int = 200,
        linger_s: float = 10.0,
        on_frame: FrameSent | None = None,
        result: StreamResult | None = None,
        hold_until: Callable[[StreamResult], bool] | None = None,
        hold_max_s: float = 60.0,
    ) -> StreamResult:
        """Stream the call; ``hold_until``: after the audio, keep the line open (silence and pings,
        as a platform does while the parties are quiet) until it holds or ``hold_max_s`` passes."""
        result = result or StreamResult()
        audio = to_rate(audio16, 8000)
        fmt = AudioFormat("pcmu", 8000, audio.shape[1])
        frame = 8000 * frame_ms // 1000
        closed = asyncio.Event()

        def track(message: dict[str, Any], _: float) -> None:
            self.serverseq = max(self.serverseq, int(message.get("seq", 0)))
            if message.get("type") == "closed":
                closed.set()

        async with websockets.connect(self.url, additional_headers=self.headers(), max_size=2**22) as ws:
            result.start_clock()
            reader = asyncio.create_task(_collect(ws, result, track))
            await ws.send(
                self.open_message(
                    conversation_id=conversation_id or str(uuid.uuid4()),
                    ani=ani,
                    language=language,
                    custom_config={"agentId": agent_id} if agent_id else None,
                    channels=audio.shape[1],
                )
            )
            for index, begin in enumerate(range(0, len(audio), frame)):
                await _pace(result.started_at, index * frame_ms / 1000, speed)
                chunk = audio[begin : begin + frame]
                await ws.send(encode_pcm(chunk, fmt))
                self.position_s += frame_ms / 1000
                result.mark_sent((begin + len(chunk)) / 8000)
                if on_frame is not None:
                    on_frame(len(chunk) / 8000)
                if index % 25 == 24:  # a ping every 5 s, as Genesys does
                    await ws.send(self.message("ping"))
            if hold_until is not None:
                silence = encode_pcm(np.zeros((frame, audio.shape[1]), np.float32), fmt)
                deadline = time.perf_counter() + hold_max_s
                while not hold_until(result) and time.perf_counter() < deadline:
                    await asyncio.sleep(frame_ms / 1000)
                    await ws.send(silence)
                    self.position_s += frame_ms / 1000
            await ws.send(self.message("close", {"reason": "end"}))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(closed.wait(), linger_s)
            await ws.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader, 2.0)
        result.close_code, result.close_reason = ws.close_code, ws.close_reason or ""
        return result


# -- Twilio Media Streams -----------------------------------------------------------------------------


async def stream_twilio(
    url: str,
    audio16: np.ndarray,
    *,
    call_sid: str,
    caller_number: str | None = None,
    agent_id: str | None = None,
    speed: float = 1.0,
    token: str | None = None,
) -> StreamResult:
    """Both tracks as Twilio sends them: 20 ms µ-law chunks, inbound (caller) and outbound."""
    result = StreamResult()
    audio = to_rate(audio16, 8000)
    fmt = AudioFormat("pcmu", 8000, 1)
    stream_sid = "MZ" + uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {token}"} if token else None
    sequence = 0

    def event(kind: str, **body: Any) -> str:
        nonlocal sequence
        sequence += 1
        return json.dumps({"event": kind, "sequenceNumber": str(sequence), "streamSid": stream_sid, **body})

    params = {k: v for k, v in (("caller", caller_number), ("agentId", agent_id)) if v}
    async with websockets.connect(url, additional_headers=headers) as ws:
        result.started_at = time.perf_counter()
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(
            event(
                "start",
                start={
                    "streamSid": stream_sid,
                    "accountSid": "AC" + uuid.uuid4().hex,
                    "callSid": call_sid,
                    "tracks": ["inbound", "outbound"],
                    "customParameters": params,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            )
        )
        for index, begin in enumerate(range(0, len(audio), 160)):
            await _pace(result.started_at, index * 0.02, speed)
            for channel, track in enumerate(("inbound", "outbound")):
                payload = base64.b64encode(encode_pcm(audio[begin : begin + 160, channel], fmt)).decode()
                await ws.send(
                    event(
                        "media",
                        media={
                            "track": track,
                            "chunk": str(index + 1),
                            "timestamp": str(index * 20),
                            "payload": payload,
                        },
                    )
                )
        await ws.send(event("stop", stop={"accountSid": "AC", "callSid": call_sid}))
        with contextlib.suppress(websockets.ConnectionClosed, asyncio.TimeoutError):
            await asyncio.wait_for(ws.wait_closed(), 10)
    result.close_code, result.close_reason = ws.close_code, ws.close_reason or ""
    return result


async def watch_sidebar(
    url: str, result: StreamResult, stop: asyncio.Event, connected: asyncio.Event | None = None
) -> None:
    """Collect what an agent's sidebar receives until ``stop`` is set (``connected`` is set once
    the socket is open)."""
    async with websockets.connect(url, max_size=2**22) as ws:
        if not result.started_at:
            result.start_clock()
        reader = asyncio.create_task(_collect(ws, result))
        if connected is not None:
            connected.set()
        await stop.wait()
        reader.cancel()
