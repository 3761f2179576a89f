"""One decode queue for every call in the process.

Rules, in order:
1. Finals first, then revisions (a final decoded again on a longer window because its first
   decode looked wrong: it was already shown, so it can wait a little), then interims. A final
   never waits behind a queued interim or revision (at most behind the batch already running).
2. At most one queued interim per speaker stream: a newer one replaces the older (coalescing),
   and an interim older than ``max_interim_age_s`` is dropped. Under overload interims thin out;
   finals only slow down once finals alone exceed capacity.
3. Jobs that share a model, language and encoder window are decoded as one batch (the decoder
   gains from batching on CPU; the encoder does not lose).
4. Revisions occupy at most ``max_revision_workers`` workers at once (by default all but one):
   a context window takes a worker for a second or more, and a final must not wait behind one.

``JobQueue`` holds the policy as plain logic; ``DecodeScheduler`` runs it on worker threads.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal

from assist.stt.engine import DecodeItem, DecodeOutput, WhisperEngine

log = logging.getLogger(__name__)

JobKind = Literal["final", "interim", "revision"]


@dataclass(frozen=True, slots=True)
class JobResult:
    output: DecodeOutput
    queued_ms: float
    decode_ms: float
    batch_size: int


@dataclass(eq=False, slots=True)
class DecodeJob:
    kind: JobKind
    stream_key: Hashable  # (call id, speaker): the unit of interim coalescing
    item: DecodeItem
    model: str
    submitted_at: float = field(default_factory=time.perf_counter)
    future: concurrent.futures.Future[JobResult] = field(default_factory=concurrent.futures.Future)


BatchKey = Callable[[DecodeJob], Hashable]


@dataclass(slots=True)
class QueueStats:
    submitted: int = 0
    finals_done: int = 0
    revisions_done: int = 0
    revisions_shed: int = 0  # turns and windows not decoded again: the decoders were behind
    interims_done: int = 0
    interims_superseded: int = 0
    interims_stale: int = 0
    batches: int = 0
    errors: int = 0

    @property
    def interims_thinned(self) -> int:
        return self.interims_superseded + self.interims_stale


class JobQueue:
    """The scheduling policy, without threads: put jobs in, take batches out."""

    def __init__(
        self,
        batch_key: BatchKey,
        *,
        max_batch: int = 4,
        max_interim_age_s: float = 1.5,
        max_revision_workers: int = 1,
    ):
        self._batch_key = batch_key
        self.max_batch = max_batch
        self.max_interim_age_s = max_interim_age_s
        self.max_revision_workers = max_revision_workers
        self.revisions_running = 0  # batches of revisions handed out and not finished
        self._finals: deque[DecodeJob] = deque()
        self._revisions: deque[DecodeJob] = deque()
        self._interims: dict[Hashable, DecodeJob] = {}  # insertion order = age order
        self.stats = QueueStats()

    def __len__(self) -> int:
        return len(self._finals) + len(self._revisions) + len(self._interims)

    @property
    def depth_finals(self) -> int:
        return len(self._finals)

    @property
    def depth_revisions(self) -> int:
        return len(self._revisions)

    def final_wait_s(self, now: float) -> float:
        """How long the oldest queued final has waited: how far behind the decoders are."""
        return now - self._finals[0].submitted_at if self._finals else 0.0

    def put(self, job: DecodeJob) -> list[DecodeJob]:
        """Queue a job; returns the interims it supersedes (to be cancelled by the caller)."""
        self.stats.submitted += 1
        if job.kind == "revision":
            self._revisions.append(job)
            return []
        if job.kind == "final":
            self._finals.append(job)
            # The utterance is over: its pending interim is worthless now.
            stale = self._interims.pop(job.stream_key, None)
            self.stats.interims_superseded += stale is not None
            return [stale] if stale else []
        replaced = self._interims.pop(job.stream_key, None)
        self._interims[job.stream_key] = job
        self.stats.interims_superseded += replaced is not None
        return [replaced] if replaced else []

    def take(self, now: float) -> tuple[list[DecodeJob], list[DecodeJob]]:
        """The next batch to decode, and the interims dropped as too old to be useful."""
        dropped = [job for job in self._interims.values() if now - job.submitted_at > self.max_interim_age_s]
        for job in dropped:
            del self._interims[job.stream_key]
        self.stats.interims_stale += len(dropped)
        if self._finals:
            return self._take_from(self._finals), dropped
        if self._revisions and self.revisions_running < self.max_revision_workers:
            self.revisions_running += 1
            return self._take_from(self._revisions), dropped
        if self._interims:
            return self._take_interims(), dropped
        return [], dropped

    def finished(self, batch: list[DecodeJob]) -> None:
        """A batch handed out by ``take`` is done (decoded, failed or cancelled)."""
        if batch and batch[0].kind == "revision":
            self.revisions_running -= 1

    def drop_interims(self) -> list[DecodeJob]:
        dropped = list(self._interims.values())
        self._interims.clear()
        self.stats.interims_stale += len(dropped)
        return dropped

    def _take_from(self, jobs: deque[DecodeJob]) -> list[DecodeJob]:
        head = jobs.popleft()
        key = self._batch_key(head)
        batch = [head]
        for job in list(jobs):
            if len(batch) >= self.max_batch:
                break
            if self._batch_key(job) == key:
                jobs.remove(job)
                batch.append(job)
        return batch

    def _take_interims(self) -> list[DecodeJob]:
        jobs = list(self._interims.values())
        key = self._batch_key(jobs[0])
        batch = [job for job in jobs if self._batch_key(job) == key][: self.max_batch]
        for job in batch:
            del self._interims[job.stream_key]
        return batch


class DecodeScheduler:
    """Runs the queue on worker threads; every call of the process submits here."""

    def __init__(
        self,
        engines: dict[str, WhisperEngine],
        *,
        max_batch: int = 4,
        max_interim_age_s: float = 1.5,
        workers: int = 1,
    ) -> None:
        self.engines = engines
        self._queue = JobQueue(
            self._batch_key,
            max_batch=max_batch,
            max_interim_age_s=max_interim_age_s,
            max_revision_workers=max(1, workers - 1),
        )
        self._cond = threading.Condition()
        self._closed = False
        self.busy_workers = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"stt-worker-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _batch_key(self, job: DecodeJob) -> Hashable:
        engine = self.engines[job.model]
        return (job.model, engine.window_s(job.item), job.item.language if engine.multilingual else "en")

    @property
    def stats(self) -> QueueStats:
        return self._queue.stats

    def final_wait_s(self) -> float:
        with self._cond:
            return self._queue.final_wait_s(time.perf_counter())

    @property
    def depth(self) -> int:
        with self._cond:
            return len(self._queue)

    def take_optional(self, max_backlog: int) -> bool:
        """May optional work (a turn or window decoded again) be queued now? Not while ``max_backlog``
        revisions already wait: the decoders are behind, and the fast finals stand (counted as shed)."""
        with self._cond:
            if self._queue.depth_revisions < max_backlog:
                return True
            self._queue.stats.revisions_shed += 1
            return False

    def submit(
        self, kind: JobKind, stream_key: Hashable, item: DecodeItem, model: str
    ) -> concurrent.futures.Future[JobResult]:
        if model not in self.engines:
            raise KeyError(f"no engine loaded for model {model!r}")
        job = DecodeJob(kind, stream_key, item, model)
        with self._cond:
            if self._closed:
                raise RuntimeError("decode scheduler is closed")
            superseded = self._queue.put(job)
            self._cond.notify()
        for old in superseded:
            old.future.cancel()
        return job.future

    def close(self, timeout_s: float = 10.0) -> None:
        """Finish queued finals and revisions, cancel queued interims, stop the workers."""
        with self._cond:
            self._closed = True
            dropped = self._queue.drop_interims()
            self._cond.notify_all()
        for job in dropped:
            job.future.cancel()
        for thread in self._threads:
            thread.join(timeout_s)

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    batch, dropped = self._queue.take(time.perf_counter())
                    for job in dropped:
                        job.future.cancel()
                    if batch:
                        break
                    if self._closed:
                        return
                    self._cond.wait()
                self.busy_workers += 1
            try:
                self._run(batch)
            finally:
                with self._cond:
                    self.busy_workers -= 1
                    self._queue.finished(batch)
                    self._cond.notify()  # a revision held back for this worker may go now

    def _run(self, batch: list[DecodeJob]) -> None:
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        started = time.perf_counter()
        try:
            outputs = self.engines[batch[0].model].decode([job.item for job in batch])
            if len(outputs) != len(batch):
                raise RuntimeError(f"engine returned {len(outputs)} outputs for {len(batch)} items")
        except Exception as error:  # one bad batch fails its own jobs, never the worker
            log.exception("decode of %d job(s) failed", len(batch))
            self._queue.stats.errors += 1
            for job in batch:
                job.future.set_exception(error)
            return
        finished = time.perf_counter()
        self._queue.stats.batches += 1
        for job, output in zip(batch, outputs, strict=True):
            if job.kind == "final":
                self._queue.stats.finals_done += 1
            elif job.kind == "revision":
                self._queue.stats.revisions_done += 1
            else:
                self._queue.stats.interims_done += 1
            job.future.set_result(
                JobResult(
                    output=output,
                    queued_ms=(started - job.submitted_at) * 1000,
                    decode_ms=(finished - started) * 1000,
                    batch_size=len(batch),
                )
            )
