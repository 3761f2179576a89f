"""The native protocol (ours): bytes and text in, typed actions out. No sockets here.

Client → server, in order:
  text   {"type": "start", "call_id": ..., "caller_number": ..., "agent_id": ..., "language": "en",
          "audio": {"encoding": "l16", "rate_hz": 16000, "channels": 2}}
  binary audio: interleaved stereo (channel 0 customer, 1 agent) when channels == 2; with
         channels == 1 every frame starts with one byte naming the speaker (0 customer, 1 agent)
  text   {"type": "ping"} at any time; {"type": "stop"} to end the call
Server → client: {"type": "started", "call_id": ...}, then the events of assist.messages
(interim, final, suggestion, offer, signal, ...), {"type": "pong"}, {"type": "error", ...},
and last {"type": "call_ended"} before the server closes with code 1000.
The full reference with examples is docs/protocol.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assist.audio.codec import AudioFormat
from assist.errors import ProtocolError, UnsupportedFormatError
from assist.events import SPEAKERS, Speaker

MAX_TEXT_CHARS = 65_536
CLOSE_PROTOCOL_ERROR = 1008  # policy violation
CLOSE_UNSUPPORTED_DATA = 1003


class AudioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    encoding: Literal["l16", "pcmu", "pcma"] = "l16"
    rate_hz: Literal[8000, 16000] = 16000
    channels: Literal[1, 2] = 2


class StartMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["start"]
    call_id: str = Field(min_length=1, max_length=200)
    caller_number: str | None = Field(None, max_length=64)
    agent_id: str | None = Field(None, max_length=200)
    language: str = Field("en", min_length=2, max_length=16)
    audio: AudioSpec = AudioSpec()


@dataclass(frozen=True, slots=True)
class Start:
    call_id: str
    caller_number: str | None
    agent_id: str | None
    language: str
    format: AudioFormat  # of one binary frame's audio (without the speaker byte)
    tagged: bool  # mono frames each prefixed with a speaker byte


@dataclass(frozen=True, slots=True)
class Audio:
    data: bytes
    speaker: Speaker | None  # None: interleaved stereo, channel 0 customer / 1 agent


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Stop:
    pass


@dataclass(frozen=True, slots=True)
class Feedback:
    """Agent feedback sent over the call connection (a softphone with a built-in sidebar)."""

    card_id: str
    action: str


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop listening (e.g. while the customer reads out a card number): audio sent until
    ``resume`` is dropped, never transcribed, never stored."""


@dataclass(frozen=True, slots=True)
class Resume:
    pass


Action = Start | Audio | Ping | Stop | Feedback | Pause | Resume


class NativeProtocol:
    """State machine of one native connection: awaiting start → streaming → stopped."""

    def __init__(self) -> None:
        self.state: Literal["awaiting_start", "streaming", "stopped"] = "awaiting_start"
        self.start: Start | None = None

    def receive_text(self, text: str) -> Action:
        if len(text) > MAX_TEXT_CHARS:
            raise ProtocolError(f"text message of {len(text)} characters; at most {MAX_TEXT_CHARS}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ProtocolError(f"malformed JSON: {error.msg} at position {error.pos}") from error
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise ProtocolError("each text message must be a JSON object with a string 'type'")
        kind = data["type"]
        if kind == "ping":
            return Ping()
        if self.state == "stopped":
            raise ProtocolError(f"'{kind}' after stop")
        if kind == "start":
            if self.state != "awaiting_start":
                raise ProtocolError("'start' sent twice")
            return self._start(data)
        if self.state == "awaiting_start":
            raise ProtocolError(f"'{kind}' before 'start'")
        if kind == "stop":
            self.state = "stopped"
            return Stop()
        if kind == "pause":
            return Pause()
        if kind == "resume":
            return Resume()
        if kind == "feedback":
            card_id, action = data.get("card_id"), data.get("action")
            if not isinstance(card_id, str) or not isinstance(action, str):
                raise ProtocolError("'feedback' needs string 'card_id' and 'action'")
            return Feedback(card_id, action)
        raise ProtocolError(f"unknown message type {kind!r}")

    def _start(self, data: dict[str, object]) -> Start:
        try:
            message = StartMessage.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
            raise ProtocolError(f"invalid 'start': {problems}", code=CLOSE_UNSUPPORTED_DATA) from error
        try:
            fmt = AudioFormat(message.audio.encoding, message.audio.rate_hz, message.audio.channels)
        except UnsupportedFormatError as error:
            raise ProtocolError(str(error), code=CLOSE_UNSUPPORTED_DATA) from error
        self.state = "streaming"
        self.start = Start(
            call_id=message.call_id,
            caller_number=message.caller_number,
            agent_id=message.agent_id,
            language=message.language,
            format=fmt,
            tagged=fmt.channels == 1,
        )
        return self.start

    def receive_bytes(self, data: bytes) -> Audio:
        if self.state != "streaming" or self.start is None:
            raise ProtocolError("audio before 'start'" if self.state == "awaiting_start" else "audio after 'stop'")
        if not self.start.tagged:
            return Audio(data, None)
        if not data:
            raise ProtocolError("empty audio frame: mono frames start with a speaker byte")
        if data[0] >= len(SPEAKERS):
            raise ProtocolError(f"speaker byte {data[0]}; use 0 (customer) or 1 (agent)")
        return Audio(data[1:], SPEAKERS[data[0]])
