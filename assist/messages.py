"""The JSON events our own clients receive: the native protocol, the sidebar, the supervisor
page and QA replay all speak this one vocabulary (documented in docs/protocol.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from assist.events import FinalTranscript, TranscriptEvent

Message = dict[str, Any]


def transcript_message(call_id: str, event: TranscriptEvent) -> Message:
    message: Message = {
        "type": event.type,  # "interim" | "final"
        "call_id": call_id,
        "speaker": event.speaker,
        "utterance_id": event.utterance_id,
        "start_s": event.start_s,
        "end_s": event.end_s,
        "text": event.text,
        "emitted_s": event.emitted_s,
    }
    if isinstance(event, FinalTranscript):
        message["revision"] = event.revision  # > 0: replaces the final of the same speaker and utterance_id
        message["language"] = event.language
        message["confidence"] = event.confidence
        message["words"] = [asdict(word) for word in event.words]
        timings = event.timings
        message["latency_ms"] = {
            "endpoint": round((timings.trigger_s - event.end_s) * 1000, 1),
            "queue": round(timings.queued_ms, 1),
            "decode": round(timings.decode_ms, 1),
            "total": round((event.emitted_s - event.end_s) * 1000, 1),
        }
    return message


def error_message(reason: str, *, call_id: str | None = None, fatal: bool = False) -> Message:
    message: Message = {"type": "error", "reason": reason, "fatal": fatal}
    if call_id:
        message["call_id"] = call_id
    return message
