"""Writing the call log without ever holding up a live call.

One writer thread applies every write in order. A final is written (committed) before the
sidebar sees it, so a server killed mid-call has stored every final it delivered; that wait is
bounded (``final_timeout_s``): when the database is slow or gone, the final goes out anyway and
its write stays queued. Failed writes are kept in a bounded backlog and retried in order; the
failure is logged, counted (``assist_calllog_errors``) and shown on /readyz, and live
assistance carries on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge

from assist.calllog.store import CallStore, StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[CallStore], None]
RETRY_S = 5.0
ERROR_LOG_EVERY_S = 30.0


class StoreUnavailable(StoreError):
    """The call log is not reachable right now (writes are queued; reads fail)."""


class CallRecorder:
    def __init__(
        self,
        open_store: Callable[[], CallStore],
        *,
        registry: CollectorRegistry | None = None,
        final_timeout_s: float = 1.0,
        backlog_max: int = 200_000,
        after_finish: Sequence[Callable[[CallStore, str], object]] = (),
    ) -> None:
        self._open_store = open_store
        # Run in the writer, after a call is closed (the retention risk): its own failure is
        # logged and never undoes the close.
        self.after_finish = tuple(after_finish)
        self.final_timeout_s = final_timeout_s
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="calllog-write")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="calllog-read")
        self._backlog: deque[tuple[str, Write]] = deque()
        self._backlog_max = backlog_max
        self._lock = threading.Lock()
        self.store: CallStore | None = None
        self.last_error: str | None = None
        self._last_logged = 0.0
        self.dropped_writes = 0
        self.errors = Counter("assist_calllog_errors", "Call log writes that failed", registry=registry)
        self.writes = Counter("assist_calllog_writes", "Call log transactions committed", registry=registry)
        self.backlog_gauge = Gauge("assist_calllog_backlog", "Call log writes waiting for a retry", registry=registry)
        self.healthy_gauge = Gauge("assist_calllog_healthy", "1 when the call log accepts writes", registry=registry)
        self._closed = False
        self._writer.submit(self._ensure_store)  # connect and migrate off the caller's thread

    # -- state -----------------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self.store is not None and self.last_error is None and not self._backlog

    def status(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "database": self.store.dialect if self.store is not None else None,
            "backlog": len(self._backlog),
            "dropped_writes": self.dropped_writes,
            "error": self.last_error,
        }

    def _ensure_store(self) -> CallStore:
        if self.store is None:
            try:
                self.store = self._open_store()
            except StoreError as error:
                self._failed("open", error)
                raise
        return self.store

    def _failed(self, what: str, error: Exception) -> None:
        self.last_error = str(error)
        self.errors.inc()
        self.healthy_gauge.set(0)
        now = time.monotonic()
        if now - self._last_logged > ERROR_LOG_EVERY_S:  # loud, but not once per utterance
            self._last_logged = now
            log.error(
                "CALL LOG WRITE FAILED (%s): %s; %d write(s) queued for retry, live assistance continues",
                what,
                error,
                len(self._backlog),
            )

    # -- writing (on the writer thread) --------------------------------------------------------

    def _apply(self, what: str, write: Write) -> bool:
        """Run the backlog, then this write; anything that fails stays queued in order."""
        self._backlog.append((what, write))
        try:
            store = self._ensure_store()
        except StoreError:
            self._trim()
            return False
        while self._backlog:
            name, pending = self._backlog[0]
            try:
                pending(store)
            except StoreError as error:
                self._failed(name, error)
                self._trim()
                return False
            except Exception as error:  # a bug in one write must not block all later ones
                log.exception("call log write %s failed and is dropped", name)
                self._failed(name, error)
                self.dropped_writes += 1
            else:
                self.writes.inc()
            self._backlog.popleft()
        if self.last_error is not None:
            log.warning("call log writes succeed again; backlog written")
        self.last_error = None
        self.healthy_gauge.set(1)
        self.backlog_gauge.set(0)
        return True

    def _trim(self) -> None:
        while len(self._backlog) > self._backlog_max:
            self._backlog.popleft()
            self.dropped_writes += 1
        self.backlog_gauge.set(len(self._backlog))

    def submit(self, what: str, write: Write) -> Future[bool]:
        """Queue a write; it runs after every write queued before it."""
        if self._closed:
            future: Future[bool] = Future()
            future.set_result(False)
            return future
        return self._writer.submit(self._apply, what, write)

    async def write(self, what: str, write: Write, *, timeout_s: float | None = None) -> bool:
        """Queue a write and wait (bounded) for it to commit. False: not (yet) stored."""
        future = self.submit(what, write)
        if self.last_error is not None:
            return False  # the database is failing: do not make every final wait for it
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s or self.final_timeout_s)
        except TimeoutError:
            log.warning("call log write %s still pending after %.1f s", what, timeout_s or self.final_timeout_s)
            return False

    def retry(self) -> None:
        """Called periodically: flush the backlog once the database is back."""
        if self._backlog or self.store is None:
            self.submit("retry", lambda store: None)

    async def retry_forever(self) -> None:
        while True:
            await asyncio.sleep(RETRY_S)
            self.retry()

    # -- reading ---------------------------------------------------------------------------------

    async def read(self, query: Callable[[CallStore], T]) -> T:
        """Run a read on a reader thread (never the event loop)."""
        store = self.store
        if store is None:
            raise StoreUnavailable(f"the call log is unavailable: {self.last_error or 'still opening'}")
        return await asyncio.wrap_future(self._readers.submit(query, store))

    def wait_ready(self, timeout_s: float = 30.0) -> bool:
        """Block until the store is open (tests, CLI); False if it could not be opened."""
        try:
            self._writer.submit(lambda: None).result(timeout_s)
        except Exception:
            return False
        return self.store is not None

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Block until every queued write has been tried; True when nothing is left pending."""
        try:
            return bool(self._writer.submit(lambda: not self._backlog).result(timeout_s))
        except Exception:
            return False

    def close(self, timeout_s: float = 10.0) -> None:
        if self._closed:
            return
        self.flush(timeout_s)
        self._closed = True
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        if self.store is not None:
            self.store.close()
        if self._backlog:
            log.error("call log closed with %d write(s) not stored: %s", len(self._backlog), self.last_error)
