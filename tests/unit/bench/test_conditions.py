"""Telephone conditions: deterministic, and each does what its name says (band, SNR, loss, level)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from assist.bench import conditions as C

RATE = C.RATE_HZ


def speech_like(seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Voiced bursts (a gliding 110-180 Hz harmonic series under a syllable envelope) separated by
    pauses, and the mask of where the bursts are: a stand-in for speech with known activity."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n)
    mask = np.zeros(n, dtype=bool)
    at = int(0.3 * RATE)
    while at < n:
        length = int(rng.uniform(0.4, 1.5) * RATE)
        t = np.arange(min(length, n - at)) / RATE
        f0 = rng.uniform(110, 180) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        burst = sum(np.sin(k * phase) / k for k in range(1, 20))
        envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2  # syllables: no silent gaps inside the burst
        out[at : at + len(t)] = 0.1 * burst * envelope
        mask[at : at + len(t)] = True
        at += length + int(rng.uniform(0.3, 1.2) * RATE)
    return out.astype(np.float32), mask


def band_energy(x: np.ndarray, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(spectrum[(freqs >= lo) & (freqs < hi)].sum())


def test_conditions_are_deterministic_for_a_seed() -> None:
    x, _ = speech_like(4)
    stereo = np.stack([x, np.roll(x, 8000)], axis=1)
    for cond in C.CONDITIONS:
        a, b = C.apply(cond, stereo, seed=7), C.apply(cond, stereo, seed=7)
        assert a.shape == stereo.shape and a.dtype == np.float32
        assert np.array_equal(a, b), cond.name
    for name in ("snr10", "loss3"):
        cond = C.CONDITIONS_BY_NAME[name]
        assert not np.array_equal(C.apply(cond, stereo, seed=7), C.apply(cond, stereo, seed=8)), name


def test_condition_table() -> None:
    names = {c.name for c in C.CONDITIONS}
    assert {
        "clean",
        "pcmu8k",
        "telephone",
        "snr20",
        "snr10",
        "loss1",
        "loss3",
        "level_plus10",
        "level_minus10",
    } <= names
    assert len(names) == len(C.CONDITIONS)
    clean = C.CONDITIONS_BY_NAME["clean"]
    assert (clean.codec, clean.rate_hz, clean.band) == ("l16", 16000, False)
    pcmu = C.CONDITIONS_BY_NAME["pcmu8k"]
    assert (pcmu.codec, pcmu.rate_hz, pcmu.band, pcmu.snr_db, pcmu.loss_rate, pcmu.gain_db) == (
        "pcmu",
        8000,
        False,
        None,
        0.0,
        0.0,
    )
    for c in C.CONDITIONS:
        if c.name not in ("clean", "pcmu8k"):
            assert c.band and (c.codec, c.rate_hz) == ("pcmu", 8000), c.name


def test_clean_and_codec_only_conditions_leave_the_audio_alone() -> None:
    x, _ = speech_like(2)
    stereo = np.stack([x, x], axis=1)
    for name in ("clean", "pcmu8k"):
        assert np.array_equal(C.apply(C.CONDITIONS_BY_NAME[name], stereo, seed=1), stereo)


def test_band_pass_removes_energy_outside_the_telephone_band() -> None:
    x = np.random.default_rng(0).standard_normal(RATE * 4).astype(np.float32)
    y = C.telephone_band(x)
    assert 10 * np.log10(band_energy(y, 0, 200) / band_energy(x, 0, 200)) < -30
    assert 10 * np.log10(band_energy(y, 3800, 8000) / band_energy(x, 3800, 8000)) < -25
    assert abs(10 * np.log10(band_energy(y, 500, 3000) / band_energy(x, 500, 3000))) < 0.5


@pytest.mark.parametrize("snr_db", [20.0, 10.0])
@pytest.mark.parametrize("band", [False, True])
def test_noise_is_scaled_against_the_active_speech(snr_db: float, band: bool) -> None:
    x, mask = speech_like(20, seed=3)
    if band:
        x = C.telephone_band(x)
    y = C.add_noise(x, snr_db, np.random.default_rng(1), band=band)
    noise = (y - x).astype(np.float64)
    speech_power = float(np.mean(x[mask].astype(np.float64) ** 2))  # over the known bursts only
    measured = 10 * np.log10(speech_power / np.mean(noise**2))
    assert abs(measured - snr_db) < 1.0
    # against the whole file (pauses included) the noise would have been far too quiet
    assert 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(noise**2)) < snr_db - 1.5


def test_a_leg_without_speech_still_gets_line_noise() -> None:
    x, _ = speech_like(4)
    stereo = np.stack([x, np.zeros_like(x)], axis=1)
    y = C.apply(C.CONDITIONS_BY_NAME["snr20"], stereo, seed=2)
    noise0, noise1 = y[:, 0] - C.telephone_band(x), y[:, 1]
    ratio_db = 10 * np.log10(np.mean(noise1.astype(np.float64) ** 2) / np.mean(noise0.astype(np.float64) ** 2))
    assert abs(ratio_db) < 1.0  # the same line level on both legs
    assert abs(np.corrcoef(noise0, noise1)[0, 1]) < 0.1  # but independent noise


@pytest.mark.parametrize("rate", [0.01, 0.03])
def test_loss_pattern_rate_and_bursts(rate: float) -> None:
    lost = C.loss_pattern(200_000, rate, np.random.default_rng(4))
    assert abs(lost.mean() - rate) < 0.15 * rate
    after_loss = lost[1:][lost[:-1]]
    assert after_loss.mean() > 5 * rate  # bursty: a loss makes the next one likelier
    assert not C.loss_pattern(1000, 0.0, np.random.default_rng(4)).any()


def test_packet_loss_conceals_the_lost_frames_without_clicks() -> None:
    x, _ = speech_like(60, seed=5)
    x = C.telephone_band(x)
    frame = RATE * C.FRAME_MS // 1000
    y = C.packet_loss(x, 0.03, np.random.default_rng(9))
    lost = C.loss_pattern(-(-len(x) // frame), 0.03, np.random.default_rng(9))
    mids = np.arange(len(lost)) * frame + frame // 2
    changed = np.abs(y[mids] - x[mids]) > 1e-6
    # only the lost frames change (apart from the short crossfades at their edges)...
    assert not changed[~lost].any()
    # ...about the requested fraction of them (counting only frames with sound to lose)
    active = np.abs(x[mids]) > 1e-3
    assert 0.015 < lost.mean() < 0.05 and changed[lost & active].mean() > 0.9
    # concealment repeats quieter copies: never louder, and no jumps beyond the signal's own
    peak = float(np.max(np.abs(x)))
    assert float(np.max(np.abs(y))) <= peak + 1e-6
    assert float(np.max(np.abs(np.diff(y)))) <= float(np.max(np.abs(np.diff(x)))) + 0.1 * peak


def test_concealment_fades_6_db_per_consecutive_loss() -> None:
    frame = 320
    t = np.arange(frame * 10) / RATE
    x = (0.5 * np.sin(2 * np.pi * 437 * t)).astype(np.float32)
    lost = np.zeros(10, dtype=bool)
    lost[4:7] = True
    y = C.conceal(x, lost, frame, fade=40)
    rms = [float(np.sqrt(np.mean(y[i * frame + 40 : (i + 1) * frame - 40] ** 2))) for i in range(3, 7)]
    for before, after in itertools.pairwise(rms):
        assert after / before == pytest.approx(0.5, rel=0.1)


def test_gain_scales_and_clips() -> None:
    x = np.array([0.0, 0.05, -0.2, 0.5, -0.9], dtype=np.float32)
    assert np.array_equal(C.gain(x, 0.0), x)
    np.testing.assert_allclose(C.gain(x, -10.0), x * 10 ** (-0.5), rtol=1e-6)
    loud = C.gain(x, 10.0)
    assert loud.dtype == np.float32 and float(np.max(np.abs(loud))) == 1.0
    assert loud[3] == 1.0 and loud[4] == -1.0 and loud[1] == pytest.approx(0.05 * 10**0.5, rel=1e-6)
