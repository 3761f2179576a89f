"""AudioHookProtocol driven with JSON exactly as Genesys Cloud sends it (no sockets)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from assist.audio.codec import AudioFormat
from assist.errors import ProtocolError
from assist.ingest.audiohook import (
    MAX_TEXT_CHARS,
    NULL_UUID,
    AudioFrame,
    AudioHookProtocol,
    CloseRequested,
    Failed,
    OpenCall,
    Paused,
    Resumed,
    format_duration,
    parse_duration,
    transcript_entity,
)

SESSION = "30b0e395-84d3-4570-ac13-9a62d8f514c0"
ORG = "d7934305-0972-4844-938e-9060eef73d05"
CONVERSATION = "090eaa2f-72fa-480a-83e0-8667ff89c0ec"
PCMU_STEREO = {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}
PCMU_MONO_EXTERNAL = {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}
PCMU_MONO_INTERNAL = {"type": "audio", "format": "PCMU", "channels": ["internal"], "rate": 8000}
L16_STEREO = {"type": "audio", "format": "L16", "channels": ["external", "internal"], "rate": 8000}


class Client:
    """A Genesys-like client: numbers its messages and echoes the last server seq it saw."""

    def __init__(self, protocol: AudioHookProtocol) -> None:
        self.protocol = protocol
        self.seq = 0

    def envelope(self, kind: str, parameters: dict[str, Any] | None = None, **fields: Any) -> dict:
        self.seq += 1
        message: dict[str, Any] = {
            "version": "2",
            "id": SESSION,
            "type": kind,
            "seq": self.seq,
            "serverseq": self.protocol.seq,
            "position": "PT0S",
            "parameters": parameters if parameters is not None else {},
        }
        message.update(fields)
        return message

    def send(self, kind: str, parameters: dict[str, Any] | None = None, **fields: Any) -> list:
        return self.protocol.receive_text(json.dumps(self.envelope(kind, parameters, **fields)))

    def open(self, media: list[dict] | None = None, **overrides: Any) -> list:
        parameters: dict[str, Any] = {
            "organizationId": ORG,
            "conversationId": CONVERSATION,
            "participant": {
                "id": "883efee8-3d6c-4537-b500-6d7ca4b92fa0",
                "ani": "+13175550000",
                "aniName": "John Doe",
                "dnis": "+13175550001",
            },
            "media": media if media is not None else [PCMU_STEREO],
            "language": "en-US",
        }
        parameters.update(overrides)
        return self.send("open", parameters)


def new(*, org: str = ORG) -> tuple[AudioHookProtocol, Client]:
    protocol = AudioHookProtocol(SESSION, org)
    return protocol, Client(protocol)


def opened(media: list[dict] | None = None) -> tuple[AudioHookProtocol, Client]:
    """A session the server took: 'open' gives OpenCall, the server answers 'opened'."""
    protocol, client = new()
    actions = client.open(media)
    assert isinstance(actions[0], OpenCall)
    assert protocol.opened().message["type"] == "opened"
    return protocol, client


def only_failure(actions: list) -> Failed:
    assert len(actions) == 1, actions
    failure = actions[0]
    assert isinstance(failure, Failed), failure
    return failure


def assert_error_disconnect(actions: list) -> Failed:
    failure = only_failure(actions)
    message = failure.reply.message
    assert message["type"] == "disconnect"
    assert message["parameters"]["reason"] == "error"
    assert message["version"] == "2" and message["id"] == SESSION
    return failure


# -- open -----------------------------------------------------------------------------------------


def test_open_offers_the_call_and_the_server_answers_opened_once_it_takes_it():
    protocol, client = new()
    actions = client.open()
    assert len(actions) == 1  # no 'opened' until admission has said yes
    (call,) = actions
    reply = protocol.opened()
    assert reply.message == {
        "version": "2",
        "id": SESSION,
        "type": "opened",
        "seq": 1,
        "clientseq": 1,
        "parameters": {"media": [PCMU_STEREO], "startPaused": False},
    }
    assert isinstance(call, OpenCall)
    assert call.speakers == ("customer", "agent")
    assert call.ani == "+13175550000"
    assert call.language == "en-US"
    assert call.conversation_id == CONVERSATION
    assert call.organization_id == ORG
    assert call.format == AudioFormat("pcmu", 8000, 2)
    assert call.probe is False
    assert call.custom_config == {}
    assert protocol.state == "active"
    assert protocol.can_send_events


def test_open_keeps_custom_config_and_defaults_language():
    _, client = new()
    parameters = {"customConfig": {"queue": "billing"}}
    actions = client.open(**parameters, language=None)
    call = actions[0]
    assert call.custom_config == {"queue": "billing"}
    assert call.language == "en-US"


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ([L16_STEREO, PCMU_MONO_EXTERNAL, PCMU_STEREO], PCMU_STEREO),
        ([PCMU_MONO_EXTERNAL, L16_STEREO], L16_STEREO),  # stereo beats codec
        (
            [{"type": "audio", "format": "L16", "channels": ["internal"], "rate": 8000}, PCMU_MONO_INTERNAL],
            PCMU_MONO_INTERNAL,
        ),
        (
            [
                {"type": "audio", "format": "opus", "channels": ["external", "internal"], "rate": 8000},
                PCMU_MONO_EXTERNAL,
            ],
            PCMU_MONO_EXTERNAL,
        ),
    ],
)
def test_media_preference(offered, chosen):
    protocol, client = new()
    client.open(offered)
    assert protocol.opened().message["parameters"]["media"] == [chosen]


def test_mono_internal_channel_is_the_agent():
    protocol, client = new()
    (call,) = client.open([PCMU_MONO_INTERNAL])
    assert call.speakers == ("agent",)
    assert call.format == AudioFormat("pcmu", 8000, 1)
    assert protocol.channel_of("agent") == 0


def test_mono_external_channel_is_the_customer():
    _, client = new()
    (call,) = client.open([PCMU_MONO_EXTERNAL])
    assert call.speakers == ("customer",)


def test_reversed_stereo_channels_map_in_order():
    protocol, client = new()
    media = {"type": "audio", "format": "PCMU", "channels": ["internal", "external"], "rate": 8000}
    (call,) = client.open([media])
    assert call.speakers == ("agent", "customer")
    assert protocol.channel_of("customer") == 1


@pytest.mark.parametrize(
    "media",
    [
        {"type": "audio", "format": "opus", "channels": ["external", "internal"], "rate": 8000},
        {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 44100},
        {"type": "audio", "format": "PCMU", "channels": ["foo"], "rate": 8000},
        {"type": "audio", "format": "PCMU", "channels": ["external", "external"], "rate": 8000},
        {"type": "audio", "format": "PCMU", "channels": [], "rate": 8000},
        {"type": "video", "format": "PCMU", "channels": ["external"], "rate": 8000},
    ],
)
def test_unsupported_media_fails_with_error_disconnect(media):
    protocol, client = new()
    failure = assert_error_disconnect(client.open([media]))
    assert failure.reply.message["seq"] == 1
    assert failure.reply.message["clientseq"] == 1
    assert protocol.state == "disconnecting"


@pytest.mark.parametrize("media", [[], None, "PCMU"])
def test_open_without_media_list_fails(media):
    _, client = new()
    parameters = {"organizationId": ORG, "conversationId": CONVERSATION, "media": media}
    assert_error_disconnect(client.send("open", parameters))


def test_open_needs_uuid_ids():
    _, client = new()
    failure = assert_error_disconnect(client.open(conversationId="not-a-uuid"))
    assert "UUID" in failure.info


def test_open_twice_fails():
    _, client = opened()
    failure = assert_error_disconnect(client.open())
    assert "twice" in failure.info


def test_organization_mismatch_disconnects_unauthorized():
    protocol, client = new(org="11111111-2222-3333-4444-555555555555")
    failure = only_failure(client.open())
    message = failure.reply.message
    assert message["type"] == "disconnect"
    assert message["parameters"]["reason"] == "unauthorized"
    assert protocol.state == "disconnecting"
    assert not protocol.can_send_events


# -- connection probe -----------------------------------------------------------------------------


def test_connection_probe_opens_without_a_call_and_ignores_empty_audio():
    protocol, client = new()
    participant = {"id": NULL_UUID, "ani": "", "aniName": "", "dnis": ""}
    actions = client.open(conversationId=NULL_UUID, participant=participant)
    (call,) = actions
    assert protocol.opened().message["type"] == "opened"
    assert isinstance(call, OpenCall)
    assert call.probe is True
    assert call.ani is None
    assert protocol.probe is True
    assert not protocol.can_send_events
    assert protocol.receive_bytes(b"") == []
    close = client.send("close", {"reason": "end"})
    assert close == [CloseRequested("end")]
    assert protocol.closed().message["type"] == "closed"


# -- ping / sequence numbers ----------------------------------------------------------------------


def test_ping_gets_pong_with_clientseq_and_incrementing_seq():
    _, client = opened()
    for expected_seq in (2, 3, 4):
        actions = client.send("ping", {"rtt": "PT0.057S"})
        assert len(actions) == 1
        pong = actions[0].message
        assert pong["type"] == "pong"
        assert pong["clientseq"] == client.seq
        assert pong["seq"] == expected_seq
        assert pong["id"] == SESSION
        assert pong["parameters"] == {}


def test_ping_before_open_is_answered():
    _, client = new()
    (pong,) = client.send("ping")
    assert pong.message["seq"] == 1 and pong.message["clientseq"] == 1


def test_server_seq_increments_by_one_across_message_kinds():
    protocol, client = opened()
    seqs = [1]
    seqs.append(client.send("ping")[0].message["seq"])
    seqs.append(protocol.message("event", {"entities": []})["seq"])
    seqs.append(client.send("ping")[0].message["seq"])
    client.send("close", {"reason": "end"})
    seqs.append(protocol.closed().message["seq"])
    assert seqs == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("bad_seq", [3, 1, 0, -1])
def test_seq_gap_or_repeat_fails(bad_seq):
    protocol, client = opened()  # client seq 1 used by open
    message = client.envelope("ping")
    message["seq"] = bad_seq
    failure = assert_error_disconnect(protocol.receive_text(json.dumps(message)))
    assert "seq" in failure.info


def test_repeated_seq_after_several_messages_fails():
    protocol, client = opened()
    client.send("ping")
    message = client.envelope("ping")
    message["seq"] = client.seq - 1  # repeats the previous ping's seq
    failure = assert_error_disconnect(protocol.receive_text(json.dumps(message)))
    assert "seq" in failure.info and "out of order" in failure.info


@pytest.mark.parametrize("seq", ["1", 1.0, None, True])
def test_non_integer_seq_fails(seq):
    protocol, client = new()
    message = client.envelope("ping")
    message["seq"] = seq
    failure = assert_error_disconnect(protocol.receive_text(json.dumps(message)))
    assert "seq" in failure.info


def test_serverseq_ahead_of_server_fails():
    _, client = opened()  # server seq is 1
    failure = assert_error_disconnect(client.send("ping", serverseq=2))
    assert "serverseq" in failure.info


@pytest.mark.parametrize("serverseq", [-1, "0", None])
def test_invalid_serverseq_fails(serverseq):
    _, client = new()
    assert_error_disconnect(client.send("ping", serverseq=serverseq))


def test_serverseq_behind_server_is_fine():
    _, client = opened()
    client.send("ping")
    actions = client.send("ping", serverseq=1)  # the client has not seen the last pong yet
    assert actions[0].message["type"] == "pong"


def test_wrong_id_fails():
    _, client = opened()
    other_id = "5d2b3a25-0e0b-4b35-bf4a-b2f1a7f7d5a0"
    failure = assert_error_disconnect(client.send("ping", id=other_id))
    assert "id" in failure.info


@pytest.mark.parametrize("version", ["1", 2, None])
def test_wrong_version_fails(version):
    _, client = new()
    failure = assert_error_disconnect(client.send("open", version=version))
    assert "version" in failure.info


def test_missing_type_fails():
    protocol, client = new()
    message = client.envelope("ping")
    del message["type"]
    assert_error_disconnect(protocol.receive_text(json.dumps(message)))


def test_parameters_must_be_an_object():
    _, client = new()
    assert_error_disconnect(client.send("ping", parameters=[]))


def test_invalid_position_fails():
    _, client = opened()
    failure = assert_error_disconnect(client.send("ping", position="1.5"))
    assert "duration" in failure.info


@pytest.mark.parametrize("text", ["{not json", "", '{"version": "2",'])
def test_malformed_json_fails(text):
    protocol, _ = new()
    failure = assert_error_disconnect(protocol.receive_text(text))
    assert "JSON" in failure.info


@pytest.mark.parametrize("text", ["[]", "42", '"open"', "null"])
def test_non_object_json_fails(text):
    protocol, _ = new()
    failure = assert_error_disconnect(protocol.receive_text(text))
    assert "object" in failure.info


def test_text_longer_than_the_limit_fails():
    protocol, client = opened()
    message = client.envelope("ping", {"padding": ""})
    base = len(json.dumps(message))
    message["parameters"]["padding"] = "x" * (MAX_TEXT_CHARS + 1 - base)
    text = json.dumps(message)
    assert len(text) == MAX_TEXT_CHARS + 1
    failure = assert_error_disconnect(protocol.receive_text(text))
    assert str(MAX_TEXT_CHARS) in failure.info


def test_text_at_the_limit_is_accepted():
    protocol, client = opened()
    message = client.envelope("ping", {"padding": ""})
    message["parameters"]["padding"] = "x" * (MAX_TEXT_CHARS - len(json.dumps(message)))
    text = json.dumps(message)
    assert len(text) == MAX_TEXT_CHARS
    assert protocol.receive_text(text)[0].message["type"] == "pong"


def test_unknown_message_type_fails():
    _, client = opened()
    failure = assert_error_disconnect(client.send("dance"))
    assert "dance" in failure.info


def test_message_before_open_fails():
    _, client = new()
    failure = assert_error_disconnect(client.send("paused"))
    assert "before 'open'" in failure.info


def test_client_error_and_update_messages_are_accepted_silently():
    protocol, client = opened()
    assert client.send("error", {"code": 500, "message": "oops"}) == []
    assert client.send("update", {"language": "es-ES"}) == []
    assert protocol.state == "active"


def test_second_failure_sends_no_second_disconnect():
    protocol, client = opened()
    first = assert_error_disconnect(client.send("dance"))
    assert first.reply.message["type"] == "disconnect"
    second = only_failure(protocol.receive_text("not json"))
    assert second.reply.message == {}
    assert protocol.seq == 2  # opened + one disconnect


def test_audio_in_flight_after_our_disconnect_is_ignored_not_a_client_error():
    protocol, client = opened()
    assert_error_disconnect(client.send("dance"))
    assert protocol.receive_bytes(b"\xff" * 320) == []
    assert protocol.receive_bytes(b"\xff" * 3) == []  # whatever it is: the session is over


# -- audio ----------------------------------------------------------------------------------------


def test_audio_before_open_fails():
    protocol, _ = new()
    failure = assert_error_disconnect(protocol.receive_bytes(b"\xff" * 320))
    assert "awaiting_open" in failure.info


def test_audio_in_active_state_is_delivered_and_advances_received_time():
    protocol, _ = opened()
    frame = b"\xff" * 3200  # 200 ms of PCMU stereo at 8 kHz
    assert protocol.receive_bytes(frame) == [AudioFrame(frame)]
    assert protocol.received_s == pytest.approx(0.2)
    protocol.receive_bytes(frame)
    assert protocol.received_s == pytest.approx(0.4)


def test_pcmu_stereo_odd_length_fails():
    protocol, _ = opened()
    failure = assert_error_disconnect(protocol.receive_bytes(b"\xff" * 3201))
    assert "whole samples" in failure.info


@pytest.mark.parametrize("n_bytes", [1, 2, 3, 5, 6402])
def test_l16_stereo_frame_not_whole_samples_fails(n_bytes):
    protocol, _ = opened([L16_STEREO])
    assert protocol.format == AudioFormat("l16", 8000, 2)
    failure = assert_error_disconnect(protocol.receive_bytes(b"\x00" * n_bytes))
    assert "whole samples" in failure.info


def test_l16_stereo_whole_frame_is_accepted():
    protocol, _ = opened([L16_STEREO])
    frame = b"\x00" * 6400  # 200 ms
    assert protocol.receive_bytes(frame) == [AudioFrame(frame)]
    assert protocol.received_s == pytest.approx(0.2)


def test_audio_after_failure_gives_no_frame():
    protocol, client = opened()
    client.send("dance")
    actions = protocol.receive_bytes(b"\xff" * 320)
    assert not any(isinstance(a, AudioFrame) for a in actions)


# -- pause / resume / discarded ------------------------------------------------------------------


def test_pause_then_audio_fails():
    protocol, client = opened()
    assert client.send("paused") == [Paused()]
    assert protocol.state == "paused"
    assert protocol.can_send_events
    failure = assert_error_disconnect(protocol.receive_bytes(b"\xff" * 320))
    assert "paused" in failure.info


def test_paused_twice_fails():
    _, client = opened()
    client.send("paused")
    assert_error_disconnect(client.send("paused"))


def test_resumed_shifts_the_timeline_after_the_resume_point():
    protocol, client = opened()
    protocol.receive_bytes(b"\xff" * 3200)  # 0.2 s received
    assert client.send("paused", position="PT0.2S") == [Paused()]
    actions = client.send("resumed", {"start": "PT0.2S", "discarded": "PT2.5S"}, position="PT2.7S")
    assert actions == [Resumed(2.5)]
    assert protocol.state == "active"
    assert protocol.timeline.platform_s(0.1) == pytest.approx(0.1)
    assert protocol.timeline.platform_s(0.0) == pytest.approx(0.0)
    assert protocol.timeline.platform_s(0.2) == pytest.approx(2.7)
    assert protocol.timeline.platform_s(1.0) == pytest.approx(3.5)
    frame = b"\xff" * 3200
    assert protocol.receive_bytes(frame) == [AudioFrame(frame)]


def test_resumed_while_active_fails():
    _, client = opened()
    actions = client.send("resumed", {"start": "PT0S", "discarded": "PT1S"})
    failure = assert_error_disconnect(actions)
    assert "resumed" in failure.info


@pytest.mark.parametrize(
    "parameters",
    [{"start": "PT0S"}, {"discarded": "PT1S"}, {"start": "PT0S", "discarded": "1.5"}],
)
def test_resumed_needs_valid_durations(parameters):
    _, client = opened()
    client.send("paused")
    assert_error_disconnect(client.send("resumed", parameters))


def test_discarded_shifts_the_timeline_and_accumulates():
    protocol, client = opened()
    protocol.receive_bytes(b"\xff" * 1600)  # 0.1 s
    assert client.send("discarded", {"start": "PT0.1S", "discarded": "PT1.25S"}) == [Resumed(1.25)]
    assert protocol.state == "active"
    protocol.receive_bytes(b"\xff" * 1600)  # now 0.2 s
    client.send("discarded", {"start": "PT1.45S", "discarded": "PT0.75S"})
    assert protocol.timeline.platform_s(0.05) == pytest.approx(0.05)
    assert protocol.timeline.platform_s(0.15) == pytest.approx(1.4)
    assert protocol.timeline.platform_s(0.3) == pytest.approx(2.3)


# -- close ----------------------------------------------------------------------------------------


def test_close_then_closed():
    protocol, client = opened()
    assert client.send("close", {"reason": "end"}) == [CloseRequested("end")]
    assert protocol.state == "closing"
    assert protocol.can_send_events
    closed = protocol.closed()
    assert closed.message == {
        "version": "2",
        "id": SESSION,
        "type": "closed",
        "seq": 2,
        "clientseq": client.seq,
        "parameters": {},
    }
    assert protocol.state == "closed"
    assert not protocol.can_send_events


def test_close_without_reason_defaults_to_end():
    _, client = opened()
    assert client.send("close") == [CloseRequested("end")]


def test_close_twice_fails():
    _, client = opened()
    client.send("close", {"reason": "end"})
    assert_error_disconnect(client.send("close", {"reason": "end"}))


def test_audio_after_close_fails():
    protocol, client = opened()
    client.send("close", {"reason": "end"})
    only_failure(protocol.receive_bytes(b"\xff" * 320))


def test_close_is_accepted_after_a_failure():
    protocol, client = opened()
    assert_error_disconnect(client.send("dance"))
    assert protocol.state == "disconnecting"
    assert client.send("paused") == []  # ignored while disconnecting
    assert client.send("close", {"reason": "error"}) == [CloseRequested("error")]
    closed = protocol.closed().message
    assert closed["type"] == "closed"
    assert closed["seq"] == 3
    assert closed["clientseq"] == client.seq


def test_close_is_accepted_after_unauthorized():
    protocol, client = new(org="11111111-2222-3333-4444-555555555555")
    client.open()
    assert client.send("close", {"reason": "end"}) == [CloseRequested("end")]
    assert protocol.closed().message["seq"] == 2


# -- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1.25, "PT1.25S"),
        (0.0, "PT0S"),
        (2.5, "PT2.5S"),
        (10.0, "PT10S"),
        (100.0, "PT100S"),
        (0.001, "PT0.001S"),
        (1.0004, "PT1S"),
        (-3.0, "PT0S"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["PT1.25S", "PT0S", "PT10S", "PT0.001S", "PT2.5S"])
def test_duration_round_trip(text):
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(("text", "seconds"), [("PT1.25S", 1.25), ("PT0S", 0.0), ("PT.5S", 0.5)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["P1S", "1.5", None, "PT1M", "PT-1S", "pt1s", "PTS", 1.5, ""])
def test_parse_duration_rejects(value):
    with pytest.raises(ProtocolError, match="duration"):
        parse_duration(value)


# -- transcript entities --------------------------------------------------------------------------

FINAL = {
    "type": "final",
    "call_id": "c",
    "speaker": "agent",
    "utterance_id": 3,
    "start_s": 1.0,
    "end_s": 2.5,
    "text": "Hello there",
    "confidence": 0.9,
    "words": [
        {"text": "Hello", "start_s": 1.0, "end_s": 1.4, "confidence": 0.95},
        {"text": "there", "start_s": 1.5, "end_s": 2.4, "confidence": 0.8},
    ],
}


def test_final_transcript_entity():
    protocol, _ = opened()
    entity = transcript_entity(protocol, FINAL, language="en-US")
    assert entity is not None
    data = entity["data"]
    assert entity["type"] == "transcript"
    assert str(uuid.UUID(data["id"])) == data["id"]
    assert data == {
        "id": data["id"],
        "channelId": 1,
        "isFinal": True,
        "offset": "PT1S",
        "duration": "PT1.5S",
        "alternatives": [
            {
                "confidence": 0.9,
                "languages": ["en-US"],
                "interpretations": [
                    {
                        "type": "display",
                        "transcript": "Hello there",
                        "tokens": [
                            {
                                "type": "word",
                                "value": "Hello",
                                "confidence": 0.95,
                                "offset": "PT1S",
                                "duration": "PT0.4S",
                                "language": "en-US",
                            },
                            {
                                "type": "word",
                                "value": "there",
                                "confidence": 0.8,
                                "offset": "PT1.5S",
                                "duration": "PT0.9S",
                                "language": "en-US",
                            },
                        ],
                    }
                ],
            }
        ],
    }
    json.dumps(entity)  # serialisable as sent


def test_transcript_entity_id_is_stable_per_utterance():
    protocol, _ = opened()
    first = transcript_entity(protocol, FINAL, language="en-US")["data"]["id"]
    interim = {k: v for k, v in FINAL.items() if k not in ("words", "confidence")}
    interim["type"] = "interim"
    assert transcript_entity(protocol, interim, language="en-US")["data"]["id"] == first
    assert transcript_entity(protocol, dict(FINAL), language="en-US")["data"]["id"] == first
    other_utterance = transcript_entity(protocol, FINAL | {"utterance_id": 4}, language="en-US")
    other_call = transcript_entity(protocol, FINAL | {"call_id": "d"}, language="en-US")
    other_speaker = transcript_entity(protocol, FINAL | {"speaker": "customer"}, language="en-US")
    ids = {first, *(e["data"]["id"] for e in (other_utterance, other_call, other_speaker))}
    assert len(ids) == 4


def test_customer_is_channel_zero():
    protocol, _ = opened()
    entity = transcript_entity(protocol, FINAL | {"speaker": "customer"}, language="en-US")
    assert entity["data"]["channelId"] == 0


def test_interim_entity_is_not_final_and_has_no_tokens():
    protocol, _ = opened()
    interim = {
        "type": "interim",
        "call_id": "c",
        "speaker": "agent",
        "utterance_id": 3,
        "start_s": 1.0,
        "end_s": 1.8,
        "text": "Hello",
    }
    entity = transcript_entity(protocol, interim, language="en-US")
    data = entity["data"]
    assert data["isFinal"] is False
    assert data["duration"] == "PT0.8S"
    interpretation = data["alternatives"][0]["interpretations"][0]
    assert interpretation == {"type": "display", "transcript": "Hello"}


@pytest.mark.parametrize("text", ["", None])
def test_empty_text_gives_no_entity(text):
    protocol, _ = opened()
    assert transcript_entity(protocol, FINAL | {"text": text}, language="en-US") is None


def test_speaker_not_on_the_stream_gives_no_entity():
    protocol, _ = opened([PCMU_MONO_INTERNAL])
    assert transcript_entity(protocol, FINAL | {"speaker": "customer"}, language="en-US") is None
    assert transcript_entity(protocol, FINAL, language="en-US")["data"]["channelId"] == 0


def test_transcript_offsets_follow_the_timeline():
    protocol, client = opened()
    protocol.receive_bytes(b"\xff" * 3200)  # 0.2 s
    client.send("paused")
    client.send("resumed", {"start": "PT0.2S", "discarded": "PT2.5S"})
    entity = transcript_entity(protocol, FINAL, language="en-US")["data"]
    assert entity["offset"] == "PT3.5S"
    assert entity["duration"] == "PT1.5S"
    tokens = entity["alternatives"][0]["interpretations"][0]["tokens"]
    assert [t["offset"] for t in tokens] == ["PT3.5S", "PT4S"]
    early = transcript_entity(protocol, FINAL | {"start_s": 0.05, "words": []}, language="en-US")
    assert early["data"]["offset"] == "PT0.05S"


def test_a_revised_final_keeps_its_transcript_id():
    """A revision replaces the earlier final at the client: same entity id, isFinal, new text."""
    protocol, _ = opened()
    one = transcript_entity(protocol, FINAL, language="en-US")
    two = transcript_entity(protocol, {**FINAL, "text": "Hello here", "revision": 1}, language="en-US")
    assert one is not None and two is not None
    assert one["data"]["id"] == two["data"]["id"] and two["data"]["isFinal"]
    assert two["data"]["alternatives"][0]["interpretations"][0]["transcript"] == "Hello here"


def test_an_oversized_participant_field_is_refused_not_stored():
    participant = {"id": "883efee8-3d6c-4537-b500-6d7ca4b92fa0", "ani": "+1" * 30_000}
    _, client = new()
    failure = assert_error_disconnect(client.open(participant=participant))
    assert "participant.ani" in failure.info


def test_an_oversized_custom_config_is_refused():
    _, client = new()
    failure = assert_error_disconnect(client.open(customConfig={"agentId": "x" * 5000}))
    assert "customConfig" in failure.info
