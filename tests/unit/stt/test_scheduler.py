"""JobQueue policy (no threads) and DecodeScheduler with a fake engine."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from assist.stt.engine import DecodeItem, DecodeOutput, EngineOptions, WhisperEngine
from assist.stt.scheduler import DecodeJob, DecodeScheduler, JobQueue

WAIT_S = 5.0  # generous upper bound for thread hand-offs; never a timing assertion


def _item(n_samples: int = 1_600, language: str = "en") -> DecodeItem:
    return DecodeItem(audio=np.zeros(n_samples, dtype=np.float32), language=language)


def _job(kind, stream, *, model="tiny.en", at=0.0, n_samples=1_600) -> DecodeJob:
    return DecodeJob(kind, stream, _item(n_samples), model, submitted_at=at)


def _by_model(job: DecodeJob):
    return job.model


# -- JobQueue ------------------------------------------------------------------------------------


def test_empty_queue_gives_nothing():
    queue = JobQueue(_by_model)
    assert len(queue) == 0
    assert queue.take(0.0) == ([], [])


def test_finals_are_taken_before_earlier_interims():
    queue = JobQueue(_by_model)
    interim = _job("interim", "a", at=0.0)
    final = _job("final", "b", at=0.1)
    queue.put(interim)
    queue.put(final)
    assert queue.depth_finals == 1
    batch, dropped = queue.take(0.2)
    assert batch == [final]
    assert dropped == []
    batch, _ = queue.take(0.2)
    assert batch == [interim]
    assert len(queue) == 0


def test_revisions_go_after_finals_and_before_interims():
    queue = JobQueue(_by_model, max_batch=1)
    interim = _job("interim", "a", at=0.0)
    revision = _job("revision", "a", at=0.1)
    final = _job("final", "b", at=0.2)
    for job in (interim, revision, final):
        queue.put(job)
    assert [queue.take(0.3)[0][0] for _ in range(3)] == [final, revision, interim]


def test_revisions_are_never_coalesced_or_dropped_as_stale():
    queue = JobQueue(_by_model, max_batch=4, max_interim_age_s=1.0)
    first, second = _job("revision", "a", at=0.0), _job("revision", "a", at=0.1)
    assert queue.put(first) == [] and queue.put(second) == []
    batch, dropped = queue.take(60.0)
    assert batch == [first, second] and dropped == []
    assert queue.drop_interims() == []


def test_revisions_take_at_most_their_share_of_the_workers():
    """A context window holds a worker for a second or more: with one worker's share for
    revisions, the next revision waits until the running one is done, and a final or an interim
    never has to wait behind two of them."""
    queue = JobQueue(_by_model, max_batch=1, max_revision_workers=1)
    first, second = _job("revision", "a", at=0.0), _job("revision", "b", at=0.0)
    interim, final = _job("interim", "c", at=0.1), _job("final", "d", at=0.2)
    for job in (first, second, interim):
        queue.put(job)
    running, _ = queue.take(0.3)
    assert running == [first] and queue.revisions_running == 1
    assert queue.take(0.3)[0] == [interim]  # the other worker: not the second revision
    queue.put(final)
    assert queue.take(0.3)[0] == [final]
    assert queue.take(0.3)[0] == []  # only the held-back revision is left
    queue.finished(running)
    assert queue.take(0.3)[0] == [second]
    queue.finished([second])
    assert queue.revisions_running == 0


def test_finals_keep_fifo_order():
    queue = JobQueue(_by_model, max_batch=1)
    finals = [_job("final", f"s{i}", at=i * 0.01) for i in range(4)]
    for job in finals:
        assert queue.put(job) == []
    assert [queue.take(1.0)[0][0] for _ in finals] == finals


def test_newer_interim_supersedes_older_for_same_stream():
    queue = JobQueue(_by_model)
    old = _job("interim", "a", at=0.0)
    other = _job("interim", "b", at=0.05)
    new = _job("interim", "a", at=0.1)
    assert queue.put(old) == []
    assert queue.put(other) == []
    assert queue.put(new) == [old]
    assert len(queue) == 2
    batch, _ = queue.take(0.2)
    assert set(batch) == {new, other}
    assert old not in batch
    assert queue.stats.interims_superseded == 1


def test_final_supersedes_its_streams_queued_interim():
    queue = JobQueue(_by_model)
    interim_a = _job("interim", "a", at=0.0)
    interim_b = _job("interim", "b", at=0.0)
    final_a = _job("final", "a", at=0.1)
    queue.put(interim_a)
    queue.put(interim_b)
    assert queue.put(final_a) == [interim_a]
    assert queue.take(0.2)[0] == [final_a]
    assert queue.take(0.2)[0] == [interim_b]
    assert len(queue) == 0
    assert queue.stats.interims_superseded == 1


def test_stale_interims_are_dropped():
    queue = JobQueue(_by_model, max_interim_age_s=1.5)
    stale = _job("interim", "a", at=0.0)
    fresh = _job("interim", "b", at=1.0)
    old_final = _job("final", "c", at=0.0)
    queue.put(stale)
    queue.put(fresh)
    queue.put(old_final)
    batch, dropped = queue.take(2.0)
    assert batch == [old_final]  # finals are never dropped for age
    assert dropped == [stale]
    batch, dropped = queue.take(2.0)
    assert batch == [fresh]
    assert dropped == []
    assert queue.stats.interims_stale == 1


def test_interim_exactly_at_max_age_is_kept():
    queue = JobQueue(_by_model, max_interim_age_s=1.0)
    job = _job("interim", "a", at=0.0)
    queue.put(job)
    assert queue.take(1.0) == ([job], [])


def test_superseding_refreshes_the_age():
    queue = JobQueue(_by_model, max_interim_age_s=1.0)
    queue.put(_job("interim", "a", at=0.0))
    newer = _job("interim", "a", at=0.9)
    queue.put(newer)
    assert queue.take(1.5) == ([newer], [])


def test_batches_respect_max_batch():
    queue = JobQueue(_by_model, max_batch=3)
    finals = [_job("final", f"f{i}", at=0.0) for i in range(7)]
    for job in finals:
        queue.put(job)
    sizes = []
    taken = []
    while len(queue):
        batch, _ = queue.take(0.0)
        sizes.append(len(batch))
        taken.extend(batch)
    assert sizes == [3, 3, 1]
    assert taken == finals


def test_interim_batches_respect_max_batch():
    queue = JobQueue(_by_model, max_batch=2)
    for i in range(5):
        queue.put(_job("interim", f"s{i}", at=0.0))
    sizes = []
    while len(queue):
        sizes.append(len(queue.take(0.0)[0]))
    assert sizes == [2, 2, 1]


def test_batches_share_a_batch_key():
    queue = JobQueue(_by_model, max_batch=4)
    jobs = [
        _job("final", "s0", model="tiny.en"),
        _job("final", "s1", model="base"),
        _job("final", "s2", model="tiny.en"),
        _job("final", "s3", model="base"),
        _job("final", "s4", model="tiny.en"),
    ]
    for job in jobs:
        queue.put(job)
    first, _ = queue.take(0.0)
    second, _ = queue.take(0.0)
    assert first == [jobs[0], jobs[2], jobs[4]]
    assert second == [jobs[1], jobs[3]]


def test_interim_batches_share_a_batch_key():
    queue = JobQueue(_by_model, max_batch=4)
    jobs = [
        _job("interim", "s0", model="base"),
        _job("interim", "s1", model="tiny.en"),
        _job("interim", "s2", model="base"),
    ]
    for job in jobs:
        queue.put(job)
    assert queue.take(0.0)[0] == [jobs[0], jobs[2]]  # the oldest interim's key goes first
    assert queue.take(0.0)[0] == [jobs[1]]


def test_drop_interims_keeps_finals():
    queue = JobQueue(_by_model)
    interims = [_job("interim", "a"), _job("interim", "b")]
    final = _job("final", "c")
    for job in [*interims, final]:
        queue.put(job)
    assert queue.drop_interims() == interims
    assert len(queue) == 1
    assert queue.take(0.0)[0] == [final]


def test_stats_count_thinned_interims():
    queue = JobQueue(_by_model, max_interim_age_s=1.0)
    queue.put(_job("interim", "a", at=0.0))
    queue.put(_job("interim", "a", at=0.1))  # supersedes
    queue.put(_job("interim", "b", at=0.0))
    queue.put(_job("final", "b", at=0.2))  # supersedes b's interim
    queue.put(_job("interim", "c", at=0.0))
    queue.take(5.0)  # a and c are stale by now
    stats = queue.stats
    assert stats.submitted == 5
    assert stats.interims_superseded == 2
    assert stats.interims_stale == 2
    assert stats.interims_thinned == 4


# -- DecodeScheduler with a fake engine ----------------------------------------------------------


class FakeEngine(WhisperEngine):
    """Echoes each item's length; can be held inside decode() and told to fail."""

    def __init__(self, name: str = "fake", *, hold: bool = False, fail_samples: int | None = None):
        self.name = name
        self.multilingual = False
        self.options = EngineOptions()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.entered = threading.Event()
        self.fail_samples = fail_samples
        self.batches: list[list[int]] = []  # audio lengths of each decoded batch, in order

    def decode(self, items: Sequence[DecodeItem]) -> list[DecodeOutput]:
        self.batches.append([len(item.audio) for item in items])
        self.entered.set()
        if not self.release.wait(WAIT_S):
            raise TimeoutError("test never released the fake engine")
        if any(len(item.audio) == self.fail_samples for item in items):
            raise RuntimeError("decoder exploded")
        return [
            DecodeOutput(
                text=f"samples={len(item.audio)}",
                avg_logprob=-0.1,
                no_speech_prob=0.0,
                padded_s=self.window_s(item),
                non_speech=False,
            )
            for item in items
        ]


@pytest.fixture
def make_scheduler():
    made: list[tuple[DecodeScheduler, list[FakeEngine]]] = []

    def make(*engines: FakeEngine, **kwargs) -> DecodeScheduler:
        scheduler = DecodeScheduler({e.name: e for e in engines}, **kwargs)
        made.append((scheduler, list(engines)))
        return scheduler

    yield make
    for scheduler, engines in made:
        for engine in engines:
            engine.release.set()
        scheduler.close(timeout_s=WAIT_S)


def _text(future: concurrent.futures.Future) -> str:
    return future.result(timeout=WAIT_S).output.text


def test_fake_engine_uses_the_real_window_policy():
    engine = FakeEngine()
    seconds = 16_000

    def window(n_samples: int, purpose: str = "final") -> float:
        return engine.window_s(DecodeItem(np.zeros(n_samples, dtype=np.float32), purpose=purpose))

    assert window(1 * seconds) == 10.0  # finals: 10/20/30 s buckets
    assert window(12 * seconds) == 20.0
    assert window(29 * seconds) == 30.0  # never past Whisper's window
    assert window(1 * seconds, "interim") == 4.0  # interims: fitted, at least 4 s
    assert window(5 * seconds, "interim") == 6.0
    assert window(1 * seconds, "revision") == 30.0  # revisions: the whole window


def test_finals_complete_with_results(make_scheduler):
    engine = FakeEngine()
    scheduler = make_scheduler(engine)
    futures = [scheduler.submit("final", ("call", i), _item(1_000 + i), "fake") for i in range(3)]
    for i, future in enumerate(futures):
        result = future.result(timeout=WAIT_S)
        assert result.output.text == f"samples={1_000 + i}"
        assert result.batch_size >= 1
        assert result.queued_ms >= 0 and result.decode_ms >= 0
    assert scheduler.stats.finals_done == 3
    assert sum(len(b) for b in engine.batches) == 3


def test_unknown_model_is_rejected(make_scheduler):
    scheduler = make_scheduler(FakeEngine())
    with pytest.raises(KeyError, match="nope"):
        scheduler.submit("final", "s", _item(), "nope")


def test_interims_are_coalesced_while_the_worker_is_busy(make_scheduler):
    engine = FakeEngine(hold=True)
    scheduler = make_scheduler(engine)
    running = scheduler.submit("final", "other", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    interims = [scheduler.submit("interim", "a", _item(200 + i), "fake") for i in range(4)]
    assert all(f.cancelled() for f in interims[:-1])
    assert scheduler.depth == 1
    engine.release.set()
    assert _text(running) == "samples=100"
    assert _text(interims[-1]) == "samples=203"
    assert engine.batches == [[100], [203]]
    assert scheduler.stats.interims_superseded == 3
    assert scheduler.stats.interims_done == 1


def test_finals_queued_behind_a_running_batch_go_before_interims(make_scheduler):
    engine = FakeEngine(hold=True)
    scheduler = make_scheduler(engine, max_batch=4)
    running = scheduler.submit("final", "x", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    interim = scheduler.submit("interim", "a", _item(200), "fake")
    finals = [scheduler.submit("final", s, _item(300 + i), "fake") for i, s in enumerate("bc")]
    engine.release.set()
    for future in [running, interim, *finals]:
        future.result(timeout=WAIT_S)
    assert engine.batches == [[100], [300, 301], [200]]
    assert finals[0].result().batch_size == 2


def test_final_cancels_the_streams_queued_interim(make_scheduler):
    engine = FakeEngine(hold=True)
    scheduler = make_scheduler(engine)
    running = scheduler.submit("final", "x", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    interim = scheduler.submit("interim", "a", _item(200), "fake")
    final = scheduler.submit("final", "a", _item(300), "fake")
    assert interim.cancelled()
    engine.release.set()
    assert _text(running) == "samples=100"
    assert _text(final) == "samples=300"
    assert engine.batches == [[100], [300]]


def test_a_failing_batch_fails_only_its_own_jobs(make_scheduler):
    bad_samples = 12 * 16_000  # a 12 s item: a different encoder window, so its own batch
    engine = FakeEngine(hold=True, fail_samples=bad_samples)
    scheduler = make_scheduler(engine)
    running = scheduler.submit("final", "x", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    bad = scheduler.submit("final", "bad", _item(bad_samples), "fake")
    good = scheduler.submit("final", "good", _item(300), "fake")
    engine.release.set()
    assert _text(running) == "samples=100"
    with pytest.raises(RuntimeError, match="exploded"):
        bad.result(timeout=WAIT_S)
    assert _text(good) == "samples=300"
    assert engine.batches == [[100], [bad_samples], [300]]
    assert scheduler.stats.errors == 1
    # The worker is still alive and serving.
    later = scheduler.submit("interim", "y", _item(400), "fake")
    assert _text(later) == "samples=400"


def test_a_failing_batch_fails_every_job_in_it(make_scheduler):
    engine = FakeEngine(hold=True, fail_samples=666)
    scheduler = make_scheduler(engine, max_batch=4)
    running = scheduler.submit("final", "x", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    same_batch = [
        scheduler.submit("final", "a", _item(666), "fake"),
        scheduler.submit("final", "b", _item(300), "fake"),
    ]
    engine.release.set()
    running.result(timeout=WAIT_S)
    for future in same_batch:
        with pytest.raises(RuntimeError):
            future.result(timeout=WAIT_S)


def test_batches_are_split_by_model(make_scheduler):
    tiny, base = FakeEngine("tiny", hold=True), FakeEngine("base")
    scheduler = make_scheduler(tiny, base, max_batch=4)
    running = scheduler.submit("final", "x", _item(100), "tiny")
    assert tiny.entered.wait(WAIT_S)
    a = scheduler.submit("final", "a", _item(200), "base")
    b = scheduler.submit("final", "b", _item(300), "tiny")
    c = scheduler.submit("final", "c", _item(400), "base")
    tiny.release.set()
    for future in (running, a, b, c):
        future.result(timeout=WAIT_S)
    assert tiny.batches == [[100], [300]]
    assert base.batches == [[200, 400]]


def test_close_cancels_queued_interims_and_finishes_finals(make_scheduler):
    engine = FakeEngine(hold=True)
    scheduler = make_scheduler(engine)
    running = scheduler.submit("final", "x", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    interim = scheduler.submit("interim", "a", _item(200), "fake")
    final = scheduler.submit("final", "b", _item(300), "fake")
    closer = threading.Thread(target=scheduler.close, kwargs={"timeout_s": WAIT_S})
    closer.start()
    with pytest.raises(concurrent.futures.CancelledError):
        interim.result(timeout=WAIT_S)
    engine.release.set()
    closer.join(WAIT_S)
    assert not closer.is_alive()
    assert _text(running) == "samples=100"
    assert _text(final) == "samples=300"
    assert engine.batches == [[100], [300]]
    with pytest.raises(RuntimeError, match="closed"):
        scheduler.submit("final", "c", _item(), "fake")


def test_caller_cancelled_job_is_skipped(make_scheduler):
    engine = FakeEngine(hold=True)
    scheduler = make_scheduler(engine)
    running = scheduler.submit("final", "x", _item(100), "fake")
    assert engine.entered.wait(WAIT_S)
    doomed = scheduler.submit("final", "a", _item(200), "fake")
    kept = scheduler.submit("final", "b", _item(300), "fake")
    assert doomed.cancel()
    engine.release.set()
    running.result(timeout=WAIT_S)
    assert _text(kept) == "samples=300"
    assert engine.batches == [[100], [300]]  # the cancelled job never reaches the engine


def test_optional_revisions_are_shed_while_the_decoders_are_behind(make_scheduler):
    """Turns and windows decoded again are optional: with a backlog of them waiting, the next is
    refused (and counted) rather than queued behind it; finals are never refused."""
    engine = FakeEngine(hold=True)
    scheduler = make_scheduler(engine, workers=1)
    busy = scheduler.submit("final", "a", _item(), "fake")
    assert engine.entered.wait(WAIT_S)  # the only worker is inside a decode
    waiting = []
    while scheduler.take_optional(2):
        waiting.append(scheduler.submit("revision", "a", _item(3_200), "fake"))
        assert len(waiting) <= 2
    assert len(waiting) == 2 and scheduler.stats.revisions_shed == 1
    scheduler.submit("final", "b", _item(), "fake")  # finals still go in
    engine.release.set()
    assert _text(busy) == "samples=1600" and all(_text(f) == "samples=3200" for f in waiting)
    assert scheduler.take_optional(2)  # caught up
