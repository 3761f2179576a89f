"""Handover notes: what the next agent needs when a call is transferred, so the customer never
repeats themselves. Two ways in: an explicit transfer of a live call to another agent, and a new
leg of a conversation seen moments ago (same platform call id: a transfer; same caller number:
a repeat call, worth knowing about too)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from assist.qa.summary import transfer_note

if TYPE_CHECKING:
    from assist.calllog.recorder import CallRecorder
    from assist.calls.session import CallSession

Message = dict[str, Any]
LOOKUP_TIMEOUT_S = 2.0


def handover_message(kind: str, earlier: Message, events: list[Message]) -> Message:
    return {
        "type": "handover",
        "kind": kind,  # "transfer" | "repeat_call"
        "from_call_id": earlier["id"],
        "from_agent_id": earlier.get("agent_id"),
        "started_at": earlier.get("started_at"),
        "note": transfer_note(events),
    }


def link(recorder: CallRecorder, call_id: str, earlier_call_id: str) -> None:
    recorder.submit("link", lambda store: store.link_transfer(call_id, earlier_call_id))


async def find_earlier_leg(
    session: CallSession, live_sessions: list[CallSession], recorder: CallRecorder, window_s: float
) -> Message | None:
    meta = session.meta
    if window_s <= 0:
        return None
    # A leg still live on this server (a consult transfer: both agents on the call).
    for other in live_sessions:
        if other is session or other.meta.platform_call_id != meta.platform_call_id:
            continue
        earlier = {"id": other.call_id, "agent_id": other.live.agent_id, "started_at": other.live.started_at}
        link(recorder, session.call_id, other.call_id)
        return handover_message("transfer", earlier, list(other.logged))
    since = time.time() - window_s

    def lookup(store: Any) -> tuple[Message, list[Message]] | None:
        for row in store.recent_calls(
            platform_call_id=meta.platform_call_id, caller_number=meta.caller_number, since=since
        ):
            if row["id"] != session.call_id:
                return row, store.events(row["id"])
        return None

    found = await asyncio.wait_for(recorder.read(lookup), LOOKUP_TIMEOUT_S)
    if found is None:
        return None
    earlier, events = found
    kind = "transfer" if earlier["platform_call_id"] == meta.platform_call_id else "repeat_call"
    if kind == "transfer":
        link(recorder, session.call_id, str(earlier["id"]))
    return handover_message(kind, earlier, events)


def transfer_live_call(session: CallSession, recorder: CallRecorder, to_agent_id: str) -> Message:
    """Hand a live call to another agent: their sidebar gets the call so far and the note."""
    call_id = session.call_id
    from_agent = session.live.agent_id
    message = {
        "type": "transferred",
        "call_id": call_id,
        "from_agent_id": from_agent,
        "to_agent_id": to_agent_id,
        "note": transfer_note(list(session.logged)),
        "emitted_s": round(session.elapsed_s(), 3),
    }
    session.publish(message)  # the previous agent sees where the call went; the hub moves the call
    recorder.submit("reassign", lambda store: store.reassign(call_id, to_agent_id))
    return message
