"""The Starlette application: routes only; the work happens in the modules they name."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from assist.ingest.signature import SignatureVerifier
from assist.services import Services
from assist.web.auth import agent_allowed, bearer, role_allowed
from assist.web.ingest_audiohook import audiohook_endpoint
from assist.web.ingest_native import native_endpoint
from assist.web.ingest_twilio import twilio_endpoint
from assist.web.viewers import sidebar_endpoint, supervisor_endpoint

STATIC = Path(__file__).parent / "static"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    ready = services.accepting
    body = {
        "status": "ready" if ready else "draining",
        "active_calls": len(services.sessions),
        "max_calls": services.settings.max_calls,
        "stt_queue_depth": services.stt.scheduler.depth,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def page(name: str):  # type: ignore[no-untyped-def]
    async def serve(request: Request) -> Response:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    return serve


async def live_calls(request: Request) -> Response:
    services: Services = request.app.state.services
    if not role_allowed(services.settings, "supervisor", bearer(request.headers, request.query_params)):
        return JSONResponse({"error": "supervisor token required"}, status_code=401)
    return JSONResponse({"calls": services.hub.live_calls()})


async def live_call(request: Request) -> Response:
    services: Services = request.app.state.services
    call = services.hub.calls.get(request.path_params["call_id"])
    token = bearer(request.headers, request.query_params)
    is_supervisor = role_allowed(services.settings, "supervisor", token)
    is_owner = call is not None and agent_allowed(services.settings, call.agent_id, token)
    if not (is_supervisor or is_owner):
        return JSONResponse({"error": "not authorised for this call"}, status_code=401)
    if call is None:
        return JSONResponse({"error": "no such live call"}, status_code=404)
    return JSONResponse({**call.summary(), "events": call.snapshot()[1:], "feedback": call.feedback})


def build_app(services: Services) -> Starlette:
    app = Starlette(
        routes=[
            Route("/", lambda request: RedirectResponse("/supervisor")),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/sidebar", page("sidebar.html")),
            Route("/supervisor", page("supervisor.html")),
            Route("/api/live/calls", live_calls),
            Route("/api/live/calls/{call_id}", live_call),
            WebSocketRoute("/audiohook", audiohook_endpoint),
            WebSocketRoute("/twilio", twilio_endpoint),
            WebSocketRoute("/native", native_endpoint),
            WebSocketRoute("/ws/sidebar", sidebar_endpoint),
            WebSocketRoute("/ws/supervisor", supervisor_endpoint),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )
    app.state.services = services
    settings = services.settings
    if settings.audiohook_api_key and settings.audiohook_client_secret:
        app.state.audiohook_verifier = SignatureVerifier(
            settings.audiohook_api_key, settings.audiohook_client_secret,
            max_clock_skew_s=settings.audiohook_max_clock_skew_s,
        )
    return app
