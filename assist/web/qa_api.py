"""The QA API (documented by qa_schema.openapi()) and the stored-call replay websocket.

Every route needs the QA role's token; reads run on the call log's reader threads. When the
call log is down, the API answers 503 and live calls carry on.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from assist.calllog.recorder import StoreUnavailable
from assist.calllog.replay import schedule
from assist.calllog.store import CallQuery, CallStore, StoreError
from assist.services import Services
from assist.web.auth import is_role, origin_allowed, request_principal, websocket_principal
from assist.web.connection import close_reason
from assist.web.qa_schema import Transfer, openapi

log = logging.getLogger(__name__)
Handler = Callable[[Request, Services], Awaitable[Response]]
LIST_FIELDS = (
    *("id", "platform", "platform_call_id", "caller_number", "agent_id", "language", "started_at", "ended_at"),
    *("duration_s", "status", "end_reason", "transferred_from", "qa_score"),
)


def error_response(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def qa_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """QA token required; bad parameters → 400; call log down → 503."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        if not is_role(request_principal(services.access, request.headers), "qa"):
            return error_response("QA token required (Authorization: Bearer ASSIST_QA_TOKEN)", 401)
        try:
            return await handler(request, services)
        except (ValueError, ValidationError) as error:
            return error_response(f"bad request: {error}", 400)
        except StoreUnavailable as error:
            return error_response(str(error), 503)
        except StoreError as error:
            log.error("QA API: %s", error)
            return error_response("the call log is unavailable right now", 503)

    return endpoint


def number_param(request: Request, name: str) -> float | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number") from None


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return number


def call_query(request: Request) -> CallQuery:
    params = request.query_params
    status = params.get("status") or None
    if status is not None and status not in ("live", "completed", "interrupted", "failed"):
        raise ValueError("status must be live, completed, interrupted or failed")
    return CallQuery(
        since=number_param(request, "since"),
        until=number_param(request, "until"),
        agent_id=params.get("agent") or None,
        intent=params.get("intent") or None,
        signal=params.get("signal") or None,
        offer=params.get("offer") or None,
        status=status,
        min_score=number_param(request, "min_score"),
        max_score=number_param(request, "max_score"),
        text=(params.get("q") or "").strip() or None,
        limit=int_param(request, "limit", 50, 1, 500),
        offset=int_param(request, "offset", 0, 0, 10_000_000),
    )


def list_item(row: dict[str, Any], tags: dict[str, list[str]], hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {**{k: row.get(k) for k in LIST_FIELDS}, "tags": tags, "hits": hits}


async def list_calls(request: Request, services: Services) -> Response:
    query = call_query(request)

    def run(store: CallStore) -> dict[str, Any]:
        page = store.list_calls(query)
        tags = store.tags_for([c["id"] for c in page.calls])
        calls = [list_item(c, tags.get(c["id"], {}), page.hits.get(c["id"], [])) for c in page.calls]
        following = query.offset + len(calls)
        return {
            "calls": calls,
            "total": page.total,
            "limit": query.limit,
            "offset": query.offset,
            "next_offset": following if following < page.total else None,
        }

    return JSONResponse(await services.recorder.read(run))


async def delete_before(request: Request, services: Services) -> Response:
    before = number_param(request, "before")
    if before is None:
        raise ValueError("before (epoch s) is required")
    deleted = await services.recorder.read(lambda store: store.delete_before(before))
    log.info("QA API: deleted %d call(s) started before %s", deleted, before)
    return JSONResponse({"deleted": deleted})


async def get_call(request: Request, services: Services) -> Response:
    call_id = request.path_params["call_id"]
    call = await services.recorder.read(lambda store: store.get_call(call_id))
    if call is None:
        return error_response("no such call", 404)
    return JSONResponse({**call, "hits": []})


async def delete_call(request: Request, services: Services) -> Response:
    call_id = request.path_params["call_id"]
    if call_id in services.sessions:
        raise ValueError("the call is still in progress")
    deleted = await services.recorder.read(lambda store: store.delete_call(call_id))
    if not deleted:
        return error_response("no such call", 404)
    if services.desk.recordings is not None:
        services.desk.recordings.delete(call_id)
    log.info("QA API: deleted call %s", call_id)
    return JSONResponse({"deleted": 1})


async def call_recording(request: Request, services: Services) -> Response:
    """The call's audio (customer left, agent right), when recording is on and the call ended."""
    recordings = services.desk.recordings
    call_id = request.path_params["call_id"]
    path = recordings.path(call_id) if recordings is not None else None
    if path is None or not path.exists():
        return error_response("no recording of this call (recording is off, or the call is still in progress)", 404)
    return FileResponse(path, media_type="audio/flac", headers={"Cache-Control": "no-store"})


def transcript_csv(call: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["call_id", "speaker", "utterance_id", "start_s", "end_s", "text", "confidence"])
    for u in call["utterances"]:
        writer.writerow(
            [call["id"], u["speaker"], u["utterance_id"], u["start_s"], u["end_s"], u["text"], u["confidence"]]
        )
    return out.getvalue()


async def export_call(request: Request, services: Services) -> Response:
    call_id = request.path_params["call_id"]
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValueError("format must be json or csv")
    call = await services.recorder.read(lambda store: store.get_call(call_id))
    if call is None:
        return error_response("no such call", 404)
    disposition = {"Content-Disposition": f'attachment; filename="call-{call_id}.{fmt}"'}
    if fmt == "csv":
        return Response(transcript_csv(call), media_type="text/csv", headers=disposition)
    body = json.dumps({**call, "hits": []}, ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json", headers=disposition)


async def call_events(request: Request, services: Services) -> Response:
    """The stored event stream with each event's time on the call's clock (``replay_s``): what the
    QA page replays with pause and seek (the websocket replay sends the same in real time)."""
    call_id = request.path_params["call_id"]
    found = await services.recorder.read(lambda store: (store.get_call(call_id), store.events(call_id)))
    call, events = found
    if call is None:
        return error_response("no such call", 404)
    started = {
        "type": "call_started",
        **{k: call.get(k) for k in ("platform", "platform_call_id", "caller_number", "agent_id", "language", "caller")},
        "call_id": call_id,
        "started_at": call["started_at"],
    }
    timed = [
        {**event, "replay_s": round(at_s, 3)}
        for at_s, event in schedule([e for e in events if e.get("type") != "call_started"])
    ]
    return JSONResponse({"call": started, "duration_s": call.get("duration_s"), "events": timed})


async def by_platform_id(request: Request, services: Services) -> Response:
    platform_call_id = request.path_params["platform_call_id"]

    def run(store: CallStore) -> list[dict[str, Any]]:
        rows = store.find_by_platform_id(platform_call_id)
        tags = store.tags_for([r["id"] for r in rows])
        return [list_item(r, tags.get(r["id"], {}), []) for r in rows]

    calls = await services.recorder.read(run)
    if not calls:
        return error_response("no call with that platform call id", 404)
    return JSONResponse({"calls": calls})


async def agent_stats(request: Request, services: Services) -> Response:
    since, until = number_param(request, "since"), number_param(request, "until")
    from assist.qa.aggregate import aggregate

    results = await services.recorder.read(lambda store: store.qa_results(since=since, until=until))
    by_agent = aggregate(results)["agents"]
    return JSONResponse({"agents": [{"agent_id": agent_id, **stats} for agent_id, stats in by_agent.items()]})


async def call_note(request: Request) -> Response:
    """The handover note: QA, supervisors, and the agent who has the call (mid-call too)."""
    from assist.qa.summary import summarize, transfer_note

    services: Services = request.app.state.services
    call_id = request.path_params["call_id"]
    principal = request_principal(services.access, request.headers)
    session = services.sessions.get(call_id)
    allowed = is_role(principal, "qa", "supervisor")
    if not allowed and session is not None and principal is not None:
        allowed = principal.is_agent(session.live.agent_id)
    if not allowed:
        return error_response("QA or supervisor token, or the call's agent token, required", 401)
    if session is not None:
        events = list(session.logged)
        body = {"call_id": call_id, "live": True, "note": transfer_note(events), "summary": summarize(events).to_dict()}
        return JSONResponse(body)
    try:
        found = await services.recorder.read(lambda store: (store.get_call(call_id), store.events(call_id)))
    except StoreError as error:
        return error_response(str(error), 503)
    call, events = found
    if call is None:
        return error_response("no such call", 404)
    return JSONResponse({"call_id": call_id, "live": False, "note": transfer_note(events), "summary": call["summary"]})


async def transfer(request: Request) -> Response:
    """Move a live call to another agent (the supervisor, or the agent who has the call)."""
    services: Services = request.app.state.services
    call_id = request.path_params["call_id"]
    principal = request_principal(services.access, request.headers)
    call = services.hub.calls.get(call_id)  # this node's, or a replica of another node's
    allowed = is_role(principal, "supervisor") or (
        call is not None and principal is not None and principal.is_agent(call.agent_id)
    )
    if not allowed:
        return error_response("supervisor token, or the call's agent token, required", 401)
    try:
        body = Transfer.model_validate(await request.json())
    except (ValidationError, json.JSONDecodeError) as error:
        return error_response(f"bad request: {error}", 400)
    if call is None:
        return error_response("no such live call", 404)
    if services.live.owns(call):
        message = services.desk.transfer(call_id, body.agent_id)
        if message is None:
            return error_response("no such live call", 404)
        return JSONResponse(message)
    # Another node holds the call: it carries out the transfer; everyone sees 'transferred'.
    owner = await services.live.request(call_id, {"kind": "transfer", "agent_id": body.agent_id})
    return JSONResponse(
        {"type": "transfer_requested", "call_id": call_id, "to_agent_id": body.agent_id, "owner": owner},
        status_code=202,
    )


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi())


async def replay_endpoint(websocket: WebSocket) -> None:
    """A stored call's event stream at its original timing (``speed`` times faster): the same
    events the sidebar saw, starting with ``call_started`` and ending with ``replay_ended``."""
    services: Services = websocket.app.state.services
    if not origin_allowed(services.settings, websocket.headers):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    if not is_role(websocket_principal(services.access, websocket.headers, websocket.query_params), "qa"):
        await websocket.close(code=1008, reason="QA ticket or token required")
        return
    call_id = websocket.path_params["call_id"]
    try:
        speed = float(websocket.query_params.get("speed", "1"))
        if not speed > 0:
            raise ValueError
    except ValueError:
        await websocket.close(code=1008, reason="speed must be a positive number")
        return
    try:
        found = await services.recorder.read(lambda store: (store.get_call(call_id), store.events(call_id)))
    except StoreError as error:
        await websocket.close(code=1011, reason=close_reason(str(error)))
        return
    call, events = found
    if call is None:
        await websocket.close(code=1008, reason="no such call")
        return
    await websocket.accept()
    started = {
        "type": "call_started",
        "replay": True,
        "speed": speed,
        **{k: call.get(k) for k in ("platform", "platform_call_id", "caller_number", "agent_id", "language", "caller")},
        "call_id": call_id,
        "started_at": call["started_at"],
    }
    loop = asyncio.get_running_loop()
    begun = loop.time()
    try:
        await websocket.send_json(started)
        for at_s, event in schedule([e for e in events if e.get("type") != "call_started"], speed):
            delay = begun + at_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await websocket.send_json(event)
        await websocket.send_json({"type": "replay_ended", "call_id": call_id, "events": len(events)})
        await websocket.close(code=1000)
    except (WebSocketDisconnect, RuntimeError):
        return  # the viewer left: nothing to clean up
