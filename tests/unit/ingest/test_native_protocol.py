"""NativeProtocol: the start message, tagged and interleaved audio, and every way to break it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assist.audio.codec import AudioFormat
from assist.errors import ProtocolError
from assist.ingest.native import (
    CLOSE_UNSUPPORTED_DATA,
    MAX_TEXT_CHARS,
    Audio,
    Feedback,
    NativeProtocol,
    Ping,
    Start,
    Stop,
)


def start_message(**overrides: Any) -> str:
    message: dict[str, Any] = {
        "type": "start",
        "call_id": "call-1",
        "caller_number": "+15551234567",
        "agent_id": "agent-7",
        "language": "en",
        "audio": {"encoding": "l16", "rate_hz": 16000, "channels": 2},
    }
    message.update(overrides)
    return json.dumps({k: v for k, v in message.items() if v is not ...})


def started(channels: int = 2) -> NativeProtocol:
    protocol = NativeProtocol()
    audio = {"encoding": "l16", "rate_hz": 16000, "channels": channels}
    protocol.receive_text(start_message(audio=audio))
    return protocol


# -- start ----------------------------------------------------------------------------------------


def test_stereo_start_is_untagged():
    protocol = NativeProtocol()
    start = protocol.receive_text(start_message())
    assert start == Start(
        call_id="call-1",
        caller_number="+15551234567",
        agent_id="agent-7",
        language="en",
        format=AudioFormat("l16", 16000, 2),
        tagged=False,
    )
    assert protocol.state == "streaming"
    assert protocol.start is start


def test_start_defaults():
    start = NativeProtocol().receive_text(json.dumps({"type": "start", "call_id": "c"}))
    assert start.format == AudioFormat("l16", 16000, 2)
    assert start.tagged is False
    assert start.language == "en"
    assert start.caller_number is None and start.agent_id is None


@pytest.mark.parametrize(
    ("audio", "fmt"),
    [
        ({"encoding": "pcmu", "rate_hz": 8000, "channels": 1}, AudioFormat("pcmu", 8000, 1)),
        ({"encoding": "pcma", "rate_hz": 8000, "channels": 2}, AudioFormat("pcma", 8000, 2)),
        ({"encoding": "l16", "rate_hz": 8000, "channels": 1}, AudioFormat("l16", 8000, 1)),
    ],
)
def test_other_supported_formats(audio, fmt):
    start = NativeProtocol().receive_text(start_message(audio=audio))
    assert start.format == fmt
    assert start.tagged is (fmt.channels == 1)


def test_stereo_frames_pass_through_untagged():
    protocol = started(2)
    frame = b"\x01\x00\x02\x00" * 10
    assert protocol.receive_bytes(frame) == Audio(frame, None)


def test_mono_frames_are_tagged_by_the_first_byte():
    protocol = started(1)
    assert protocol.start is not None and protocol.start.tagged
    assert protocol.receive_bytes(b"\x00" + b"\x10\x20" * 4) == Audio(b"\x10\x20" * 4, "customer")
    assert protocol.receive_bytes(b"\x01" + b"\x30\x40" * 4) == Audio(b"\x30\x40" * 4, "agent")


def test_tagged_frame_with_only_the_speaker_byte_has_empty_audio():
    assert started(1).receive_bytes(b"\x01") == Audio(b"", "agent")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"call_id": ...}, "call_id"),
        ({"call_id": ""}, "call_id"),
        ({"call_id": 7}, "call_id"),
        ({"call_id": "x" * 201}, "call_id"),
        ({"audio": {"encoding": "l16", "rate_hz": 44100, "channels": 2}}, "audio.rate_hz"),
        ({"audio": {"encoding": "opus", "rate_hz": 16000, "channels": 2}}, "audio.encoding"),
        ({"audio": {"encoding": "l16", "rate_hz": 16000, "channels": 3}}, "audio.channels"),
        ({"audio": {"encoding": "l16", "rate_hz": 16000, "channels": 2, "bits": 16}}, "audio.bits"),
        ({"audio": "l16"}, "audio"),
        ({"codec": "l16"}, "codec"),
        ({"language": "e"}, "language"),
        ({"caller_number": "1" * 65}, "caller_number"),
    ],
)
def test_invalid_start_names_the_field(overrides, field):
    protocol = NativeProtocol()
    with pytest.raises(ProtocolError) as caught:
        protocol.receive_text(start_message(**overrides))
    assert caught.value.reason.startswith("invalid 'start'")
    assert f"{field}:" in caught.value.reason
    assert caught.value.code == CLOSE_UNSUPPORTED_DATA
    assert protocol.state == "awaiting_start"


def test_start_can_be_retried_after_an_invalid_one():
    protocol = NativeProtocol()
    with pytest.raises(ProtocolError):
        protocol.receive_text(start_message(call_id=""))
    assert isinstance(protocol.receive_text(start_message()), Start)


def test_second_start_fails():
    protocol = started()
    with pytest.raises(ProtocolError, match="twice"):
        protocol.receive_text(start_message(call_id="call-2"))
    assert protocol.start is not None and protocol.start.call_id == "call-1"


# -- audio errors ---------------------------------------------------------------------------------


def test_audio_before_start_fails():
    with pytest.raises(ProtocolError, match="before 'start'"):
        NativeProtocol().receive_bytes(b"\x00\x00")


def test_audio_after_stop_fails():
    protocol = started()
    assert protocol.receive_text('{"type": "stop"}') == Stop()
    assert protocol.state == "stopped"
    with pytest.raises(ProtocolError, match="after 'stop'"):
        protocol.receive_bytes(b"\x00\x00\x00\x00")


def test_empty_tagged_frame_fails():
    with pytest.raises(ProtocolError, match="speaker byte"):
        started(1).receive_bytes(b"")


@pytest.mark.parametrize("speaker_byte", [2, 3, 255])
def test_unknown_speaker_byte_fails(speaker_byte):
    with pytest.raises(ProtocolError, match=f"speaker byte {speaker_byte}"):
        started(1).receive_bytes(bytes([speaker_byte]) + b"\x00\x00")


# -- other messages -------------------------------------------------------------------------------


def test_unknown_type_fails():
    with pytest.raises(ProtocolError, match="unknown message type 'dance'"):
        started().receive_text('{"type": "dance"}')


def test_unknown_type_before_start_fails():
    with pytest.raises(ProtocolError, match="before 'start'"):
        NativeProtocol().receive_text('{"type": "dance"}')


def test_ping_any_time():
    protocol = NativeProtocol()
    assert protocol.receive_text('{"type": "ping"}') == Ping()
    protocol.receive_text(start_message())
    assert protocol.receive_text('{"type": "ping"}') == Ping()
    protocol.receive_text('{"type": "stop"}')
    assert protocol.receive_text('{"type": "ping"}') == Ping()


def test_stop_before_start_fails():
    with pytest.raises(ProtocolError, match="before 'start'"):
        NativeProtocol().receive_text('{"type": "stop"}')


def test_anything_but_ping_after_stop_fails():
    protocol = started()
    protocol.receive_text('{"type": "stop"}')
    for kind in ("stop", "start", "feedback", "dance"):
        with pytest.raises(ProtocolError, match="after stop"):
            protocol.receive_text(json.dumps({"type": kind}))


def test_feedback():
    protocol = started()
    message = {"type": "feedback", "card_id": "card-9", "action": "used"}
    assert protocol.receive_text(json.dumps(message)) == Feedback("card-9", "used")


@pytest.mark.parametrize(
    "message",
    [
        {"type": "feedback"},
        {"type": "feedback", "card_id": 9, "action": "used"},
        {"type": "feedback", "card_id": "card-9"},
    ],
)
def test_feedback_needs_strings(message):
    with pytest.raises(ProtocolError, match="card_id"):
        started().receive_text(json.dumps(message))


def test_feedback_before_start_fails():
    message = {"type": "feedback", "card_id": "card-9", "action": "used"}
    with pytest.raises(ProtocolError, match="before 'start'"):
        NativeProtocol().receive_text(json.dumps(message))


@pytest.mark.parametrize("text", ["{nope", "", '{"type": "ping"'])
def test_malformed_json_fails(text):
    with pytest.raises(ProtocolError, match="JSON"):
        NativeProtocol().receive_text(text)


@pytest.mark.parametrize("text", ["[]", "3", "null", '{"type": 1}', '{"kind": "ping"}'])
def test_non_object_or_typeless_message_fails(text):
    with pytest.raises(ProtocolError, match="'type'"):
        NativeProtocol().receive_text(text)


def test_too_long_text_fails():
    text = json.dumps({"type": "ping", "pad": "x" * MAX_TEXT_CHARS})
    with pytest.raises(ProtocolError, match=str(MAX_TEXT_CHARS)):
        NativeProtocol().receive_text(text)
