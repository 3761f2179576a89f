"""StreamResampler: chunked 8k→16k equals one-shot soxr, keeps in-band tones, no imaging."""

from __future__ import annotations

import numpy as np
import soxr

from assist.audio.resample import StreamResampler

IN_RATE = 8_000
OUT_RATE = 16_000
CHUNK = IN_RATE // 50  # 20 ms


def _tone(freq_hz: float, amp: float = 0.5, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * IN_RATE)) / IN_RATE
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _stream(signal: np.ndarray, in_rate: int = IN_RATE, chunk: int = CHUNK) -> np.ndarray:
    resampler = StreamResampler(in_rate, OUT_RATE)
    pieces = [resampler.process(signal[i : i + chunk]) for i in range(0, len(signal), chunk)]
    pieces.append(resampler.flush())
    return np.concatenate(pieces)


def _amplitude_at(signal: np.ndarray, rate: int, freq_hz: float) -> float:
    """Peak Hann-windowed spectral magnitude near freq_hz, over the steady middle of the signal."""
    middle = signal[len(signal) // 4 : 3 * len(signal) // 4]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    freqs = np.fft.rfftfreq(len(middle), 1 / rate)
    k = int(np.argmin(np.abs(freqs - freq_hz)))
    return float(spectrum[max(0, k - 3) : k + 4].max())


def _full_scale(signal: np.ndarray, amp: float) -> float:
    """The magnitude _amplitude_at reports for a pure tone of amplitude amp."""
    return amp * (len(signal) // 2) / 4


def test_chunked_output_has_twice_the_samples():
    out = _stream(_tone(1_000))
    assert out.dtype == np.float32
    assert out.ndim == 1
    assert abs(len(out) - 2 * IN_RATE) <= 2


def test_chunked_matches_one_shot_soxr():
    signal = _tone(1_000)
    out = _stream(signal)
    reference = soxr.resample(signal, IN_RATE, OUT_RATE, quality="HQ")
    n = min(len(out), len(reference))
    assert abs(len(out) - len(reference)) <= 2
    np.testing.assert_allclose(out[:n], reference[:n], atol=1e-5)


def test_chunk_size_does_not_matter():
    rng = np.random.default_rng(1)
    signal = (0.1 * rng.standard_normal(IN_RATE)).astype(np.float32)
    a = _stream(signal, chunk=160)
    b = _stream(signal, chunk=37)
    assert len(a) == len(b)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_in_band_tone_energy_is_preserved():
    amp = 0.5
    out = _stream(_tone(1_000, amp=amp))
    steady = out[len(out) // 4 : 3 * len(out) // 4]
    np.testing.assert_allclose(np.sqrt(np.mean(steady**2)), amp / np.sqrt(2), rtol=0.01)
    peak = _amplitude_at(out, OUT_RATE, 1_000)
    np.testing.assert_allclose(peak, _full_scale(out, amp), rtol=0.02)


def test_no_image_above_the_old_nyquist():
    # Sample repetition (zero-order hold) mirrors a tone at f to 8000 - f at nearly the same
    # level; a band-limited resampler leaves essentially nothing there.
    amp = 0.5
    for freq in (3_500, 3_900):
        signal = _tone(freq, amp=amp)
        out = _stream(signal)
        repeated = np.repeat(signal, 2)
        image = IN_RATE - freq
        full = _full_scale(out, amp)
        assert _amplitude_at(repeated, OUT_RATE, image) > 0.5 * full  # the measurement works
        assert _amplitude_at(out, OUT_RATE, image) < 1e-3 * full


def test_tone_near_the_band_edge_passes_at_full_level():
    out = _stream(_tone(3_500, amp=0.5))
    level = _amplitude_at(out, OUT_RATE, 3_500)
    np.testing.assert_allclose(level, _full_scale(out, 0.5), rtol=0.02)


def test_output_is_not_sample_repetition():
    signal = _tone(1_000)
    out = _stream(signal)
    n = min(len(out), 2 * len(signal))
    assert not np.allclose(out[:n], np.repeat(signal, 2)[:n], atol=1e-3)


def test_same_rate_is_passthrough():
    rng = np.random.default_rng(2)
    signal = rng.uniform(-1, 1, 1_000).astype(np.float32)
    resampler = StreamResampler(16_000, 16_000)
    out = resampler.process(signal)
    np.testing.assert_array_equal(out, signal)
    assert out.dtype == np.float32
    assert len(resampler.flush()) == 0


def test_passthrough_flattens_and_converts():
    resampler = StreamResampler(16_000)
    out = resampler.process(np.array([[0.5], [0.25]], dtype=np.float64))  # type: ignore[arg-type]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.5, 0.25])
