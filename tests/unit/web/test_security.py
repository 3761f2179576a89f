"""The pages' security headers and the viewer websockets' origin check."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assist.config import Settings
from assist.web.app import SecurityHeaders
from assist.web.auth import origin_allowed


def client(frame_ancestors: str = "'self'") -> TestClient:
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    return TestClient(SecurityHeaders(app, frame_ancestors))


def test_every_response_carries_csp_referrer_policy_and_nosniff():
    response = client().get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"  # tokens travel in some URLs
    assert response.headers["x-content-type-options"] == "nosniff"


def test_frame_ancestors_is_configurable_for_an_agent_desktop():
    csp = client("https://desk.example.com").get("/").headers["content-security-policy"]
    assert csp.endswith("frame-ancestors https://desk.example.com")


def test_a_page_from_its_own_origin_or_a_configured_one_may_open_a_viewer_socket():
    settings = Settings(secret_key="unit-test-secret-0123", allowed_origins=("https://desk.example.com",))
    assert origin_allowed(settings, {"host": "assist.example.com", "origin": "https://assist.example.com"})
    assert origin_allowed(settings, {"host": "assist.example.com", "origin": "https://desk.example.com"})
    assert origin_allowed(settings, {"host": "assist.example.com"})  # not a browser: token alone decides
    assert not origin_allowed(settings, {"host": "assist.example.com", "origin": "https://evil.example"})
    assert not origin_allowed(settings, {"host": "assist.example.com", "origin": "null"})
