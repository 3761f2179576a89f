"""Generated input for each ingest protocol's adapter (parser + audio decoding): whatever a
client sends, the answer is a list of steps or a ProtocolError / AudioFormatError with a reason,
never another exception (which the ingest loop would report as a malformed message, but which
would be a bug in our parser). Bounded to a few seconds: hypothesis, no server."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assist.errors import AudioFormatError, ProtocolError
from assist.ingest.audiohook import AudioHookProtocol
from assist.web.ingest_audiohook import AudioHookAdapter
from assist.web.ingest_native import NativeAdapter
from assist.web.ingest_twilio import TwilioAdapter
from tests.unit.ingest.test_audiohook_protocol import ORG, PCMU_STEREO, SESSION

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPECTED = (ProtocolError, AudioFormatError)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def objects(kinds: list[str], key: str) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose ``key`` is usually a real message type, with random other fields."""
    return st.builds(
        lambda kind, rest: {key: kind, **rest},
        st.one_of(st.sampled_from(kinds), st.text(max_size=10)),
        st.dictionaries(st.text(max_size=12), json_values, max_size=5),
    )


frames = st.one_of(
    st.binary(max_size=4000).map(lambda data: {"type": "websocket.receive", "bytes": data}),
    st.text(max_size=200).map(lambda text: {"type": "websocket.receive", "text": text}),
)


def feed(adapter: Any, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        try:
            adapter.steps(message)
        except EXPECTED:
            return  # the loop ends the connection here with this reason


def text(payload: object) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": json.dumps(payload)}


native_messages = objects(["start", "stop", "ping", "pause", "resume", "feedback"], "type")
NATIVE_START = {"type": "start", "call_id": "c1", "audio": {"encoding": "pcmu", "rate_hz": 8000, "channels": 2}}


@FUZZ
@given(st.lists(st.one_of(native_messages.map(text), frames), max_size=8))
def test_native_adapter_never_fails_unexpectedly(messages: list[dict[str, Any]]) -> None:
    feed(NativeAdapter(), messages)


@FUZZ
@given(st.lists(st.one_of(native_messages.map(text), frames), max_size=8))
def test_native_adapter_after_a_valid_start(messages: list[dict[str, Any]]) -> None:
    feed(NativeAdapter(), [text(NATIVE_START), *messages])


twilio_messages = objects(["connected", "start", "media", "stop", "mark", "dtmf"], "event")
TWILIO_START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {"callSid": "CA1", "streamSid": "MZ1", "tracks": ["inbound", "outbound"]},
}


@FUZZ
@given(st.lists(st.one_of(twilio_messages.map(text), frames), max_size=8))
def test_twilio_adapter_never_fails_unexpectedly(messages: list[dict[str, Any]]) -> None:
    feed(TwilioAdapter(), [text(TWILIO_START), *messages])


PAYLOAD = "//////////8="  # base64 of µ-law silence


def valid_or(valid: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly (4 in 5) a valid value, so parsing gets past it to the next field; else anything."""
    return st.one_of(*[st.sampled_from(valid)] * 4, json_values)


# Numbers a JSON parser accepts and an int() does not always: infinities, NaN, huge, negative.
awkward_numbers = st.one_of(
    st.sampled_from([float("inf"), float("-inf"), float("nan"), -1, 2**70, 1e300]),
    st.integers(min_value=-(2**66), max_value=2**66),
    st.floats(),
)


media_fields = st.fixed_dictionaries(
    {
        "track": valid_or(["inbound", "outbound", "inbound_track"]),
        "payload": valid_or([PAYLOAD, ""]),
        "timestamp": st.one_of(awkward_numbers, st.text(max_size=6), st.none()),
    }
)


@FUZZ
@given(st.lists(media_fields, min_size=1, max_size=6))
def test_twilio_media_fields_of_any_shape(medias: list[dict[str, Any]]) -> None:
    messages = [
        text({"event": "media", "sequenceNumber": str(index + 2), "media": media}) for index, media in enumerate(medias)
    ]
    feed(TwilioAdapter(), [text(TWILIO_START), *messages])


def envelope(kind: str, seq: int, parameters: object, **extra: object) -> dict[str, Any]:
    return {"version": "2", "id": SESSION, "type": kind, "seq": seq, "serverseq": 0, "parameters": parameters, **extra}


OPEN = envelope(
    "open",
    1,
    {
        "organizationId": ORG,
        "conversationId": "090eaa2f-72fa-480a-83e0-8667ff89c0ec",
        "participant": {"id": "883efee8-3d6c-4537-b500-6d7ca4b92fa0", "ani": "+13175550000"},
        "media": [PCMU_STEREO],
    },
)


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda kind, seq, params: envelope(kind, seq, params),
                st.sampled_from(["open", "ping", "close", "paused", "resumed", "discarded", "update", "error", "x"]),
                st.integers(min_value=-2, max_value=6),
                json_values,
            ).map(text),
            frames,
        ),
        max_size=8,
    )
)
def test_audiohook_adapter_never_fails_unexpectedly(messages: list[dict[str, Any]]) -> None:
    feed(AudioHookAdapter(AudioHookProtocol(SESSION, ORG), close_flush_s=0.1), messages)


@FUZZ
@given(st.dictionaries(st.sampled_from([*OPEN["parameters"], "language", "customConfig"]), json_values))
def test_audiohook_open_parameters_of_any_shape(parameters: dict[str, Any]) -> None:
    adapter = AudioHookAdapter(AudioHookProtocol(SESSION, ORG), close_flush_s=0.1)
    feed(adapter, [text({**OPEN, "parameters": {**OPEN["parameters"], **parameters}})])
