"""Signed credentials, checked without any shared state (a fleet's nodes share only the secret).

Agent token: ``at1.<agent>.<issued_ms>.<expires_s>.<mac>`` — the agent id in base64url, when it
was issued (revocation rejects tokens issued before a moment), when it expires.
Ticket: ``tk1.<principal>.<expires_s>.<nonce>.<mac>`` — a few seconds' pass for one websocket,
so that a browser never has to put its token in a URL (and so in a log).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["supervisor", "qa"]
ROLES: tuple[Role, ...] = ("supervisor", "qa")
MAX_AGENT_ID_CHARS = 128
MAX_TOKEN_CHARS = 512  # longer input is not a token of ours; refused before any work
_AGENT_PREFIX = "at1"
_TICKET_PREFIX = "tk1"
_MAC_BYTES = 18


@dataclass(frozen=True)
class Principal:
    """Who a credential speaks for: an agent, or a role (supervisor, QA)."""

    kind: Literal["agent", "supervisor", "qa"]
    agent_id: str | None = None
    issued_ms: int = 0  # agents only: compared with a revocation
    expires_s: float | None = None  # None: until the role token is rotated away
    key_id: str = ""  # roles: which key in force (a digest prefix), re-checked on open connections

    @property
    def name(self) -> str:
        return f"agent:{self.agent_id}" if self.kind == "agent" else f"role:{self.kind}"

    def is_agent(self, agent_id: str | None) -> bool:
        return self.kind == "agent" and agent_id is not None and self.agent_id == agent_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, *parts: str) -> str:
    message = "\x00".join(parts).encode("utf-8")
    return _b64(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()[:_MAC_BYTES])


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison on UTF-8 bytes (``hmac.compare_digest`` raises on non-ASCII str,
    which once turned such a token into a server error instead of a refusal)."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


def check_agent_id(agent_id: str) -> str:
    if not agent_id or len(agent_id) > MAX_AGENT_ID_CHARS or any(c.isspace() or c == "." for c in agent_id):
        raise ValueError(f"an agent id is 1-{MAX_AGENT_ID_CHARS} characters without spaces or dots")
    return agent_id


def _sign(secret: str, prefix: str, purpose: str, *fields: str) -> str:
    return ".".join((prefix, *fields, _mac(secret, purpose, *fields)))


def _verified(secret: str, prefix: str, purpose: str, signed: str) -> list[str] | None:
    """The three fields of a genuine ``prefix.a.b.c.mac``; None when malformed or forged."""
    parts = signed.split(".") if len(signed) <= MAX_TOKEN_CHARS else []
    if len(parts) != 5 or parts[0] != prefix:
        return None
    fields = parts[1:4]
    return fields if same_secret(_mac(secret, purpose, *fields), parts[4]) else None


def issue_agent_token(secret: str, agent_id: str, *, now_s: float, ttl_s: float) -> str:
    check_agent_id(agent_id)
    agent = _b64(agent_id.encode("utf-8"))
    return _sign(secret, _AGENT_PREFIX, "agent", agent, str(int(now_s * 1000)), str(int(now_s + ttl_s)))


def read_agent_token(secret: str, token: str, *, now_s: float) -> Principal | None:
    """The agent a token speaks for, or None: malformed, forged, or expired."""
    fields = _verified(secret, _AGENT_PREFIX, "agent", token)
    if fields is None:
        return None
    agent, issued_ms, expires_s = fields
    try:
        agent_id, issued, expires = _unb64(agent).decode("utf-8"), int(issued_ms), int(expires_s)
    except (ValueError, binascii.Error):
        return None
    if expires <= now_s:
        return None
    return Principal("agent", agent_id=agent_id, issued_ms=issued, expires_s=float(expires))


def issue_ticket(secret: str, principal: Principal, *, now_s: float, ttl_s: float) -> str:
    fields = (principal.name, str(principal.issued_ms), str(principal.expires_s or ""), principal.key_id)
    subject = _b64("|".join(fields).encode("utf-8"))
    return _sign(secret, _TICKET_PREFIX, "ticket", subject, str(int(now_s + ttl_s) + 1), secrets.token_urlsafe(12))


def read_ticket(secret: str, ticket: str, *, now_s: float) -> tuple[Principal, str, float] | None:
    """(principal, nonce, expires_s) for a genuine, unexpired ticket; None otherwise. Whether it
    was already used is the gate's business (it remembers nonces until they expire)."""
    fields = _verified(secret, _TICKET_PREFIX, "ticket", ticket)
    if fields is None:
        return None
    subject, expires_s, nonce = fields
    try:
        name, issued_ms, principal_expires, key_id = _unb64(subject).decode("utf-8").rsplit("|", 3)
        expires = float(expires_s)
        issued = int(issued_ms)
        until = float(principal_expires) if principal_expires else None
    except (ValueError, binascii.Error):
        return None
    if expires <= now_s:
        return None
    kind, _, who = name.partition(":")
    if kind == "agent" and who:
        return Principal("agent", agent_id=who, issued_ms=issued, expires_s=until), nonce, expires
    if kind == "role" and who in ROLES:
        return Principal(who, expires_s=until, key_id=key_id), nonce, expires  # type: ignore[arg-type]
    return None


def token_digest(token: str) -> str:
    """How the access file keeps a role token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_role_token() -> str:
    return secrets.token_urlsafe(24)
