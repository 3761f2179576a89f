"""The Starlette application: routes only; the work happens in the modules they name."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assist.calllog.store import CallStore
from assist.calls.fleet import attach
from assist.errors import AssistError
from assist.ingest.signature import SignatureVerifier
from assist.services import Services
from assist.web import retention_api
from assist.web.auth import is_role, request_principal
from assist.web.ingest_audiohook import audiohook_endpoint
from assist.web.ingest_native import native_endpoint
from assist.web.ingest_twilio import twilio_endpoint
from assist.web.qa_api import (
    agent_stats,
    by_platform_id,
    call_events,
    call_note,
    call_recording,
    delete_before,
    delete_call,
    export_call,
    get_call,
    list_calls,
    openapi_json,
    qa_only,
    replay_endpoint,
    transfer,
)
from assist.web.viewers import sidebar_endpoint, supervisor_endpoint
from assist.web.wrapup_api import wrapup

STATIC = Path(__file__).parent / "static"
KB_POLL_S = 5.0
log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    load = services.load()
    admission = services.desk.admission
    refusal = admission.refusal(load)
    # 503 while the node would refuse a new call: a load balancer's health check then sends new
    # calls elsewhere, and the calls already here carry on (their connections are not touched).
    status = "ready" if refusal is None else ("draining" if not load.accepting else "full")
    body = {
        "status": status,
        "refusing": refusal,
        "call_log": services.recorder.status(),  # reported, but a sick call log never stops live calls
        "active_calls": load.active_calls,
        "capacity": {
            "limit_calls": admission.limit_calls,
            "source": admission.source,
            "remaining_calls": admission.remaining(load),
            "final_wait_s": round(load.final_wait_s, 3),
            "max_final_wait_s": admission.max_final_wait_s,
        },
        "stt_queue_depth": services.stt.scheduler.depth,
        "live": services.live.status(),
        "stt": services.stt.describe(),
    }
    return JSONResponse(body, status_code=200 if refusal is None else 503)


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def page(name: str):  # type: ignore[no-untyped-def]
    async def serve(request: Request) -> Response:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    return serve


async def live_calls(request: Request) -> Response:
    services: Services = request.app.state.services
    if not is_role(request_principal(services.access, request.headers), "supervisor"):
        return JSONResponse({"error": "supervisor token required"}, status_code=401)
    return JSONResponse({"calls": services.hub.live_calls()})


async def live_call(request: Request) -> Response:
    services: Services = request.app.state.services
    call = services.hub.calls.get(request.path_params["call_id"])
    principal = request_principal(services.access, request.headers)
    is_owner = call is not None and principal is not None and principal.is_agent(call.agent_id)
    if not (is_role(principal, "supervisor") or is_owner):
        return JSONResponse({"error": "not authorised for this call"}, status_code=401)
    if call is None:
        return JSONResponse({"error": "no such live call"}, status_code=404)
    return JSONResponse({**call.summary(), "events": call.snapshot()[1:], "feedback": call.feedback})


async def kb_status(request: Request) -> Response:
    services: Services = request.app.state.services
    if not is_role(request_principal(services.access, request.headers), "supervisor", "qa"):
        return JSONResponse({"error": "supervisor or QA token required"}, status_code=401)
    if services.guidance is None:
        return JSONResponse({"error": "no knowledge base configured"}, status_code=404)
    if request.method == "POST":
        try:
            status = await asyncio.get_running_loop().run_in_executor(None, services.desk.reload_knowledge)
            services.live.tell_others({"kind": "kb_reload"})  # a fleet reloads as one
        except AssistError as error:
            return JSONResponse(
                {
                    "error": "reload failed; the previous knowledge base stays in service",
                    "problems": getattr(error, "problems", [str(error)]),
                },
                status_code=422,
            )
        return JSONResponse({"reloaded": True, **status})
    return JSONResponse(services.guidance.status())


async def ticket(request: Request) -> Response:
    """A single-use pass of a few seconds for one websocket, so a page never puts its token in
    a URL: ``POST /api/ticket`` with ``Authorization: Bearer``, then ``/ws/...?ticket=``."""
    services: Services = request.app.state.services
    principal = request_principal(services.access, request.headers)
    if principal is None:
        return JSONResponse({"error": "a valid token is required (Authorization: Bearer)"}, status_code=401)
    body = {"ticket": services.access.issue_ticket(principal), "expires_in_s": services.access.ticket_ttl_s}
    if principal.kind == "agent":
        body["agent_id"] = principal.agent_id
    else:
        body["role"] = principal.kind
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def watch_knowledge_base(services: Services) -> None:
    """Reload the knowledge base when its files change (edits land without a restart)."""
    guidance = services.guidance
    if guidance is None:
        return
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(KB_POLL_S)
        try:
            if await loop.run_in_executor(None, guidance.changed_on_disk):
                status = await loop.run_in_executor(None, guidance.reload)
                log.info("knowledge base reloaded: %s", status)
        except AssistError as error:
            log.error("knowledge base not reloaded (the previous one stays in service): %s", error)
            await asyncio.sleep(KB_POLL_S * 6)  # do not re-report the same mistake every poll


async def apply_retention(services: Services) -> None:
    """Delete calls older than retention_days, hourly (None: keep everything)."""
    days = services.settings.retention_days
    if days is None:
        return
    while True:
        before = time.time() - days * 86400
        try:
            deleted = await services.recorder.read(partial(CallStore.delete_before, before=before))
            if deleted:
                log.info("retention: deleted %d call(s) older than %g days", deleted, days)
            recordings = services.desk.recordings
            if recordings is not None:
                await asyncio.get_running_loop().run_in_executor(None, recordings.delete_older_than, before)
        except AssistError as error:
            log.error("retention: %s", error)
        await asyncio.sleep(3600)


class SecurityHeaders:
    """Headers every HTTP response carries: the pages load only their own scripts and styles,
    talk only to their own origin, are framed only where configured (an agent desktop), and
    leak no URL (a call id, a search) to other sites."""

    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
            f"form-action 'self'; frame-ancestors {frame_ancestors}"
        )
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def build_app(services: Services) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        attach(services.live, services.desk)
        await services.live.start()
        tasks = [
            asyncio.create_task(watch_knowledge_base(services)),
            asyncio.create_task(services.recorder.retry_forever()),
            asyncio.create_task(apply_retention(services)),
            asyncio.create_task(services.access.watch()),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await services.live.close()

    app = Starlette(
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders, frame_ancestors=services.settings.frame_ancestors)],
        routes=[
            Route("/", lambda request: RedirectResponse("/supervisor")),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/sidebar", page("sidebar.html")),
            Route("/supervisor", page("supervisor.html")),
            Route("/api/live/calls", live_calls),
            Route("/api/live/calls/{call_id}", live_call),
            Route("/qa", page("qa.html")),
            Route("/retention", page("retention.html")),
            Route("/api/openapi.json", openapi_json),
            Route("/api/calls", qa_only(list_calls), methods=["GET"]),
            Route("/api/calls", qa_only(delete_before), methods=["DELETE"]),
            Route("/api/calls/by-platform-id/{platform_call_id}", qa_only(by_platform_id)),
            Route("/api/calls/{call_id}", qa_only(get_call), methods=["GET"]),
            Route("/api/calls/{call_id}", qa_only(delete_call), methods=["DELETE"]),
            Route("/api/calls/{call_id}/export", qa_only(export_call)),
            Route("/api/calls/{call_id}/events", qa_only(call_events)),
            Route("/api/calls/{call_id}/recording", qa_only(call_recording)),
            Route("/api/calls/{call_id}/note", call_note),
            Route("/api/calls/{call_id}/wrapup", wrapup, methods=["GET", "PUT"]),
            Route("/api/qa/agents", qa_only(agent_stats)),
            Route("/api/retention", qa_only(retention_api.worklist)),
            Route("/api/retention/{caller_number}", qa_only(retention_api.customer), methods=["GET", "POST"]),
            Route("/api/live/calls/{call_id}/transfer", transfer, methods=["POST"]),
            Route("/api/ticket", ticket, methods=["POST"]),
            Route("/api/kb", kb_status, methods=["GET", "POST"]),
            Route("/api/kb/reload", kb_status, methods=["POST"]),
            WebSocketRoute("/audiohook", audiohook_endpoint),
            WebSocketRoute("/twilio", twilio_endpoint),
            WebSocketRoute("/native", native_endpoint),
            WebSocketRoute("/ws/sidebar", sidebar_endpoint),
            WebSocketRoute("/ws/supervisor", supervisor_endpoint),
            WebSocketRoute("/ws/replay/{call_id}", replay_endpoint),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )
    app.state.services = services
    settings = services.settings
    if settings.audiohook_api_key and settings.audiohook_client_secret:
        app.state.audiohook_verifier = SignatureVerifier(
            settings.audiohook_api_key,
            settings.audiohook_client_secret,
            max_clock_skew_s=settings.audiohook_max_clock_skew_s,
        )
    return app
