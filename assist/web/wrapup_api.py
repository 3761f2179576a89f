"""``/api/calls/{call_id}/wrapup``: after-call work. The sidebar opens the wrap-up form with a
proposal (assist.qa.disposition) when the call ends; the agent edits and saves it; the call log
keeps both versions, and QA sees both.

The call's own agent may read and save it, supervisors too; QA may read it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from assist.access.tokens import Principal
from assist.calllog.store import StoreError
from assist.qa.disposition import OUTCOMES, propose
from assist.services import Services
from assist.web.auth import request_principal
from assist.web.qa_schema import WrapupFields

Message = dict[str, Any]


def error_response(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _call(services: Services, call_id: str) -> tuple[str, list[Message], Message | None, bool] | None:
    """(agent, events, saved wrap-up, live) for a live call of this node or a stored one."""
    session = services.sessions.get(call_id)
    if session is not None:
        return session.live.agent_id, list(session.logged), None, True
    found = await services.recorder.read(lambda store: (store.get_call(call_id), store.events(call_id)))
    call, events = found
    if call is None:
        return None
    return str(call["agent_id"]), events, call.get("wrapup"), call["status"] == "live"


def _allowed(principal: Principal | None, agent_id: str, *, write: bool) -> bool:
    if principal is None:
        return False
    if principal.is_agent(agent_id) or principal.kind == "supervisor":
        return True
    return principal.kind == "qa" and not write


async def wrapup(request: Request) -> Response:
    services: Services = request.app.state.services
    call_id = request.path_params["call_id"]
    principal = request_principal(services.access, request.headers)
    if principal is None:
        return error_response("the call's agent token, or a supervisor or QA token, required", 401)
    try:
        found = await _call(services, call_id)
    except StoreError as error:
        return error_response(str(error), 503)
    if found is None:
        return error_response("no such call", 404)
    agent_id, events, stored, live = found
    if not _allowed(principal, agent_id, write=request.method == "PUT"):
        return error_response("not your call", 403)
    proposed = propose(events, services.dispositions)
    if request.method == "PUT":
        if live:
            return error_response("the call is still in progress: wrap it up when it ends", 409)
        try:
            fields = WrapupFields.model_validate(await request.json())
        except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as error:
            return error_response(f"invalid wrap-up: {error}".splitlines()[0][:300], 400)
        if fields.disposition not in {d.code for d in services.dispositions}:
            return error_response(f"unknown disposition {fields.disposition!r}", 400)
        saved, saved_at = fields.model_dump(), time.time()
        try:
            await services.recorder.read(lambda store: store.save_wrapup(call_id, agent_id, proposed, saved, saved_at))
        except StoreError as error:
            return error_response(str(error), 503)
        stored = {"proposed": proposed, "saved": saved, "saved_at": saved_at}
    body = {
        "call_id": call_id,
        "agent_id": agent_id,
        "live": live,
        "dispositions": [d.to_dict() for d in services.dispositions],
        "outcomes": list(OUTCOMES),
        "proposed": proposed,
        "saved": stored.get("saved") if stored else None,
        "saved_at": stored.get("saved_at") if stored else None,
    }
    return JSONResponse(body)
