"""SpeakerStream with a scripted VAD: audio in, interim and final decode requests out."""

from __future__ import annotations

import numpy as np
import pytest

from assist.audio.vad import CONTEXT_SAMPLES, RATE_HZ, WINDOW_SAMPLES, SileroVad
from assist.stt.policy import EndpointOptions
from assist.stt.stream import IDLE_KEEP_S, DecodeRequest, SpeakerStream

CHUNK = RATE_HZ // 50  # 20 ms
OPTS = EndpointOptions()


class LoudnessVad(SileroVad):
    """Says 'speech' for any window louder than -40 dBFS RMS; no model involved."""

    def __init__(self) -> None:
        pass  # no ONNX session: run() is scripted

    def run(self, windows, h, c):
        assert windows.shape[1] == CONTEXT_SAMPLES + WINDOW_SAMPLES
        frames = windows[:, CONTEXT_SAMPLES:]
        rms = np.sqrt(np.mean(np.square(frames), axis=1))
        probs = np.where(rms > 0.01, 0.9, 0.05).astype(np.float32)
        return probs, h, c


def _call(silence_s: float, burst_s: float, tail_s: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            np.zeros(int(silence_s * RATE_HZ), dtype=np.float32),
            (0.3 * rng.standard_normal(int(burst_s * RATE_HZ))).astype(np.float32),
            np.zeros(int(tail_s * RATE_HZ), dtype=np.float32),
        ]
    )


def _feed(stream: SpeakerStream, audio: np.ndarray, chunk: int = CHUNK) -> list[DecodeRequest]:
    requests: list[DecodeRequest] = []
    for i in range(0, len(audio), chunk):
        requests.extend(stream.process(audio[i : i + chunk]))
    return requests


@pytest.fixture
def stream() -> SpeakerStream:
    return SpeakerStream("customer", LoudnessVad())


def _sample(seconds: float) -> int:
    return round(seconds * RATE_HZ)


def test_burst_gives_interims_then_one_final(stream):
    audio = _call(1.0, 1.5, 1.5)
    requests = _feed(stream, audio)
    kinds = [r.kind for r in requests]
    assert kinds.count("final") == 1
    assert kinds[-1] == "final"
    assert kinds.count("interim") >= 1
    assert all(r.speaker == "customer" for r in requests)
    assert all(r.utterance_id == 0 for r in requests)
    assert [r.revision for r in requests] == list(range(1, len(requests) + 1))
    assert stream.finish() == []


def test_final_brackets_the_burst_and_carries_its_audio(stream):
    burst_start_s, burst_end_s = 1.0, 2.5
    audio = _call(burst_start_s, burst_end_s - burst_start_s, 1.5)
    (final,) = [r for r in _feed(stream, audio) if r.kind == "final"]
    window_s = WINDOW_SAMPLES / RATE_HZ
    pre_roll_s = OPTS.pre_roll_ms / 1000
    post_roll_s = OPTS.post_roll_ms / 1000
    assert burst_start_s - pre_roll_s - window_s <= final.start_s <= burst_start_s - pre_roll_s
    assert burst_end_s <= final.speech_end_s <= burst_end_s + window_s
    assert final.end_s == pytest.approx(final.speech_end_s + post_roll_s)
    assert final.reason == "silence"
    assert len(final.audio) == _sample(final.end_s - final.start_s)
    np.testing.assert_array_equal(final.audio, audio[_sample(final.start_s) : _sample(final.end_s)])
    assert final.audio.dtype == np.float32
    # The decision is made once min_silence_ms of silence has been seen after the speech.
    assert final.trigger_s >= final.end_s
    assert final.trigger_s == pytest.approx(final.speech_end_s + OPTS.min_silence_ms / 1000, abs=window_s)


def test_interims_grow_and_share_the_start(stream):
    audio = _call(1.0, 3.0, 1.0)
    requests = _feed(stream, audio)
    interims = [r for r in requests if r.kind == "interim"]
    final = requests[-1]
    assert final.kind == "final"
    assert len(interims) >= 3
    assert all(r.start_s == final.start_s for r in interims)
    ends = [r.end_s for r in interims]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    for r in interims:
        assert r.reason is None
        assert r.speech_end_s == r.end_s == r.trigger_s
        assert len(r.audio) == _sample(r.end_s - r.start_s)
        np.testing.assert_array_equal(r.audio, audio[_sample(r.start_s) : _sample(r.end_s)])
        assert r.end_s <= final.end_s


def test_two_bursts_give_two_utterances(stream):
    audio = np.concatenate([_call(0.5, 1.0, 1.0, seed=1), _call(0.5, 1.0, 1.0, seed=2)])
    finals = [r for r in _feed(stream, audio) if r.kind == "final"]
    assert [f.utterance_id for f in finals] == [0, 1]
    assert finals[1].start_s >= finals[0].end_s
    for f in finals:
        np.testing.assert_array_equal(f.audio, audio[_sample(f.start_s) : _sample(f.end_s)])


def test_finish_mid_burst_returns_the_tail(stream):
    audio = _call(1.0, 1.01, 0.0)  # ends inside the burst, not on a window boundary
    assert len(audio) % WINDOW_SAMPLES != 0
    requests = _feed(stream, audio)
    assert not [r for r in requests if r.kind == "final"]
    (final,) = stream.finish()
    assert final.kind == "final"
    assert final.reason == "end_of_stream"
    assert final.end_s == pytest.approx(len(audio) / RATE_HZ)
    assert final.start_s < 1.0
    assert len(final.audio) == len(audio) - _sample(final.start_s)
    np.testing.assert_array_equal(final.audio, audio[_sample(final.start_s) :])
    assert final.revision == len(requests) + 1


def test_finish_after_a_short_onset_keeps_it(stream):
    # 150 ms of burst at the very end: not yet confirmed as speech, but long enough to keep.
    audio = _call(1.0, 0.15, 0.0)
    assert _feed(stream, audio) == []
    (final,) = stream.finish()
    assert final.reason == "end_of_stream"
    np.testing.assert_array_equal(final.audio, audio[_sample(final.start_s) :])


def test_silence_gives_nothing(stream):
    assert _feed(stream, np.zeros(5 * RATE_HZ, dtype=np.float32)) == []
    assert stream.finish() == []
    assert stream.position_s == pytest.approx(5.0)


def test_buffer_stays_bounded_on_long_silence(stream):
    chunk = RATE_HZ // 10  # 100 ms
    silence = np.zeros(chunk, dtype=np.float32)
    limit = int(1.1 * RATE_HZ)
    largest = 0
    for _ in range(600):  # 60 s
        assert stream.process(silence) == []
        largest = max(largest, len(stream._buffer))
    assert largest <= limit
    assert len(stream._buffer) == int(IDLE_KEEP_S * RATE_HZ)
    assert stream.received_samples == 60 * RATE_HZ


def test_buffer_is_released_after_an_utterance(stream):
    _feed(stream, _call(1.0, 2.0, 0.0))
    assert len(stream._buffer) > 2 * RATE_HZ  # the open utterance is kept whole
    _feed(stream, np.zeros(10 * RATE_HZ, dtype=np.float32))
    assert len(stream._buffer) <= int(1.1 * RATE_HZ)


def test_chunking_does_not_change_the_requests():
    audio = _call(1.0, 2.0, 1.0)
    a = _feed(SpeakerStream("agent", LoudnessVad()), audio, chunk=CHUNK)
    b = _feed(SpeakerStream("agent", LoudnessVad()), audio, chunk=1_234)
    fa = [r for r in a if r.kind == "final"]
    fb = [r for r in b if r.kind == "final"]
    assert len(fa) == len(fb) == 1
    assert (fa[0].start_s, fa[0].end_s) == (fb[0].start_s, fb[0].end_s)
    np.testing.assert_array_equal(fa[0].audio, fb[0].audio)
