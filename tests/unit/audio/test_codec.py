"""G.711 / L16 codec: tables and encoders against stdlib audioop, framing and format checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from assist.audio.codec import (
    ALAW_TO_INT16,
    MAX_FRAME_S,
    MULAW_TO_INT16,
    AudioFormat,
    decode_frame,
    encode_pcm,
)
from assist.errors import AudioFormatError, UnsupportedFormatError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # deprecated since 3.11, still the reference G.711 implementation

ALL_CODES = bytes(range(256))
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32)


def _int16_to_float(values: np.ndarray) -> np.ndarray:
    return (np.asarray(values, dtype=np.float64) / 32768.0).astype(np.float32)


def _encode_int16(values: np.ndarray, encoding: str) -> np.ndarray:
    fmt = AudioFormat(encoding, 8_000)  # type: ignore[arg-type]
    return np.frombuffer(encode_pcm(_int16_to_float(values), fmt), dtype=np.uint8)


def _reference_encode(values: np.ndarray, encoding: str) -> np.ndarray:
    linear = values.astype("<i2").tobytes()
    encoded = audioop.lin2ulaw(linear, 2) if encoding == "pcmu" else audioop.lin2alaw(linear, 2)
    return np.frombuffer(encoded, dtype=np.uint8)


# -- decode tables -------------------------------------------------------------------------------


def test_mulaw_table_matches_audioop_for_all_codes():
    expected = np.frombuffer(audioop.ulaw2lin(ALL_CODES, 2), dtype="<i2")
    np.testing.assert_array_equal(MULAW_TO_INT16, expected)


def test_alaw_table_matches_audioop_for_all_codes():
    expected = np.frombuffer(audioop.alaw2lin(ALL_CODES, 2), dtype="<i2")
    np.testing.assert_array_equal(ALAW_TO_INT16, expected)


@pytest.mark.parametrize("encoding", ["pcmu", "pcma"])
def test_decode_frame_uses_the_table(encoding):
    table = MULAW_TO_INT16 if encoding == "pcmu" else ALAW_TO_INT16
    out = decode_frame(ALL_CODES, AudioFormat(encoding, 8_000))
    assert out.dtype == np.float32
    assert out.shape == (256, 1)
    np.testing.assert_array_equal(out[:, 0], table.astype(np.float32) / 32768.0)


# -- encoders ------------------------------------------------------------------------------------


def test_alaw_encode_matches_audioop_for_every_int16():
    np.testing.assert_array_equal(_encode_int16(ALL_INT16, "pcma"), _reference_encode(ALL_INT16, "pcma"))


def test_mulaw_encode_matches_audioop_except_its_floor_rounding_of_negatives():
    ours = _encode_int16(ALL_INT16, "pcmu")
    ref = _reference_encode(ALL_INT16, "pcmu")
    differs = ours != ref
    # audioop drops the two low bits with an arithmetic shift (floor) before encoding, so
    # negative samples that are not multiples of 4 may land one code further from zero.
    # Everything else must agree exactly.
    floor_rounded = (ALL_INT16 < 0) & (ALL_INT16 % 4 != 0)
    assert not np.any(differs & ~floor_rounded)
    assert differs.sum() < 0.01 * len(ALL_INT16)
    assert np.all(np.abs(ours[differs].astype(int) - ref[differs].astype(int)) == 1)
    # Where they differ, our code is never a worse quantisation of the input than audioop's.
    ours_err = np.abs(MULAW_TO_INT16[ours[differs]].astype(int) - ALL_INT16[differs])
    ref_err = np.abs(MULAW_TO_INT16[ref[differs]].astype(int) - ALL_INT16[differs])
    assert np.all(ours_err <= ref_err)
    # And audioop's own view of the same input (low bits floored) is matched exactly.
    floored = (ALL_INT16 >> 2) << 2
    np.testing.assert_array_equal(_encode_int16(floored, "pcmu"), _reference_encode(floored, "pcmu"))


@pytest.mark.parametrize("encoding", ["pcmu", "pcma"])
def test_decode_encode_decode_round_trips(encoding):
    fmt = AudioFormat(encoding, 8_000)
    decoded = decode_frame(ALL_CODES, fmt)
    again = decode_frame(encode_pcm(decoded, fmt), fmt)
    np.testing.assert_array_equal(again, decoded)


def test_alaw_codes_round_trip_exactly():
    fmt = AudioFormat("pcma", 8_000)
    assert encode_pcm(decode_frame(ALL_CODES, fmt), fmt) == ALL_CODES


@pytest.mark.parametrize("encoding", ["pcmu", "pcma"])
def test_encode_clips_out_of_range_samples(encoding):
    fmt = AudioFormat(encoding, 8_000)
    loud = np.array([4.0, -4.0], dtype=np.float32)
    full = np.array([1.0, -1.0], dtype=np.float32)
    assert encode_pcm(loud, fmt) == encode_pcm(full, fmt)


# -- L16 -----------------------------------------------------------------------------------------

L16_VALUES = np.array([0, 1, -1, 256, -256, 12345, -12345, 32767, -32768], dtype=np.int16)


def test_l16_little_endian_decode_and_encode():
    fmt = AudioFormat("l16", 16_000)
    data = L16_VALUES.astype("<i2").tobytes()
    out = decode_frame(data, fmt)
    np.testing.assert_array_equal(out[:, 0], L16_VALUES.astype(np.float32) / 32768.0)
    assert encode_pcm(out[:, 0], fmt) == data


def test_l16_big_endian_decode_and_encode():
    fmt = AudioFormat("l16", 16_000, big_endian=True)
    data = L16_VALUES.astype(">i2").tobytes()
    out = decode_frame(data, fmt)
    np.testing.assert_array_equal(out[:, 0], L16_VALUES.astype(np.float32) / 32768.0)
    assert encode_pcm(out[:, 0], fmt) == data
    # The same bytes read little-endian give different samples: the flag matters.
    assert not np.array_equal(decode_frame(data, AudioFormat("l16", 16_000)), out)


def test_l16_encode_clips_and_rounds():
    fmt = AudioFormat("l16", 16_000)
    samples = np.array([1.0, -1.0, 2.0, -2.0, 0.4 / 32768, 0.6 / 32768], dtype=np.float32)
    pcm = np.frombuffer(encode_pcm(samples, fmt), dtype="<i2")
    np.testing.assert_array_equal(pcm, [32767, -32768, 32767, -32768, 0, 1])


# -- channels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["pcmu", "pcma", "l16"])
def test_stereo_is_deinterleaved(encoding):
    fmt = AudioFormat(encoding, 8_000, channels=2)
    n = 80
    t = np.arange(n) / 8_000
    left = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    right = np.full(n, -0.25, dtype=np.float32)
    data = encode_pcm(np.stack([left, right], axis=1), fmt)
    assert len(data) == n * fmt.bytes_per_frame
    out = decode_frame(data, fmt)
    assert out.shape == (n, 2)
    mono = AudioFormat(encoding, 8_000)
    np.testing.assert_array_equal(out[:, 0], decode_frame(encode_pcm(left, mono), mono)[:, 0])
    np.testing.assert_array_equal(out[:, 1], decode_frame(encode_pcm(right, mono), mono)[:, 0])
    assert not np.allclose(out[:, 0], out[:, 1])


def test_stereo_bytes_alternate_channels():
    fmt = AudioFormat("pcmu", 8_000, channels=2)
    data = bytes([0x00, 0xFF, 0x10, 0xEF])  # (ch0, ch1), (ch0, ch1)
    out = decode_frame(data, fmt)
    expected = MULAW_TO_INT16[[0x00, 0xFF, 0x10, 0xEF]].astype(np.float32) / 32768.0
    np.testing.assert_array_equal(out, expected.reshape(2, 2))


def test_encode_rejects_channel_mismatch():
    with pytest.raises(AudioFormatError, match="channels"):
        encode_pcm(np.zeros((10, 2), dtype=np.float32), AudioFormat("pcmu", 8_000, channels=1))
    with pytest.raises(AudioFormatError, match="channels"):
        encode_pcm(np.zeros(10, dtype=np.float32), AudioFormat("pcmu", 8_000, channels=2))


# -- framing errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "n_bytes"),
    [
        (AudioFormat("l16", 16_000), 3),  # half a sample
        (AudioFormat("l16", 8_000, channels=2), 6),  # one and a half stereo frames
        (AudioFormat("pcmu", 8_000, channels=2), 3),
        (AudioFormat("pcma", 8_000, channels=2), 1),
    ],
)
def test_partial_frames_raise(fmt, n_bytes):
    with pytest.raises(AudioFormatError, match=r"not a whole number of .*samples") as info:
        decode_frame(bytes(n_bytes), fmt)
    assert not isinstance(info.value, UnsupportedFormatError)
    assert f"{n_bytes} bytes" in str(info.value)


def test_empty_frame_is_fine():
    out = decode_frame(b"", AudioFormat("pcmu", 8_000, channels=2))
    assert out.shape == (0, 2)


@pytest.mark.parametrize(
    "fmt",
    [
        AudioFormat("pcmu", 8_000),
        AudioFormat("pcma", 8_000, channels=2),
        AudioFormat("l16", 16_000, channels=2),
    ],
)
def test_frame_length_limit(fmt):
    at_limit = int(MAX_FRAME_S * fmt.rate_hz) * fmt.bytes_per_frame
    n_samples = int(MAX_FRAME_S * fmt.rate_hz)
    assert decode_frame(bytes(at_limit), fmt).shape == (n_samples, fmt.channels)
    too_long = at_limit + fmt.bytes_per_frame
    with pytest.raises(AudioFormatError, match="at most"):
        decode_frame(bytes(too_long), fmt)


# -- AudioFormat ---------------------------------------------------------------------------------


def test_audio_format_sizes():
    assert AudioFormat("pcmu", 8_000).bytes_per_frame == 1
    assert AudioFormat("pcma", 8_000, channels=2).bytes_per_frame == 2
    assert AudioFormat("l16", 16_000, channels=2).bytes_per_frame == 4
    assert AudioFormat("l16", 16_000).duration_s(32_000) == pytest.approx(1.0)
    assert AudioFormat("pcmu", 8_000, channels=2).duration_s(1_600) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"encoding": "opus", "rate_hz": 16_000}, "encoding 'opus'"),
        ({"encoding": "pcmu", "rate_hz": 44_100}, "sample rate 44100"),
        ({"encoding": "l16", "rate_hz": 22_050}, "sample rate 22050"),
        ({"encoding": "pcmu", "rate_hz": 8_000, "channels": 3}, "channel count 3"),
        ({"encoding": "pcmu", "rate_hz": 8_000, "channels": 0}, "channel count 0"),
    ],
)
def test_audio_format_rejects_unsupported(kwargs, match):
    with pytest.raises(UnsupportedFormatError, match=match):
        AudioFormat(**kwargs)


def test_unsupported_format_is_an_audio_format_error():
    with pytest.raises(AudioFormatError):
        AudioFormat("opus", 8_000)  # type: ignore[arg-type]
