"""Signed agent tokens and tickets: forged, altered, expired or foreign ones are refused, never raise."""

from __future__ import annotations

import pytest

from assist.access.tokens import (
    Principal,
    issue_agent_token,
    issue_ticket,
    read_agent_token,
    read_ticket,
    same_secret,
)

SECRET = "unit-test-secret-0123"
NOW_S = 1_800_000_000.0


def test_an_agent_token_names_its_agent_until_it_expires() -> None:
    token = issue_agent_token(SECRET, "alice", now_s=NOW_S, ttl_s=3600)
    principal = read_agent_token(SECRET, token, now_s=NOW_S + 10)
    assert principal is not None and principal.is_agent("alice") and not principal.is_agent("bob")
    assert principal.expires_s == NOW_S + 3600 and principal.issued_ms == int(NOW_S * 1000)
    assert read_agent_token(SECRET, token, now_s=NOW_S + 3600) is None  # expired
    assert read_agent_token("another-secret-0123", token, now_s=NOW_S) is None


def test_agent_ids_outside_ascii_and_with_separators_round_trip() -> None:
    for agent in ("张伟", "a|b:c", "x" * 128):
        token = issue_agent_token(SECRET, agent, now_s=NOW_S, ttl_s=60)
        principal = read_agent_token(SECRET, token, now_s=NOW_S)
        assert principal is not None and principal.agent_id == agent
    for bad in ("", "has space", "dot.ted", "x" * 129):
        with pytest.raises(ValueError):
            issue_agent_token(SECRET, bad, now_s=NOW_S, ttl_s=60)


def test_any_change_to_a_token_makes_it_worthless() -> None:
    token = issue_agent_token(SECRET, "alice", now_s=NOW_S, ttl_s=3600)
    prefix, agent, issued, expires, mac = token.split(".")
    longer = issue_agent_token(SECRET, "alice", now_s=NOW_S, ttl_s=7200).split(".")[3]
    forged = [
        ".".join((prefix, issue_agent_token(SECRET, "bob", now_s=NOW_S, ttl_s=1).split(".")[1], issued, expires, mac)),
        ".".join((prefix, agent, issued, longer, mac)),  # a later expiry
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token.upper(),
        token + ".x",
        "tk1." + token[4:],  # an agent token is not a ticket
    ]
    for candidate in forged:
        assert read_agent_token(SECRET, candidate, now_s=NOW_S) is None, candidate


@pytest.mark.parametrize("given", ["é", "中文", "\udcff", "", "a.b.c.d.e", "at1.%%%.1.2.x", "at1." + "A" * 600])
def test_garbage_is_refused_without_an_error(given: str) -> None:
    assert read_agent_token(SECRET, given, now_s=NOW_S) is None
    assert read_ticket(SECRET, given, now_s=NOW_S) is None
    assert not same_secret("secret", given)


def test_a_ticket_carries_its_principal_for_seconds() -> None:
    supervisor = Principal("supervisor", key_id="abcd")
    ticket = issue_ticket(SECRET, supervisor, now_s=NOW_S, ttl_s=30)
    read = read_ticket(SECRET, ticket, now_s=NOW_S + 29)
    assert read is not None and read[0] == supervisor
    assert read_ticket(SECRET, ticket, now_s=NOW_S + 32) is None
    assert read_ticket("another-secret-0123", ticket, now_s=NOW_S) is None
    agent = Principal("agent", agent_id="alice", issued_ms=5, expires_s=NOW_S + 60)
    read = read_ticket(SECRET, issue_ticket(SECRET, agent, now_s=NOW_S, ttl_s=30), now_s=NOW_S)
    assert read is not None and read[0] == agent
    assert read[1] != read_ticket(SECRET, issue_ticket(SECRET, agent, now_s=NOW_S, ttl_s=30), now_s=NOW_S)[1]  # type: ignore[index]


def test_same_secret_compares_bytes() -> None:
    assert same_secret("tökén", "tökén")
    assert not same_secret("token", None)
    assert not same_secret("token", "token ")
