"""Credentials out of requests: a bearer header for HTTP, a ticket (or the header) for websockets.

Tokens never travel in a URL: a URL ends up in access logs, proxies' logs and browser history.
Pages exchange their token (kept in the page, from the link's #fragment) for a single-use ticket
of a few seconds (POST /api/ticket) and open the websocket with ``?ticket=``; platforms and
scripts send ``Authorization: Bearer``. The decisions themselves are assist.access's.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from assist.access.gate import AccessGate
from assist.access.tokens import Principal, same_secret
from assist.config import Settings

__all__ = [
    "bearer",
    "ingest_allowed",
    "is_role",
    "origin_allowed",
    "request_principal",
    "same_secret",
    "websocket_principal",
]


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token from an ``Authorization: Bearer`` header."""
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def request_principal(gate: AccessGate, headers: Mapping[str, str]) -> Principal | None:
    return gate.authenticate(bearer(headers))


def websocket_principal(gate: AccessGate, headers: Mapping[str, str], query: Mapping[str, str]) -> Principal | None:
    """A websocket speaks for whoever its ticket names (used once), else its bearer header."""
    ticket = query.get("ticket")
    if ticket is not None:
        return gate.redeem_ticket(ticket)
    return request_principal(gate, headers)


def is_role(principal: Principal | None, *roles: str) -> bool:
    return principal is not None and principal.kind in roles


def ingest_allowed(settings: Settings, token: str | None) -> bool:
    if settings.ingest_token is None:
        return True
    return same_secret(settings.ingest_token, token)


def origin_allowed(settings: Settings, headers: Mapping[str, str]) -> bool:
    """A browser's websocket may come from the page's own origin or a configured one (another
    site's page must not ride on an agent's token). Clients that send no Origin (platforms,
    scripts) are not browsers and are judged by their credentials alone."""
    origin = headers.get("origin")
    if not origin:
        return True
    if origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()
