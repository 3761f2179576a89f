"""The recorder keeps live calls going when the database fails, and loses nothing it can retry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from assist.calllog.recorder import CallRecorder
from assist.calllog.sqlite import SqliteStore
from assist.calllog.store import StoreError


class FlakyStore(SqliteStore):
    """The real SQLite store, with a switch that makes every write fail like a full disk."""

    broken = False

    def append(self, call_id: str, **rows: Any) -> None:
        if self.broken:
            raise StoreError("database or disk is full")
        super().append(call_id, **rows)


def row(call_id: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "node_id": "n",
        "platform": "native",
        "platform_call_id": call_id,
        "agent_id": "a",
        "language": "en",
        "started_at": 1.0,
    }


def utterance(i: int) -> dict[str, Any]:
    return {"speaker": "customer", "utterance_id": i, "start_s": i, "end_s": i + 1, "emitted_s": i + 1, "text": f"u{i}"}


async def test_failed_writes_are_queued_reported_and_retried_in_order(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "calls.db")
    store.migrate()
    recorder = CallRecorder(lambda: store, final_timeout_s=0.5)
    assert await recorder.write("start", lambda s: s.start_call(row("c")))
    store.broken = True
    for i in range(3):
        ok = await recorder.write(f"u{i}", lambda s, i=i: s.append("c", utterances=[utterance(i)]))
        assert not ok
    assert not await asyncio.get_running_loop().run_in_executor(None, recorder.flush)  # all tried, none stored
    assert not recorder.healthy and recorder.status()["backlog"] == 3
    assert "disk is full" in (recorder.status()["error"] or "")
    store.broken = False
    recorder.retry()
    assert await asyncio.get_running_loop().run_in_executor(None, recorder.flush)
    assert recorder.healthy
    assert [u["text"] for u in store.utterances("c")] == ["u0", "u1", "u2"]
    recorder.close()


async def test_an_unreachable_database_does_not_block_the_caller(tmp_path: Path) -> None:
    attempts = []

    def cannot_open() -> SqliteStore:
        attempts.append(1)
        raise StoreError("cannot reach PostgreSQL: connection refused")

    recorder = CallRecorder(cannot_open, final_timeout_s=0.2)
    assert not await recorder.write("final", lambda s: None)
    assert recorder.status()["healthy"] is False and recorder.status()["database"] is None
    try:
        await recorder.read(lambda s: s.count_utterances())
    except StoreError as error:
        assert "unavailable" in str(error)
    else:
        raise AssertionError("a read without a database must fail clearly")
    assert attempts
    recorder.close(timeout_s=1)
