"""Post-call review: the scorecard and the summary of a finished call, from what it logged."""

from __future__ import annotations

import logging
import time
from typing import Any

from assist.calllog.call import call_tags
from assist.calllog.store import CallStore
from assist.qa.rules import score_call
from assist.qa.scorecard_config import Scorecard, load_scorecard
from assist.qa.summary import summarize

log = logging.getLogger(__name__)
Message = dict[str, Any]

__all__ = ["Scorecard", "load_scorecard", "recover_open_calls", "review"]


def review(events: list[Message], scorecard: Scorecard, end_reason: str = "completed") -> tuple[Message, Message]:
    """(QA result, summary) as stored with the call: a finished call, whether or not its
    ``call_ended`` is among the events yet (its summary never says "so far")."""
    if not any(e.get("type") == "call_ended" for e in events):
        last_s = max((float(e.get("emitted_s") or 0.0) for e in events), default=0.0)
        events = [*events, {"type": "call_ended", "reason": end_reason, "emitted_s": last_s}]
    return score_call(events, scorecard).to_dict(), summarize(events).to_dict()


def recover_open_calls(store: CallStore, node_id: str, scorecard: Scorecard) -> list[str]:
    """Calls this node left open when it died: finish them as 'interrupted', scored on what was
    stored. Runs once when the call log opens, before any new call."""
    recovered = interrupt_calls(store, [call["id"] for call in store.open_calls(node_id)], scorecard)
    if recovered:
        log.warning("%d call(s) were open when this server last stopped: marked interrupted", len(recovered))
    return recovered


def interrupt_calls(
    store: CallStore, call_ids: list[str], scorecard: Scorecard, end_reason: str = "server_restart"
) -> list[str]:
    """Finish calls whose node stopped as 'interrupted', scored on what was stored."""
    for call_id in call_ids:
        events = store.events(call_id)
        try:
            qa, summary = review(events, scorecard, end_reason)
        except Exception:  # a call that cannot be scored is still closed
            log.exception("cannot review interrupted call %s", call_id)
            qa, summary = None, None
        duration_s = max((float(e.get("emitted_s") or 0.0) for e in events), default=0.0)
        store.finish_call(
            call_id,
            status="interrupted",
            end_reason=end_reason,
            ended_at=time.time(),
            duration_s=duration_s,
            tags=call_tags(events),
            qa=qa,
            summary=summary,
        )
    return list(call_ids)
