"""TwilioProtocol fed Twilio Media Streams messages as Twilio sends them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from assist.errors import ProtocolError
from assist.ingest.twilio import (
    MAX_PAYLOAD_BYTES,
    MAX_TEXT_CHARS,
    WIRE_FORMAT,
    Connected,
    Dtmf,
    Mark,
    Media,
    StreamStart,
    StreamStop,
    TwilioProtocol,
)

STREAM_SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL_SID = "CA5f0e8e3d7a5e6c2b1a0f9e8d7c6b5a41"
ACCOUNT_SID = "AC25e16e9a716a4a1786a7c83f58e30482"


class Twilio:
    def __init__(self) -> None:
        self.protocol = TwilioProtocol()
        self.sequence = 0

    def send(self, event: str, **body: Any):
        message: dict[str, Any] = {"event": event}
        if event != "connected":
            self.sequence += 1
            message["sequenceNumber"] = str(self.sequence)
            message["streamSid"] = STREAM_SID
        message.update(body)
        return self.protocol.receive_text(json.dumps(message))

    def connect(self):
        return self.send("connected", protocol="Call", version="1.0.0")

    def start(self, **start: Any):
        body: dict[str, Any] = {
            "accountSid": ACCOUNT_SID,
            "streamSid": STREAM_SID,
            "callSid": CALL_SID,
            "tracks": ["inbound", "outbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"caller": "+15551234567", "agentId": "agent-7", "language": "es"},
        }
        body.update(start)
        return self.send("start", start=body)

    def media(self, payload: bytes = b"\xff" * 160, track: str = "inbound", timestamp: str = "20", **extra: Any):
        media = {"track": track, "chunk": "1", "timestamp": timestamp, "payload": base64.b64encode(payload).decode()}
        media.update(extra)
        return self.send("media", media=media)


def streaming() -> Twilio:
    twilio = Twilio()
    twilio.connect()
    twilio.start()
    return twilio


def test_wire_format_is_mulaw_8k_mono():
    assert (WIRE_FORMAT.encoding, WIRE_FORMAT.rate_hz, WIRE_FORMAT.channels) == ("pcmu", 8000, 1)


def test_connected():
    assert Twilio().connect() == Connected()


def test_start_gives_stream_start():
    twilio = Twilio()
    twilio.connect()
    start = twilio.start()
    assert start == StreamStart(
        stream_sid=STREAM_SID,
        call_sid=CALL_SID,
        account_sid=ACCOUNT_SID,
        tracks=("inbound", "outbound"),
        caller_number="+15551234567",
        agent_id="agent-7",
        language="es",
        custom_parameters={"caller": "+15551234567", "agentId": "agent-7", "language": "es"},
    )
    assert twilio.protocol.state == "streaming"
    assert twilio.protocol.stream_sid == STREAM_SID


def test_start_without_connected_is_fine():
    assert isinstance(Twilio().start(), StreamStart)


def test_start_defaults():
    twilio = Twilio()
    start = twilio.start(customParameters=None, tracks=None, mediaFormat=None)
    assert start.tracks == ("inbound",)
    assert start.caller_number is None
    assert start.agent_id is None
    assert start.language == "en"
    assert start.custom_parameters == {}


def test_start_caller_from_twilio_from_parameter_and_values_become_strings():
    start = Twilio().start(customParameters={"From": "+15550001111", "agent_id": 42})
    assert start.caller_number == "+15550001111"
    assert start.agent_id == "42"
    assert start.custom_parameters == {"From": "+15550001111", "agent_id": "42"}


def test_stream_sid_from_the_envelope_when_start_lacks_it():
    twilio = Twilio()
    start = twilio.send("start", start={"callSid": CALL_SID, "accountSid": ACCOUNT_SID})
    assert start.stream_sid == STREAM_SID


@pytest.mark.parametrize("call_sid", [None, "", 12])
def test_start_needs_a_call_sid(call_sid):
    twilio = Twilio()
    body = {"callSid": call_sid} if call_sid is not None else {}
    with pytest.raises(ProtocolError, match="callSid"):
        twilio.send("start", start={"streamSid": STREAM_SID, **body})


@pytest.mark.parametrize(
    "media_format",
    [
        {"encoding": "audio/x-l16", "sampleRate": 8000, "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1},
        {"encoding": "audio/x-alaw", "sampleRate": 8000, "channels": 1},
    ],
)
def test_non_mulaw_media_format_is_unsupported_data(media_format):
    with pytest.raises(ProtocolError) as caught:
        Twilio().start(mediaFormat=media_format)
    assert caught.value.code == 1003
    assert "audio/x-mulaw" in caught.value.reason


def test_start_needs_an_object():
    with pytest.raises(ProtocolError, match="start"):
        Twilio().send("start", start="now")


def test_custom_parameters_must_be_an_object():
    with pytest.raises(ProtocolError, match="customParameters"):
        Twilio().start(customParameters=["caller"])


def test_start_twice_fails():
    twilio = streaming()
    with pytest.raises(ProtocolError, match="twice"):
        twilio.start()


# -- media ----------------------------------------------------------------------------------------


def test_inbound_media_is_the_customer():
    twilio = streaming()
    audio = bytes(range(160))
    assert twilio.media(audio, track="inbound", timestamp="5") == Media("customer", audio, 5)


def test_outbound_media_is_the_agent():
    twilio = streaming()
    audio = b"\x7f" * 160
    media = twilio.media(audio, track="outbound", timestamp="140")
    assert media == Media("agent", audio, 140)


@pytest.mark.parametrize(("track", "speaker"), [("inbound_track", "customer"), ("outbound_track", "agent")])
def test_track_suffix_is_accepted(track, speaker):
    assert streaming().media(track=track).speaker == speaker


def test_media_track_defaults_to_inbound():
    twilio = streaming()
    message = {"event": "media", "media": {"payload": base64.b64encode(b"\xff").decode()}}
    assert twilio.protocol.receive_text(json.dumps(message)).speaker == "customer"


def test_media_sequence_numbers_may_be_missing_or_skip_ahead():
    twilio = streaming()
    twilio.sequence += 5
    assert isinstance(twilio.media(), Media)


@pytest.mark.parametrize("payload", ["!!!!", "abc", "QQ", "aGVsbG8=\n!"])
def test_bad_base64_payload_fails(payload):
    twilio = streaming()
    with pytest.raises(ProtocolError, match="base64"):
        twilio.send("media", media={"track": "inbound", "timestamp": "0", "payload": payload})


@pytest.mark.parametrize("payload", [None, 123])
def test_missing_payload_fails(payload):
    twilio = streaming()
    with pytest.raises(ProtocolError, match="payload"):
        twilio.send("media", media={"track": "inbound", "payload": payload})


def test_oversize_payload_fails():
    twilio = streaming()
    with pytest.raises(ProtocolError, match=str(MAX_PAYLOAD_BYTES)):
        twilio.media(b"\xff" * (MAX_PAYLOAD_BYTES + 1))


def test_payload_at_the_limit_is_accepted():
    assert len(streaming().media(b"\xff" * MAX_PAYLOAD_BYTES).payload) == MAX_PAYLOAD_BYTES


def test_unknown_track_fails():
    with pytest.raises(ProtocolError, match="track"):
        streaming().media(track="sideways")


def test_bad_timestamp_fails():
    with pytest.raises(ProtocolError, match="timestamp"):
        streaming().media(timestamp="soon")


@pytest.mark.parametrize("timestamp", [float("inf"), float("-inf"), -20])
def test_infinite_or_negative_timestamp_fails_cleanly(timestamp: float) -> None:
    with pytest.raises(ProtocolError, match="timestamp"):
        streaming().media(timestamp=timestamp)  # json.dumps writes Infinity, which json.loads takes


def test_infinite_sequence_number_fails_cleanly():
    twilio = streaming()
    with pytest.raises(ProtocolError, match="sequenceNumber"):
        twilio.protocol.receive_text(json.dumps({"event": "media", "sequenceNumber": float("inf")}))


def test_media_needs_an_object():
    twilio = streaming()
    with pytest.raises(ProtocolError, match="media"):
        twilio.send("media", media="AAAA")


@pytest.mark.parametrize("prelude", [[], ["connected"]])
def test_media_before_start_fails(prelude):
    twilio = Twilio()
    if prelude:
        twilio.connect()
    with pytest.raises(ProtocolError, match="before 'start'"):
        twilio.media()


def test_sequence_number_going_backwards_fails():
    twilio = streaming()  # start was sequence 1
    twilio.media()  # 2
    twilio.media()  # 3
    twilio.sequence = 1
    with pytest.raises(ProtocolError, match="sequenceNumber"):
        twilio.media()  # 2 again


def test_repeated_sequence_number_fails():
    twilio = streaming()
    twilio.media()
    twilio.sequence -= 1
    with pytest.raises(ProtocolError, match="sequenceNumber"):
        twilio.media()


def test_non_numeric_sequence_number_fails():
    twilio = streaming()
    message = {"event": "media", "sequenceNumber": "two", "media": {"payload": ""}}
    with pytest.raises(ProtocolError, match="sequenceNumber"):
        twilio.protocol.receive_text(json.dumps(message))


# -- stop, dtmf, mark, other events ---------------------------------------------------------------


def test_stop_then_anything_fails():
    twilio = streaming()
    twilio.media()
    stop = {"accountSid": ACCOUNT_SID, "callSid": CALL_SID}
    assert twilio.send("stop", stop=stop) == StreamStop()
    assert twilio.protocol.state == "stopped"
    with pytest.raises(ProtocolError, match="after 'stop'"):
        twilio.media()
    with pytest.raises(ProtocolError, match="after 'stop'"):
        twilio.send("stop", stop={})
    with pytest.raises(ProtocolError, match="after 'stop'"):
        twilio.send("dtmf", dtmf={"track": "inbound_track", "digit": "1"})
    with pytest.raises(ProtocolError, match="after 'stop'"):
        twilio.send("somethingNew")
    with pytest.raises(ProtocolError):
        twilio.start()


def test_stop_before_start_fails():
    with pytest.raises(ProtocolError, match="before 'start'"):
        Twilio().send("stop", stop={})


def test_dtmf_is_parsed():
    twilio = streaming()
    assert twilio.send("dtmf", dtmf={"track": "inbound_track", "digit": "7"}) == Dtmf("7")
    assert twilio.send("dtmf", dtmf={"track": "inbound_track", "digit": "#"}) == Dtmf("#")


def test_mark_is_parsed():
    twilio = streaming()
    assert twilio.send("mark", mark={"name": "greeting-done"}) == Mark("greeting-done")


@pytest.mark.parametrize(("event", "key"), [("dtmf", "dtmf"), ("mark", "mark")])
def test_dtmf_and_mark_need_objects(event, key):
    twilio = streaming()
    with pytest.raises(ProtocolError, match=key):
        twilio.send(event, **{key: "x"})


def test_unknown_event_is_ignored():
    twilio = streaming()
    assert twilio.send("clear") is None
    assert twilio.send("someFutureEvent", someFutureEvent={"x": 1}) is None
    assert isinstance(twilio.media(), Media)


# -- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{nope", "", "[1,"])
def test_malformed_json_fails(text):
    with pytest.raises(ProtocolError, match="malformed JSON"):
        TwilioProtocol().receive_text(text)


@pytest.mark.parametrize("text", ["[]", "1", '{"event": 5}', '{"type": "start"}', "null"])
def test_message_without_string_event_fails(text):
    with pytest.raises(ProtocolError, match="event"):
        TwilioProtocol().receive_text(text)


def test_too_long_text_fails():
    text = json.dumps({"event": "mark", "mark": {"name": "x" * MAX_TEXT_CHARS}})
    with pytest.raises(ProtocolError, match="exceeds"):
        TwilioProtocol().receive_text(text)


def test_protocol_errors_default_to_policy_violation_code():
    with pytest.raises(ProtocolError) as caught:
        TwilioProtocol().receive_text("{nope")
    assert caught.value.code == 1008


def test_oversized_custom_parameters_are_refused():
    with pytest.raises(ProtocolError, match="longer than 256"):
        Twilio().start(customParameters={"caller": "9" * 60_000})
    with pytest.raises(ProtocolError, match="custom parameters"):
        Twilio().start(customParameters={f"p{i}": "v" for i in range(40)})
