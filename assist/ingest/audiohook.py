"""Genesys Cloud AudioHook v2, server side: the session state machine, with no sockets.

Feed it the client's text and binary messages; it answers with actions for the async layer
(messages to send, a call to open, audio to decode, a pause, a close) and builds every server
message with the right ``seq``/``clientseq``. Facts follow Genesys' public reference
implementation (purecloudlabs/audiohook-reference-implementation); see docs/protocol.md.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from assist.audio.codec import AudioFormat
from assist.errors import ProtocolError
from assist.events import Speaker

VERSION = "2"
NULL_UUID = "00000000-0000-0000-0000-000000000000"
MAX_TEXT_CHARS = 65_535
MAX_FIELD_CHARS = 256  # participant fields, language: what we store and show stays bounded
MAX_CUSTOM_CONFIG_CHARS = 4096
SPEAKER_OF_CHANNEL: dict[str, Speaker] = {"external": "customer", "internal": "agent"}
_DURATION_RE = re.compile(r"^PT(\d*\.?\d+)S$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

State = Literal["awaiting_open", "active", "paused", "closing", "closed", "disconnecting"]


def format_duration(seconds: float) -> str:
    """ISO-8601 duration as AudioHook writes it: ``PT1.25S``."""
    text = f"{max(0.0, seconds):.3f}".rstrip("0").rstrip(".")
    return f"PT{text or '0'}S"


def parse_duration(value: object) -> float:
    if not isinstance(value, str) or not (match := _DURATION_RE.match(value)):
        raise ProtocolError(f"invalid duration {value!r} (expected e.g. 'PT1.5S')")
    return float(match.group(1))


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID_RE.match(value))


# -- actions for the async layer ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """A server message to send now (``opened``, ``pong``, ``closed``, ``disconnect``)."""

    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpenCall:
    conversation_id: str
    organization_id: str
    participant: dict[str, Any]
    language: str
    custom_config: dict[str, Any]
    format: AudioFormat
    speakers: tuple[Speaker, ...]  # by channel index, as selected
    probe: bool  # a connection probe: answer, but open no call

    @property
    def ani(self) -> str | None:
        value = self.participant.get("ani")
        return value or None


@dataclass(frozen=True, slots=True)
class AudioFrame:
    data: bytes


@dataclass(frozen=True, slots=True)
class Paused:
    pass


@dataclass(frozen=True, slots=True)
class Resumed:
    discarded_s: float


@dataclass(frozen=True, slots=True)
class CloseRequested:
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """A protocol violation: the disconnect to send is in ``reply``; the call must end."""

    reply: Reply
    info: str


Action = Reply | OpenCall | AudioFrame | Paused | Resumed | CloseRequested | Failed


@dataclass
class _Timeline:
    """Maps our audio time (what we received) to the client's position (which also counts
    paused and discarded audio), so offsets we send back line up with Genesys' recording."""

    breakpoints: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 0.0)])

    def skip(self, at_stream_s: float, skipped_s: float) -> None:
        offset = self.breakpoints[-1][1] + skipped_s
        self.breakpoints.append((at_stream_s, offset))

    def platform_s(self, stream_s: float) -> float:
        offset = 0.0
        for at, value in self.breakpoints:
            if stream_s >= at:
                offset = value
        return stream_s + offset


class AudioHookProtocol:
    def __init__(self, session_id: str, organization_id: str) -> None:
        self.session_id = session_id
        self.organization_id = organization_id
        self.state: State = "awaiting_open"
        self.seq = 0  # last server seq sent
        self.clientseq = 0  # last client seq received
        self.format: AudioFormat | None = None
        self.speakers: tuple[Speaker, ...] = ()
        self.received_s = 0.0
        self.timeline = _Timeline()
        self.probe = False
        self.media: dict[str, Any] = {}

    # -- outgoing ---------------------------------------------------------------------------

    def message(self, kind: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """A server message with the next seq. Build it at the moment of sending."""
        self.seq += 1
        return {
            "version": VERSION,
            "id": self.session_id,
            "type": kind,
            "seq": self.seq,
            "clientseq": self.clientseq,
            "parameters": parameters or {},
        }

    def disconnect(self, reason: Literal["completed", "unauthorized", "error"], info: str) -> Reply:
        self.state = "disconnecting"
        return Reply(self.message("disconnect", {"reason": reason, "info": info[:1000]}))

    def opened(self) -> Reply:
        """Accept the session offered by 'open' (with the media chosen from its offer)."""
        return Reply(self.message("opened", {"media": [self.media], "startPaused": False}))

    def closed(self) -> Reply:
        self.state = "closed"
        return Reply(self.message("closed"))

    @property
    def can_send_events(self) -> bool:
        return self.state in ("active", "paused", "closing") and not self.probe

    def channel_of(self, speaker: Speaker) -> int:
        return self.speakers.index(speaker)

    # -- incoming ---------------------------------------------------------------------------

    def receive_text(self, text: str) -> list[Action]:
        try:
            return self._receive_text(text)
        except ProtocolError as error:
            return [self._fail(f"Client Error: {error.reason}")]

    def receive_bytes(self, data: bytes) -> list[Action]:
        if self.state == "disconnecting":
            return []  # frames already in flight when we said goodbye: not the client's fault
        if self.state == "paused":
            return [self._fail("Client Error: audio received while paused")]
        if self.state != "active" or self.format is None:
            return [self._fail(f"Client Error: audio received in state {self.state}")]
        if len(data) % self.format.bytes_per_frame:
            return [self._fail(f"Client Error: audio frame of {len(data)} bytes is not whole samples")]
        self.received_s += self.format.duration_s(len(data))
        if self.probe:
            return []  # a probe may send an empty frame; nothing to hear
        return [AudioFrame(data)]

    def _fail(self, info: str) -> Failed:
        if self.state == "disconnecting":
            return Failed(Reply({}), info)  # already told the client once
        return Failed(self.disconnect("error", info), info)

    def _receive_text(self, text: str) -> list[Action]:
        if len(text) > MAX_TEXT_CHARS:
            raise ProtocolError(f"message of {len(text)} characters exceeds {MAX_TEXT_CHARS}")
        try:
            message = json.loads(text)
        except json.JSONDecodeError as error:
            raise ProtocolError(f"malformed JSON: {error.msg}") from error
        if not isinstance(message, dict):
            raise ProtocolError("message is not a JSON object")
        self._check_envelope(message)
        kind = message["type"]
        params = message["parameters"]
        if kind == "ping":
            return [Reply(self.message("pong"))]
        if kind == "error":
            return []  # the client reports a problem; it will close or carry on
        if kind == "close":
            if self.state in ("closing", "closed"):
                raise ProtocolError("'close' sent twice")
            self.state = "closing"
            return [CloseRequested(str(params.get("reason", "end")))]
        if self.state == "disconnecting":
            return []  # after our disconnect only 'close' matters
        if kind == "open":
            return self._open(params)
        if self.state == "awaiting_open":
            raise ProtocolError(f"'{kind}' before 'open'")
        if kind == "paused":
            if self.state != "active":
                raise ProtocolError("'paused' while not active")
            self.state = "paused"
            return [Paused()]
        if kind in ("resumed", "discarded"):
            discarded_s = parse_duration(params.get("discarded"))
            parse_duration(params.get("start"))
            if kind == "resumed":
                if self.state != "paused":
                    raise ProtocolError("'resumed' while not paused")
                self.state = "active"
            self.timeline.skip(self.received_s, discarded_s)
            return [Resumed(discarded_s)]
        if kind == "update":
            return []  # e.g. a language change; the call keeps its recogniser
        raise ProtocolError(f"unknown message type {kind!r}")

    def _check_envelope(self, message: dict[str, Any]) -> None:
        if message.get("version") != VERSION:
            raise ProtocolError(f"unsupported version {message.get('version')!r}; expected '2'")
        if not isinstance(message.get("type"), str):
            raise ProtocolError("missing 'type'")
        seq = message.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ProtocolError("missing or non-integer 'seq'")
        if seq != self.clientseq + 1:
            raise ProtocolError(f"seq {seq} out of order (expected {self.clientseq + 1})")
        serverseq = message.get("serverseq")
        if not isinstance(serverseq, int) or serverseq > self.seq or serverseq < 0:
            raise ProtocolError(f"invalid serverseq {serverseq!r} (last server seq {self.seq})")
        if message.get("id") != self.session_id:
            raise ProtocolError("message id is not this session's id")
        if not isinstance(message.get("parameters"), dict):
            raise ProtocolError("'parameters' must be an object")
        if "position" in message:
            parse_duration(message["position"])
        self.clientseq = seq

    def _open(self, params: dict[str, Any]) -> list[Action]:
        if self.state != "awaiting_open":
            raise ProtocolError("'open' sent twice")
        conversation_id = params.get("conversationId")
        organization_id = params.get("organizationId")
        if not is_uuid(conversation_id) or not is_uuid(organization_id):
            raise ProtocolError("'open' needs UUID conversationId and organizationId")
        if organization_id != self.organization_id:
            self.state = "disconnecting"
            return [
                Failed(
                    Reply(
                        self.message(
                            "disconnect",
                            {"reason": "unauthorized", "info": "organizationId does not match the upgrade headers"},
                        )
                    ),
                    "organization mismatch",
                )
            ]
        participant = params.get("participant") or {}
        if not isinstance(participant, dict):
            raise ProtocolError("'participant' must be an object")
        for key, value in participant.items():
            if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
                raise ProtocolError(f"'participant.{key}' must be a string of at most {MAX_FIELD_CHARS} characters")
        language = params.get("language")
        if language is not None and (not isinstance(language, str) or not 0 < len(language) <= 32):
            raise ProtocolError("'language' must be a language tag")
        custom_config = params.get("customConfig")
        if custom_config is not None and len(json.dumps(custom_config)) > MAX_CUSTOM_CONFIG_CHARS:
            raise ProtocolError(f"'customConfig' is larger than {MAX_CUSTOM_CONFIG_CHARS} characters")
        offered = params.get("media")
        if not isinstance(offered, list) or not offered:
            raise ProtocolError("'open' offers no media")
        chosen = _choose_media(offered)
        if chosen is None:
            return [
                self._fail(
                    "Client Error: no offered media is supported (PCMU or L16 at 8000 Hz, channels external/internal)"
                )
            ]
        media, fmt, speakers = chosen
        self.format, self.speakers = fmt, speakers
        self.probe = conversation_id == NULL_UUID
        self.state = "active"
        language = params.get("language") or "en-US"
        self.media = media
        custom = params.get("customConfig") if isinstance(params.get("customConfig"), dict) else {}
        # No 'opened' yet: the server first decides whether it takes the call (``opened`` or
        # ``disconnect``).
        return [
            OpenCall(
                conversation_id=str(conversation_id),
                organization_id=str(organization_id),
                participant=participant,
                language=str(language),
                custom_config=custom or {},
                format=fmt,
                speakers=speakers,
                probe=self.probe,
            ),
        ]


def _choose_media(offered: list[Any]) -> tuple[dict[str, Any], AudioFormat, tuple[Speaker, ...]] | None:
    """Prefer stereo (both speakers), then PCMU (what Genesys sends by default)."""
    candidates = []
    for media in offered:
        if not isinstance(media, dict) or media.get("type") != "audio":
            continue
        encoding = {"PCMU": "pcmu", "L16": "l16"}.get(str(media.get("format")))
        channels = media.get("channels")
        rate = media.get("rate")
        if encoding is None or rate not in (8000, 16000) or not isinstance(channels, list):
            continue
        if not 1 <= len(channels) <= 2 or any(c not in SPEAKER_OF_CHANNEL for c in channels):
            continue
        if len(set(channels)) != len(channels):
            continue
        fmt = AudioFormat(encoding, rate, len(channels))  # type: ignore[arg-type]
        speakers = tuple(SPEAKER_OF_CHANNEL[c] for c in channels)
        rank = (len(channels) == 2, encoding == "pcmu")
        candidates.append((rank, media, fmt, speakers))
    if not candidates:
        return None
    _, media, fmt, speakers = max(candidates, key=lambda c: c[0])
    return media, fmt, speakers


def transcript_entity(protocol: AudioHookProtocol, message: dict[str, Any], *, language: str) -> dict[str, Any] | None:
    """An assist transcript message (interim or final) as an AudioHook ``transcript`` entity."""
    speaker = message.get("speaker")
    if speaker not in protocol.speakers or not message.get("text"):
        return None
    start_s = float(message["start_s"])
    end_s = float(message["end_s"])
    words = message.get("words") or []
    tokens = [
        {
            "type": "word",
            "value": w["text"],
            "confidence": w["confidence"],
            "offset": format_duration(protocol.timeline.platform_s(w["start_s"])),
            "duration": format_duration(max(0.0, w["end_s"] - w["start_s"])),
            "language": language,
        }
        for w in words
    ]
    interpretation: dict[str, Any] = {"type": "display", "transcript": message["text"]}
    if tokens:
        interpretation["tokens"] = tokens
    entity_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{message.get('call_id')}/{speaker}/{message.get('utterance_id')}")
    return {
        "type": "transcript",
        "data": {
            "id": str(entity_id),
            "channelId": protocol.channel_of(speaker),
            "isFinal": message.get("type") == "final",
            "offset": format_duration(protocol.timeline.platform_s(start_s)),
            "duration": format_duration(end_s - start_s),
            "alternatives": [
                {
                    "confidence": float(message.get("confidence", 0.5)),
                    "languages": [language],
                    "interpretations": [interpretation],
                }
            ],
        },
    }
