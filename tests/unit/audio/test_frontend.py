"""CallAudio: interleaved wire frames → one 16 kHz float32 array per speaker."""

from __future__ import annotations

import numpy as np
import pytest

from assist.audio.codec import AudioFormat, decode_frame, encode_pcm
from assist.audio.frontend import TARGET_RATE_HZ, CallAudio
from assist.errors import AudioFormatError

FRAME_S = 0.02


def _tone(freq_hz: float, n: int, rate: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq_hz * np.arange(n) / rate)).astype(np.float32)


def _run_call(call: CallAudio, data: bytes, frame_bytes: int) -> dict[str, np.ndarray]:
    pieces: dict[str, list[np.ndarray]] = {speaker: [] for speaker in call.speakers}
    for i in range(0, len(data), frame_bytes):
        for speaker, samples in call.decode(data[i : i + frame_bytes]).items():
            pieces[speaker].append(samples)
    for speaker, samples in call.flush().items():
        pieces[speaker].append(samples)
    return {speaker: np.concatenate(parts) for speaker, parts in pieces.items()}


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _stereo_pcmu_call(left: np.ndarray, right: np.ndarray) -> tuple[CallAudio, bytes, int]:
    fmt = AudioFormat("pcmu", 8_000, channels=2)
    data = encode_pcm(np.stack([left, right], axis=1), fmt)
    frame_bytes = int(FRAME_S * fmt.rate_hz) * fmt.bytes_per_frame
    return CallAudio(fmt, ["customer", "agent"]), data, frame_bytes


def test_stereo_pcmu_splits_into_two_16k_speakers():
    n = 8_000  # 1 s at 8 kHz
    call, data, frame_bytes = _stereo_pcmu_call(_tone(500, n, 8_000), _tone(1_200, n, 8_000))
    out = _run_call(call, data, frame_bytes)
    assert set(out) == {"customer", "agent"}
    for samples in out.values():
        assert samples.dtype == np.float32
        assert abs(len(samples) - 2 * n) <= 2
    assert call.received_s == pytest.approx(1.0)


def test_tone_on_channel_one_lands_on_agent():
    n = 8_000
    silence = np.zeros(n, dtype=np.float32)
    call, data, frame_bytes = _stereo_pcmu_call(silence, _tone(1_000, n, 8_000))
    out = _run_call(call, data, frame_bytes)
    agent, customer = out["agent"], out["customer"]
    middle = slice(len(agent) // 4, 3 * len(agent) // 4)
    assert _rms(agent[middle]) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert _rms(customer) < 1e-3
    # The agent's energy sits at 1 kHz.
    spectrum = np.abs(np.fft.rfft(agent[middle]))
    freqs = np.fft.rfftfreq(len(agent[middle]), 1 / TARGET_RATE_HZ)
    assert abs(freqs[int(np.argmax(spectrum))] - 1_000) < 10


def test_speaker_order_follows_channel_order():
    n = 4_000
    fmt = AudioFormat("pcmu", 8_000, channels=2)
    data = encode_pcm(np.stack([_tone(1_000, n, 8_000), np.zeros(n, np.float32)], axis=1), fmt)
    call = CallAudio(fmt, ["agent", "customer"])
    out = _run_call(call, data, 320)
    assert _rms(out["agent"]) > 0.3
    assert _rms(out["customer"]) < 1e-3


def test_16k_l16_mono_is_passed_through():
    fmt = AudioFormat("l16", 16_000)
    signal = _tone(440, 3_200, 16_000)
    data = encode_pcm(signal, fmt)
    call = CallAudio(fmt, ["customer"])
    out = call.decode(data)
    np.testing.assert_array_equal(out["customer"], decode_frame(data, fmt)[:, 0])
    assert len(call.flush()["customer"]) == 0
    assert call.received_s == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("channels", "speakers"),
    [(2, ["customer"]), (1, ["customer", "agent"]), (2, [])],
)
def test_wrong_speaker_count_raises(channels, speakers):
    with pytest.raises(AudioFormatError, match="speaker"):
        CallAudio(AudioFormat("pcmu", 8_000, channels=channels), speakers)


def test_bad_frame_is_rejected_without_advancing_the_clock():
    call = CallAudio(AudioFormat("pcmu", 8_000, channels=2), ["customer", "agent"])
    with pytest.raises(AudioFormatError):
        call.decode(bytes(3))
    assert call.received_s == 0.0
