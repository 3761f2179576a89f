"""One call's entries in the call log: what the sidebar saw, in order, redacted.

Finals are committed before they are published (bounded wait, see recorder.py); every other
event is batched and written with the next final or on the next flush (about once a second),
so a crash loses at most the last second of interims and cards, never a delivered final.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from assist.calllog.recorder import CallRecorder, Write
from assist.calllog.store import CallStore

log = logging.getLogger(__name__)

Message = dict[str, Any]


def utterance_row(message: Message) -> Message:
    """The utterances-table row of a ``final`` message."""
    return {
        "speaker": message["speaker"],
        "utterance_id": message["utterance_id"],
        "start_s": message["start_s"],
        "end_s": message["end_s"],
        "emitted_s": message["emitted_s"],
        "text": message["text"],
        "words": message.get("words") or [],
        "confidence": message.get("confidence"),
        "language": message.get("language"),
        "latency": message.get("latency_ms") or {},
        "redactions": message.get("redactions") or [],
        "revision": int(message.get("revision") or 0),
    }


def call_tags(events: list[Message]) -> list[tuple[str, str]]:
    """What the call was about, for QA filters: intents matched, signals raised, offers shown."""
    tags: list[tuple[str, str]] = []
    for event in events:
        kind = event.get("type")
        if kind == "suggestion" and event.get("intent"):
            tags.append(("intent", str(event["intent"])))
        elif kind == "signal" and event.get("kind"):
            tags.append(("signal", str(event["kind"])))
        elif kind == "offer" and event.get("offer_id"):
            tags.append(("offer", str(event["offer_id"])))
    return tags


def status_for(reason: str) -> str:
    if reason == "server_shutdown":
        return "interrupted"
    if reason == "protocol_error":
        return "failed"
    return "completed"


class CallLog:
    def __init__(self, recorder: CallRecorder, call_id: str) -> None:
        self.recorder = recorder
        self.call_id = call_id
        self._seq = 0
        self._events: list[tuple[int, Message]] = []
        self._feedback: list[Message] = []

    def start(self, row: Message) -> None:
        self.recorder.submit(f"start {self.call_id}", lambda store: store.start_call(row))

    def event(self, message: Message) -> None:
        """Any event the sidebar saw, kept for replay; written with the next batch."""
        self._events.append((self._seq, message))
        self._seq += 1

    def feedback(self, entry: Message) -> None:
        self.event(entry)
        self._feedback.append(entry)

    async def final(self, message: Message) -> bool:
        """Store a final (and everything queued before it); True once it is committed."""
        self.event(message)
        return await self.recorder.write(f"final {self.call_id}", self._batch([utterance_row(message)]))

    def flush(self) -> None:
        if self._events or self._feedback:
            self.recorder.submit(f"events {self.call_id}", self._batch([]))

    def _batch(self, utterances: list[Message]) -> Write:
        """The pending rows (and these utterances) as one write; the pending lists start afresh."""
        events, feedback = self._events, self._feedback
        self._events, self._feedback = [], []
        call_id = self.call_id

        def write(store: CallStore) -> None:
            store.append(call_id, events=events, utterances=utterances, feedback=feedback)

        return write

    async def finish(
        self, *, reason: str, duration_s: float, history: list[Message], qa: Message | None, summary: Message | None
    ) -> bool:
        self.flush()
        status, tags, ended_at = status_for(reason), call_tags(history), time.time()

        def write(store: CallStore) -> None:
            store.finish_call(
                self.call_id,
                status=status,
                end_reason=reason,
                ended_at=ended_at,
                duration_s=duration_s,
                tags=tags,
                qa=qa,
                summary=summary,
            )
            for follow_up in self.recorder.after_finish:
                try:
                    follow_up(store, self.call_id)
                except Exception as error:  # the call is closed and kept whatever happens here
                    log.warning("call %s: after-call step %s failed: %r", self.call_id, follow_up, error)

        return await self.recorder.write(f"finish {self.call_id}", write, timeout_s=5.0)
