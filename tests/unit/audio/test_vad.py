"""Silero VAD on onnxruntime, with the real (tiny) model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assist.audio.vad import RATE_HZ, WINDOW_SAMPLES, SileroVad
from assist.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DIR = REPO_ROOT.parent / "shared"
SPEECH_WAV = SHARED_DIR / "data" / "speech" / "whisper.cpp__jfk.wav"


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    try:
        return SileroVad()
    except ModelError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    if not SHARED_DIR.is_dir() or not SPEECH_WAV.exists():
        pytest.skip(f"shared speech data not found at {SPEECH_WAV}")
    audio, rate = sf.read(SPEECH_WAV, dtype="float32")
    assert rate == RATE_HZ
    assert audio.ndim == 1
    return audio


@pytest.fixture(scope="module")
def speech_probs(vad: SileroVad, speech: np.ndarray) -> np.ndarray:
    return vad.stream().process(speech)


def _feed(stream, audio: np.ndarray, chunk: int) -> np.ndarray:
    parts = [stream.process(audio[i : i + chunk]) for i in range(0, len(audio), chunk)]
    return np.concatenate(parts)


def test_one_probability_per_complete_window(vad, speech, speech_probs):
    assert speech_probs.dtype == np.float32
    assert len(speech_probs) == len(speech) // WINDOW_SAMPLES
    assert np.all((speech_probs >= 0) & (speech_probs <= 1))
    stream = vad.stream()
    assert len(stream.process(np.zeros(WINDOW_SAMPLES - 1, dtype=np.float32))) == 0
    assert len(stream.process(np.zeros(1, dtype=np.float32))) == 1
    assert stream.windows_done == 1


@pytest.mark.parametrize("chunk", [333, 512, 1000, 4801])
def test_chunked_feeding_matches_whole(vad, speech, speech_probs, chunk):
    stream = vad.stream()
    chunked = _feed(stream, speech, chunk)
    assert len(chunked) == len(speech_probs)
    assert stream.windows_done == len(speech_probs)
    np.testing.assert_allclose(chunked, speech_probs, rtol=0, atol=1e-5)


def test_speech_is_detected(speech_probs):
    assert np.mean(speech_probs > 0.5) > 0.4
    assert speech_probs.max() > 0.9


def test_silence_is_not_speech(vad):
    probs = vad.stream().process(np.zeros(3 * RATE_HZ, dtype=np.float32))
    assert len(probs) == 3 * RATE_HZ // WINDOW_SAMPLES
    assert probs.max() < 0.5


def test_quiet_white_noise_is_not_speech(vad):
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(3 * RATE_HZ) * 10 ** (-50 / 20)).astype(np.float32)
    probs = _feed(vad.stream(), noise, 1_600)
    assert probs.max() < 0.5


def test_streams_are_independent(vad, speech, speech_probs):
    silence = np.zeros(len(speech), dtype=np.float32)
    alone = vad.stream().process(silence)
    a, b = vad.stream(), vad.stream()
    probs_a, probs_b = [], []
    for i in range(0, len(speech), 800):
        probs_a.append(a.process(speech[i : i + 800]))
        probs_b.append(b.process(silence[i : i + 800]))
    np.testing.assert_allclose(np.concatenate(probs_a), speech_probs, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.concatenate(probs_b), alone, rtol=0, atol=1e-5)
    assert np.concatenate(probs_b).max() < 0.5


def test_state_carries_across_calls(vad, speech, speech_probs):
    # Restarting a stream half way (fresh LSTM state and context) gives different numbers
    # from carrying on, so process() really threads its state through.
    half = (len(speech) // 2 // WINDOW_SAMPLES) * WINDOW_SAMPLES
    restarted = vad.stream().process(speech[half:])
    carried = speech_probs[half // WINDOW_SAMPLES :]
    assert len(restarted) == len(carried)
    assert np.abs(restarted - carried).max() > 1e-3
