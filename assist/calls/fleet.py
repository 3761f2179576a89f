"""What this node does when the live bus brings it work: a request about a call it owns (a
card's feedback, a transfer), a broadcast (a knowledge-base reload), or the calls of a node that
died (closed in the call log as interrupted)."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from assist.calls.desk import CallDesk
from assist.live.bus import LiveBus
from assist.messages import Message

log = logging.getLogger(__name__)


def attach(live: LiveBus, desk: CallDesk) -> None:
    live.on_command(partial(run_command, desk))
    live.on_node_lost(partial(close_lost_calls, desk))


async def run_command(desk: CallDesk, command: Message) -> None:
    kind = command.get("kind")
    if kind == "feedback":
        try:  # the asking node checked the action; another node's bad request is only logged
            desk.feedback(
                str(command["call_id"]),
                str(command.get("card_id")),
                str(command.get("action")),
                str(command.get("source")),
            )
        except ValueError as error:
            log.warning("feedback from %s refused: %s", command.get("from"), error)
    elif kind == "coaching":
        desk.coach(str(command["call_id"]), str(command.get("text") or ""), str(command.get("sender") or "supervisor"))
    elif kind == "transfer":
        desk.transfer(str(command["call_id"]), str(command["agent_id"]))
    elif kind == "kb_reload":
        if desk.guidance is not None:
            status = await asyncio.get_running_loop().run_in_executor(None, desk.reload_knowledge)
            log.info("knowledge base reloaded (asked by %s): %s", command.get("from"), status)
    else:
        log.warning("unknown live command %r", kind)


async def close_lost_calls(desk: CallDesk, instance: str, call_ids: list[str]) -> None:
    """A node died mid-call: its calls end in the call log as interrupted, scored on what was
    stored (the node itself would have done this at its next start, but it may never return)."""
    from assist.qa.review import interrupt_calls

    scorecard = desk.scorecard
    if scorecard is None:
        return
    closed = await desk.recorder.read(
        partial(interrupt_calls, call_ids=call_ids, scorecard=scorecard, end_reason="node_lost")
    )
    log.warning("closed %d call(s) of stopped node %s in the call log as interrupted", len(closed), instance)
