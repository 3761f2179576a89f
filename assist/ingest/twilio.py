"""Twilio Media Streams: JSON text frames in, typed actions out. No sockets.

Both speakers arrive only with ``<Start><Stream track="both_tracks">``: ``inbound`` is the
caller (customer), ``outbound`` what Twilio plays to the caller, i.e. the agent. Each ``media``
carries ~20 ms of base64 µ-law at 8 kHz. ``customParameters`` (from ``<Parameter>``) may name
the caller and the agent: ``caller``/``From`` and ``agentId``, and the call ``language``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from assist.audio.codec import AudioFormat
from assist.errors import ProtocolError
from assist.events import Speaker

MAX_TEXT_CHARS = 65_536
MAX_FIELD_CHARS = 256  # each custom parameter and id: what we store and show stays bounded
MAX_PARAMETERS = 32
MAX_PAYLOAD_BYTES = 16_000  # 2 s of µ-law: far above Twilio's 20 ms frames
TRACK_SPEAKER: dict[str, Speaker] = {"inbound": "customer", "outbound": "agent"}
WIRE_FORMAT = AudioFormat("pcmu", 8000, 1)


@dataclass(frozen=True, slots=True)
class Connected:
    pass


@dataclass(frozen=True, slots=True)
class StreamStart:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    caller_number: str | None
    agent_id: str | None
    language: str
    custom_parameters: dict[str, str]


@dataclass(frozen=True, slots=True)
class Media:
    speaker: Speaker
    payload: bytes  # µ-law 8 kHz mono
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Mark:
    name: str


@dataclass(frozen=True, slots=True)
class StreamStop:
    pass


Action = Connected | StreamStart | Media | Dtmf | Mark | StreamStop


class TwilioProtocol:
    def __init__(self) -> None:
        self.state: Literal["connecting", "streaming", "stopped"] = "connecting"
        self.stream_sid: str | None = None
        self.last_sequence = 0

    def receive_text(self, text: str) -> Action | None:
        if len(text) > MAX_TEXT_CHARS:
            raise ProtocolError(f"message of {len(text)} characters exceeds {MAX_TEXT_CHARS}")
        try:
            message = json.loads(text)
        except json.JSONDecodeError as error:
            raise ProtocolError(f"malformed JSON: {error.msg}") from error
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            raise ProtocolError("each message must be a JSON object with a string 'event'")
        event = message["event"]
        self._check_sequence(message)
        if event == "connected":
            return Connected()
        if event == "start":
            return self._start(message)
        if self.state == "connecting":
            raise ProtocolError(f"'{event}' before 'start'")
        if self.state == "stopped":
            raise ProtocolError(f"'{event}' after 'stop'")
        if event == "media":
            return self._media(message)
        if event == "stop":
            self.state = "stopped"
            return StreamStop()
        if event == "dtmf":
            return Dtmf(str(_object(message, "dtmf").get("digit", "")))
        if event == "mark":
            return Mark(str(_object(message, "mark").get("name", "")))
        return None  # Twilio may add events; ignoring unknown ones is what its docs ask

    def _check_sequence(self, message: dict[str, Any]) -> None:
        raw = message.get("sequenceNumber")
        if raw is None:
            return
        try:
            sequence = int(raw)
        except (TypeError, ValueError, OverflowError) as error:
            raise ProtocolError(f"invalid sequenceNumber {raw!r}") from error
        if sequence <= self.last_sequence:
            raise ProtocolError(f"sequenceNumber {sequence} not after {self.last_sequence}")
        self.last_sequence = sequence

    def _start(self, message: dict[str, Any]) -> StreamStart:
        if self.state != "connecting":
            raise ProtocolError("'start' sent twice")
        start = _object(message, "start")
        media_format = start.get("mediaFormat") or {}
        encoding = media_format.get("encoding", "audio/x-mulaw")
        rate = media_format.get("sampleRate", 8000)
        if encoding != "audio/x-mulaw" or rate != 8000:
            raise ProtocolError(
                f"unsupported media format {encoding} at {rate} Hz; expected audio/x-mulaw 8000", code=1003
            )
        params = start.get("customParameters") or {}
        if not isinstance(params, dict):
            raise ProtocolError("'customParameters' must be an object")
        params = {str(k): str(v) for k, v in params.items()}
        if len(params) > MAX_PARAMETERS:
            raise ProtocolError(f"{len(params)} custom parameters; at most {MAX_PARAMETERS}")
        for key, value in params.items():
            if len(key) > MAX_FIELD_CHARS or len(value) > MAX_FIELD_CHARS:
                raise ProtocolError(f"custom parameter {key[:40]!r} longer than {MAX_FIELD_CHARS} characters")
        call_sid = start.get("callSid")
        if not isinstance(call_sid, str) or not call_sid or len(call_sid) > MAX_FIELD_CHARS:
            raise ProtocolError("'start' needs a callSid (at most 256 characters)")
        tracks = tuple(str(t) for t in start.get("tracks") or ("inbound",))
        self.state = "streaming"
        self.stream_sid = str(start.get("streamSid") or message.get("streamSid") or "")
        return StreamStart(
            stream_sid=self.stream_sid,
            call_sid=call_sid,
            account_sid=str(start.get("accountSid", "")),
            tracks=tracks,
            caller_number=params.get("caller") or params.get("From") or params.get("from"),
            agent_id=params.get("agentId") or params.get("agent_id") or params.get("agent"),
            language=params.get("language", "en"),
            custom_parameters=params,
        )

    def _media(self, message: dict[str, Any]) -> Media:
        media = _object(message, "media")
        track = media.get("track", "inbound")
        speaker = TRACK_SPEAKER.get(str(track).removesuffix("_track"))
        if speaker is None:
            raise ProtocolError(f"unknown media track {track!r}")
        payload = media.get("payload")
        if not isinstance(payload, str):
            raise ProtocolError("'media' needs a base64 'payload'")
        try:
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ProtocolError("'media.payload' is not valid base64") from error
        if len(audio) > MAX_PAYLOAD_BYTES:
            raise ProtocolError(f"media payload of {len(audio)} bytes; at most {MAX_PAYLOAD_BYTES}")
        try:
            timestamp_ms = int(media.get("timestamp", 0))
        except (TypeError, ValueError, OverflowError) as error:
            raise ProtocolError("'media.timestamp' is not a finite number") from error
        if timestamp_ms < 0:
            raise ProtocolError("'media.timestamp' is negative")
        return Media(speaker, audio, timestamp_ms)


def _object(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"'{message.get('event')}' needs an object '{key}'")
    return value
