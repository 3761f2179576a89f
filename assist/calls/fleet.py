"""What this node does when the live bus brings it work: a request about a call it owns (a
card's feedback, a transfer), a broadcast (a knowledge-base reload), or the calls of a node that
died (closed in the call log as interrupted)."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from assist.calls.session import check_feedback, record_feedback
from assist.messages import Message
from assist.services import Services

log = logging.getLogger(__name__)


def attach(services: Services) -> None:
    services.live.on_command(partial(run_command, services))
    services.live.on_node_lost(partial(close_lost_calls, services))


async def run_command(services: Services, command: Message) -> None:
    kind = command.get("kind")
    if kind == "feedback":
        action = str(command.get("action"))
        check_feedback(action)
        record_feedback(
            services, str(command["call_id"]), str(command.get("card_id")), action, str(command.get("source"))
        )
    elif kind == "transfer":
        from assist.qa.handover import transfer_live_call

        transfer_live_call(services, str(command["call_id"]), str(command["agent_id"]))
    elif kind == "kb_reload":
        if services.guidance is not None:
            status = await asyncio.get_running_loop().run_in_executor(None, services.guidance.reload)
            log.info("knowledge base reloaded (asked by %s): %s", command.get("from"), status)
    else:
        log.warning("unknown live command %r", kind)


async def close_lost_calls(services: Services, instance: str, call_ids: list[str]) -> None:
    """A node died mid-call: its calls end in the call log as interrupted, scored on what was
    stored (the node itself would have done this at its next start, but it may never return)."""
    from assist.qa.review import interrupt_calls

    scorecard = services.scorecard
    if scorecard is None:
        return
    closed = await services.recorder.read(
        partial(interrupt_calls, call_ids=call_ids, scorecard=scorecard, end_reason="node_lost")
    )
    log.warning("closed %d call(s) of stopped node %s in the call log as interrupted", len(closed), instance)
