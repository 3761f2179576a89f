"""Credentials out of requests: bearer headers only (a token in a URL is ignored), tickets for
websockets; anything that is not a credential is refused without an error."""

from __future__ import annotations

import pytest

from assist.access.gate import AccessGate
from assist.config import Settings
from assist.web.auth import bearer, ingest_allowed, is_role, request_principal, websocket_principal

SETTINGS = Settings(secret_key="unit-test-secret-0123", ingest_token="ingest-secret")


def gate() -> AccessGate:
    return AccessGate(SETTINGS.secret_key, {r: SETTINGS.role_token(r) for r in ("supervisor", "qa")}, None)


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"authorization": "Bearer abc"}, "abc"),
        ({"authorization": "bearer  abc  "}, "abc"),
        ({"authorization": "Bearer "}, None),
        ({"authorization": "Basic dXNlcjpwYXNz"}, None),
        ({}, None),
    ],
)
def test_bearer_reads_the_header(headers: dict[str, str], token: str | None) -> None:
    assert bearer(headers) == token


def test_a_token_in_the_query_is_not_a_credential() -> None:
    access = gate()
    query = {"token": SETTINGS.role_token("supervisor")}
    assert websocket_principal(access, {}, query) is None


def test_headers_and_tickets_name_the_principal() -> None:
    access = gate()
    supervisor = request_principal(access, {"authorization": f"Bearer {SETTINGS.role_token('supervisor')}"})
    assert is_role(supervisor, "supervisor") and not is_role(supervisor, "qa")
    agent = request_principal(access, {"authorization": f"Bearer {SETTINGS.agent_token('alice')}"})
    assert agent is not None and agent.is_agent("alice") and not is_role(agent, "supervisor", "qa")
    ticket = access.issue_ticket(agent)
    assert websocket_principal(access, {}, {"ticket": ticket}) == agent
    assert websocket_principal(access, {}, {"ticket": ticket}) is None  # used
    # A bad ticket is not rescued by a header: the page asked for the ticket's principal.
    header = {"authorization": f"Bearer {SETTINGS.role_token('qa')}"}
    assert websocket_principal(access, header, {"ticket": "forged"}) is None
    assert is_role(websocket_principal(access, header, {}), "qa")


@pytest.mark.parametrize("given", ["é", "中文", "\udcff", "", "ingest-secret\u0000", "INGEST-SECRET"])
def test_anything_but_a_credential_is_refused_without_an_error(given: str) -> None:
    access = gate()
    assert not ingest_allowed(SETTINGS, given)
    assert request_principal(access, {"authorization": f"Bearer {given}"}) is None
    assert websocket_principal(access, {}, {"ticket": given}) is None


def test_ingest_token() -> None:
    assert ingest_allowed(SETTINGS, "ingest-secret")
    assert not ingest_allowed(SETTINGS, None)
    assert not ingest_allowed(SETTINGS, SETTINGS.agent_token("a1"))
    assert ingest_allowed(Settings(secret_key="unit-test-secret-0123"), None), "open when none is configured"


def test_configured_role_tokens_replace_the_derived_ones() -> None:
    configured = Settings(secret_key="unit-test-secret-0123", supervisor_token="sup-token", qa_token="qa-token")
    access = AccessGate(configured.secret_key, {r: configured.role_token(r) for r in ("supervisor", "qa")}, None)
    assert is_role(access.authenticate("sup-token"), "supervisor")
    assert is_role(access.authenticate("qa-token"), "qa")
    assert access.authenticate(SETTINGS.role_token("supervisor")) is None
