"""UtterancePolicy on synthetic probability sequences (one step = one 32 ms / 512-sample window)."""

from __future__ import annotations

import itertools

import numpy as np

from assist.audio.vad import WINDOW_SAMPLES
from assist.stt.policy import (
    EndpointOptions,
    InterimDue,
    SpeechStarted,
    UtteranceEnded,
    UtterancePolicy,
)

OPTS = EndpointOptions()
SPEECH = 0.9
SILENCE = 0.05
# Hysteresis is tested with Silero's own ordering (onset above continuation); the defaults start
# speech lower (telephone lines, docs/stt.md) and are tested on their own below.
HYST = EndpointOptions(threshold=0.5, neg_threshold=0.35)
MID = 0.4  # between HYST's neg_threshold and threshold

PRE_ROLL = OPTS.samples(OPTS.pre_roll_ms)  # 3200
POST_ROLL = OPTS.samples(OPTS.post_roll_ms)  # 2560
MIN_SPEECH_WINDOWS = -(-OPTS.samples(OPTS.min_speech_ms) // WINDOW_SAMPLES)  # 7
MIN_SILENCE_WINDOWS = -(-OPTS.samples(OPTS.min_silence_ms) // WINDOW_SAMPLES)  # 10


def _run(probs, policy: UtterancePolicy | None = None):
    """Feed probabilities; returns (policy, [(window index, decision), ...])."""
    policy = policy or UtterancePolicy()
    out = []
    for i, p in enumerate(probs):
        out.extend((i, d) for d in policy.step(p))
    return policy, out


def _decisions(events):
    return [d for _, d in events]


def _of(kind, events):
    return [d for _, d in events if isinstance(d, kind)]


def test_constants_are_what_the_scenarios_assume():
    assert WINDOW_SAMPLES == 512
    assert MIN_SPEECH_WINDOWS == 4
    assert MIN_SILENCE_WINDOWS == 10


def test_silence_only_gives_nothing():
    policy, events = _run([SILENCE] * 500)
    assert events == []
    assert not policy.in_speech
    assert policy.finish(500 * WINDOW_SAMPLES) == []


def test_speech_burst_then_silence():
    probs = [SILENCE] * 10 + [SPEECH] * 30 + [SILENCE] * 20
    policy, events = _run(probs)
    kinds = [type(d) for d in _decisions(events)]
    assert kinds[0] is SpeechStarted
    assert kinds[-1] is UtteranceEnded
    assert kinds.count(SpeechStarted) == 1 and kinds.count(UtteranceEnded) == 1
    assert kinds.count(InterimDue) >= 1
    assert all(k is InterimDue for k in kinds[1:-1])

    start = 10 * WINDOW_SAMPLES - PRE_ROLL
    ((window, started),) = [(i, d) for i, d in events if isinstance(d, SpeechStarted)]
    assert started == SpeechStarted(0, start)
    assert window == 10 + MIN_SPEECH_WINDOWS - 1  # confirmed once min_speech_ms is reached

    speech_end = 40 * WINDOW_SAMPLES
    ((window, ended),) = [(i, d) for i, d in events if isinstance(d, UtteranceEnded)]
    assert ended == UtteranceEnded(0, start, speech_end + POST_ROLL, speech_end, "silence")
    assert window == 39 + MIN_SILENCE_WINDOWS  # after min_silence_ms of silence

    interims = _of(InterimDue, events)
    assert all(i.utterance_id == 0 and i.start_sample == start for i in interims)
    ends = [i.end_sample for i in interims]
    assert ends == sorted(set(ends))
    # The first interim waits for first_interim_ms of speech (plus the pre-roll) ...
    assert ends[0] >= start + OPTS.samples(OPTS.first_interim_ms + OPTS.pre_roll_ms)
    # ... and later ones for interim_interval_ms of new speech.
    gaps = np.diff(ends) if len(ends) > 1 else []
    assert all(g >= OPTS.samples(OPTS.interim_interval_ms) for g in gaps)
    assert all(e <= speech_end for e in ends)
    assert not policy.in_speech


def test_pre_roll_is_clipped_at_zero():
    _, events = _run([SILENCE] * 2 + [SPEECH] * 20 + [SILENCE] * 20)
    (started,) = _of(SpeechStarted, events)
    (ended,) = _of(UtteranceEnded, events)
    assert started.start_sample == 0
    assert ended.start_sample == 0


def test_speech_from_the_first_window():
    _, events = _run([SPEECH] * 20 + [SILENCE] * 20)
    (ended,) = _of(UtteranceEnded, events)
    assert ended.start_sample == 0
    assert ended.speech_end_sample == 20 * WINDOW_SAMPLES


def test_post_roll_is_capped_by_the_audio_seen():
    # Ending needs min_silence_ms (320 ms) of silence, more than the 160 ms post-roll, so the
    # post-roll always fits; with a post-roll longer than the silence it is capped.
    options = EndpointOptions(post_roll_ms=1_000)
    _, events = _run([SPEECH] * 20 + [SILENCE] * 20, UtterancePolicy(options))
    (ended,) = _of(UtteranceEnded, events)
    assert ended.end_sample == (20 + MIN_SILENCE_WINDOWS) * WINDOW_SAMPLES


def test_blip_shorter_than_min_speech_is_ignored():
    probs = [SILENCE] * 10 + [SPEECH] * (MIN_SPEECH_WINDOWS - 1) + [SILENCE] * 30
    policy, events = _run(probs)
    assert events == []
    assert not policy.in_speech
    assert policy.finish(len(probs) * WINDOW_SAMPLES) == []


def test_blip_does_not_consume_an_utterance_id():
    probs = [SPEECH] * 3 + [SILENCE] * 20 + [SPEECH] * 20 + [SILENCE] * 20
    _, events = _run(probs)
    assert [d.utterance_id for d in _of(SpeechStarted, events)] == [0]
    assert [d.utterance_id for d in _of(UtteranceEnded, events)] == [0]


def test_short_dips_do_not_split_an_utterance():
    dip = MIN_SILENCE_WINDOWS - 1
    probs = (
        [SILENCE] * 5
        + [SPEECH] * 20
        + [SILENCE] * dip
        + [SPEECH] * 20
        + [SILENCE] * dip
        + [SPEECH] * 20
        + [SILENCE] * 20
    )
    _, events = _run(probs)
    assert len(_of(SpeechStarted, events)) == 1
    (ended,) = _of(UtteranceEnded, events)
    assert ended.speech_end_sample == (5 + 60 + 2 * dip) * WINDOW_SAMPLES
    # No interim is asked for while the speaker pauses.
    dip_windows = set(range(25, 25 + dip)) | set(range(45 + dip, 45 + 2 * dip))
    assert not [i for i, d in events if isinstance(d, InterimDue) and i in dip_windows]


def test_middling_probabilities_do_not_start_speech():
    policy, events = _run([MID] * 200, UtterancePolicy(HYST))
    assert events == []
    assert not policy.in_speech


def test_middling_probabilities_keep_speech_going():
    probs = [SPEECH] * 10 + [MID] * 100 + [SILENCE] * 20
    _, events = _run(probs, UtterancePolicy(HYST))
    assert len(_of(SpeechStarted, events)) == 1
    (ended,) = _of(UtteranceEnded, events)
    assert ended.reason == "silence"
    assert ended.speech_end_sample == 110 * WINDOW_SAMPLES
    assert len(_of(InterimDue, events)) > 3  # interims keep coming during the MID stretch


def test_middling_probabilities_confirm_an_onset():
    # Onset needs `threshold`; after that, `neg_threshold` counts toward min_speech_ms.
    _, events = _run([SPEECH] + [MID] * (MIN_SPEECH_WINDOWS - 1) + [SILENCE] * 20, UtterancePolicy(HYST))
    assert len(_of(SpeechStarted, events)) == 1
    assert len(_of(UtteranceEnded, events)) == 1


def test_a_weak_onset_starts_speech_by_default():
    """On telephone-band audio Silero is unsure at word onsets: 0.3 is enough to start (default)."""
    weak = (OPTS.threshold + OPTS.neg_threshold) / 2
    policy, events = _run([SILENCE] * 5 + [weak] * 2 + [SPEECH] * MIN_SPEECH_WINDOWS)
    (started,) = _of(SpeechStarted, events)
    assert started.start_sample == max(0, 5 * WINDOW_SAMPLES - PRE_ROLL)  # from the weak window, with pre-roll
    assert policy.in_speech


def test_max_utterance_length_cuts_continuous_speech():
    max_windows = -(-int(OPTS.max_utterance_s * 16_000) // WINDOW_SAMPLES)
    probs = [SPEECH] * (max_windows + 100) + [SILENCE] * 20
    _, events = _run(probs)
    ended = _of(UtteranceEnded, events)
    started = _of(SpeechStarted, events)
    assert [e.reason for e in ended] == ["max_length", "silence"]
    assert [s.utterance_id for s in started] == [0, 1]
    first, second = ended
    assert first.start_sample == 0
    assert first.end_sample == first.speech_end_sample == max_windows * WINDOW_SAMPLES
    assert (first.end_sample - first.start_sample) / 16_000 <= OPTS.max_utterance_s + 0.032
    # The next utterance starts right where the cut was, in the same step.
    cut_window = next(i for i, d in events if isinstance(d, UtteranceEnded))
    same_step = [d for i, d in events if i == cut_window]
    assert same_step == [first, SpeechStarted(1, first.end_sample)]
    assert second.start_sample == first.end_sample
    assert second.speech_end_sample == (max_windows + 100) * WINDOW_SAMPLES
    # Every interim stays inside its own utterance.
    for interim in _of(InterimDue, events):
        owner = ended[interim.utterance_id]
        assert owner.start_sample <= interim.start_sample < interim.end_sample <= owner.end_sample


def test_max_length_with_small_limit():
    options = EndpointOptions(max_utterance_s=1.0, soft_max_utterance_s=0.5)
    _, events = _run([SPEECH] * 100, UtterancePolicy(options))
    ended = _of(UtteranceEnded, events)
    assert len(ended) >= 3
    assert all(e.reason == "max_length" for e in ended)
    for a, b in itertools.pairwise(ended):
        assert b.start_sample == a.end_sample  # contiguous: no audio lost between cuts
        assert b.utterance_id == a.utterance_id + 1
    assert all((e.end_sample - e.start_sample) / 16_000 <= 1.0 + 0.032 for e in ended)


def test_max_length_cut_on_a_pause_starts_no_empty_utterance():
    options = EndpointOptions(max_utterance_s=1.0)
    _, events = _run([SPEECH] * 31 + [SILENCE] * 20, UtterancePolicy(options))
    ended = _of(UtteranceEnded, events)
    assert [e.reason for e in ended] == ["max_length"]
    assert [s.utterance_id for s in _of(SpeechStarted, events)] == [0]


def test_long_utterances_end_on_shorter_silence():
    long_silence_windows = -(-OPTS.samples(OPTS.long_min_silence_ms) // WINDOW_SAMPLES)  # 3
    soft_windows = int(OPTS.soft_max_utterance_s * 16_000) // WINDOW_SAMPLES + 10
    probs = [SPEECH] * soft_windows + [SILENCE] * long_silence_windows
    _, events = _run(probs)
    (ended,) = _of(UtteranceEnded, events)
    assert ended.reason == "silence"
    # A short utterance does not end on the same pause.
    _, events = _run([SPEECH] * 30 + [SILENCE] * long_silence_windows)
    assert _of(UtteranceEnded, events) == []


def test_finish_during_speech_covers_the_tail():
    probs = [SILENCE] * 10 + [SPEECH] * 20
    policy, events = _run(probs)
    assert len(_of(SpeechStarted, events)) == 1
    total = len(probs) * WINDOW_SAMPLES + 300  # samples the VAD has not seen a window of yet
    (ended,) = policy.finish(total)
    assert ended == UtteranceEnded(0, 10 * WINDOW_SAMPLES - PRE_ROLL, total, total, "end_of_stream")
    assert not policy.in_speech
    assert policy.finish(total) == []


def test_finish_during_a_pause_keeps_the_trailing_audio():
    policy, _ = _run([SPEECH] * 20 + [SILENCE] * 5)
    (ended,) = policy.finish(25 * WINDOW_SAMPLES)
    assert ended.reason == "end_of_stream"
    assert ended.end_sample == 25 * WINDOW_SAMPLES


def test_finish_confirms_a_pending_onset_of_reasonable_length():
    policy, events = _run([SILENCE] * 5 + [SPEECH] * 3)  # 96 ms: not yet confirmed
    assert events == []
    decisions = policy.finish(8 * WINDOW_SAMPLES)
    assert [type(d) for d in decisions] == [SpeechStarted, UtteranceEnded]
    assert decisions[1].end_sample == 8 * WINDOW_SAMPLES


def test_finish_drops_a_tiny_pending_blip():
    policy, _ = _run([SILENCE] * 5 + [SPEECH] * 1)
    assert policy.finish(6 * WINDOW_SAMPLES) == []


def test_finish_when_idle_gives_nothing():
    policy, _ = _run([SPEECH] * 20 + [SILENCE] * 20)
    assert not policy.in_speech
    assert policy.finish(40 * WINDOW_SAMPLES) == []


def test_utterance_ids_increase_and_do_not_overlap():
    probs = ([SILENCE] * 15 + [SPEECH] * 20) * 4 + [SILENCE] * 20
    _, events = _run(probs)
    ended = _of(UtteranceEnded, events)
    assert [e.utterance_id for e in ended] == [0, 1, 2, 3]
    assert [s.utterance_id for s in _of(SpeechStarted, events)] == [0, 1, 2, 3]
    for a, b in itertools.pairwise(ended):
        assert b.start_sample >= a.end_sample


def test_pre_roll_never_reaches_into_the_previous_utterance():
    # 11 windows of silence: just enough to end the first, then the pre-roll of the second
    # would reach back past the first one's end.
    probs = [SPEECH] * 20 + [SILENCE] * (MIN_SILENCE_WINDOWS + 1) + [SPEECH] * 20 + [SILENCE] * 20
    _, events = _run(probs)
    first, second = _of(UtteranceEnded, events)
    assert second.start_sample == first.end_sample


def test_no_interim_after_the_utterance_ends():
    probs = ([SPEECH] * 40 + [SILENCE] * 3 + [SPEECH] * 10 + [SILENCE] * 30) * 3
    _, events = _run(probs)
    ended_ids: set[int] = set()
    for decision in _decisions(events):
        if isinstance(decision, InterimDue):
            assert decision.utterance_id not in ended_ids
        elif isinstance(decision, UtteranceEnded):
            ended_ids.add(decision.utterance_id)
    assert ended_ids == {0, 1, 2}


def test_position_and_open_start():
    policy = UtterancePolicy()
    assert policy.open_start_sample is None
    for _ in range(10):
        policy.step(SILENCE)
    policy.step(SPEECH)
    assert policy.position_sample == 11 * WINDOW_SAMPLES
    assert policy.in_speech
    assert policy.open_start_sample == 10 * WINDOW_SAMPLES - PRE_ROLL


# -- splitting a long turn at a sentence end ---------------------------------------------------


def _long_turn(dip_at: int, total: int, dip_windows: int = 3, dip: float = SILENCE):
    """Speech from window 0 with a short dip (too short to end the utterance) at ``dip_at``."""
    return [dip if dip_at <= i < dip_at + dip_windows else SPEECH for i in range(total)]


def test_split_cuts_at_the_quietest_window_and_speech_goes_on():
    policy, _ = _run(_long_turn(dip_at=100, total=140))
    asked = 100 * WINDOW_SAMPLES + 300  # near, not exactly on, the dip
    decisions = policy.split(0, asked)
    ended, started = decisions
    assert isinstance(ended, UtteranceEnded) and ended.reason == "sentence" and ended.utterance_id == 0
    assert 100 * WINDOW_SAMPLES <= ended.end_sample <= 103 * WINDOW_SAMPLES  # inside the dip
    assert isinstance(started, SpeechStarted) and started.utterance_id == 1 and started.start_sample == ended.end_sample
    # The rest of the turn continues as utterance 1 and ends normally.
    _, events = _run([SPEECH] * 20 + [SILENCE] * MIN_SILENCE_WINDOWS, policy)
    (last,) = _of(UtteranceEnded, events)
    assert last.utterance_id == 1 and last.start_sample == ended.end_sample and last.reason == "silence"


def test_split_needs_a_dip_when_asked_to():
    shallow = (1 + OPTS.split_pause_threshold) / 2  # dipped, but not to a pause
    policy, _ = _run(_long_turn(dip_at=100, total=140, dip=shallow))
    assert policy.split(0, 101 * WINDOW_SAMPLES, require_pause=True) == []
    assert policy.split(0, 101 * WINDOW_SAMPLES)  # a confirmed boundary needs no dip


def test_split_of_a_finished_or_other_utterance_does_nothing():
    policy, _ = _run(_long_turn(dip_at=100, total=140))
    assert policy.split(1, 100 * WINDOW_SAMPLES) == []  # not the utterance in progress
    _run([SILENCE] * MIN_SILENCE_WINDOWS, policy)
    assert policy.split(0, 100 * WINDOW_SAMPLES) == []  # it has ended


def test_split_never_leaves_a_part_too_short():
    policy, _ = _run(_long_turn(dip_at=3, total=140))
    assert policy.split(0, 4 * WINDOW_SAMPLES) == []  # the first part would be a blip
    policy, _ = _run([SPEECH] * 140)
    assert policy.split(0, 139 * WINDOW_SAMPLES, radius_ms=10) == []  # no room after the cut
