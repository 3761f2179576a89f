"""Who may see what: agents their own calls (HMAC token), supervisors and QA by role token."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from assist.config import Settings


def bearer(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token from an ``Authorization: Bearer`` header or a ``token`` query parameter
    (browsers cannot set headers on a websocket)."""
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return query.get("token")


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison on UTF-8 bytes: ``hmac.compare_digest`` raises on non-ASCII str,
    which turned any such token into a server error instead of a refusal."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


def agent_allowed(settings: Settings, agent_id: str | None, token: str | None) -> bool:
    if not agent_id or not token:
        return False
    return same_secret(settings.agent_token(agent_id), token)


def role_allowed(settings: Settings, role: str, token: str | None) -> bool:
    if token is None or role not in ("supervisor", "qa"):
        return False
    return same_secret(settings.role_token(role), token)  # type: ignore[arg-type]


def ingest_allowed(settings: Settings, token: str | None) -> bool:
    if settings.ingest_token is None:
        return True
    return same_secret(settings.ingest_token, token)


def origin_allowed(settings: Settings, headers: Mapping[str, str]) -> bool:
    """A browser's websocket may come from the page's own origin or a configured one (another
    site's page must not ride on an agent's token). Clients that send no Origin (platforms,
    scripts) are not browsers and are judged by their token alone."""
    origin = headers.get("origin")
    if not origin:
        return True
    if origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()
