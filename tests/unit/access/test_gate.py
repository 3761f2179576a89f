"""The gate: role keys, rotation with grace, per-agent revocation, single-use tickets, the
access file reloaded while running (a broken one keeps the last good policy)."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from assist.access.gate import AccessGate
from assist.access.policy import AccessPolicy, load_policy, parse_policy, revoke_agent, rotate_role, save_policy
from assist.access.tokens import issue_agent_token, token_digest
from assist.errors import ConfigError

SECRET = "unit-test-secret-0123"
ROLE_TOKENS = {"supervisor": "sup-token", "qa": "qa-token"}


class Clock:
    def __init__(self, now_s: float = 1_800_000_000.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def gate(tmp_path: Path, clock: Clock) -> AccessGate:
    return AccessGate(SECRET, dict(ROLE_TOKENS), tmp_path / "access.json", clock=clock)  # type: ignore[arg-type]


def agent_token(clock: Clock, agent: str = "alice", ttl_s: float = 3600) -> str:
    return issue_agent_token(SECRET, agent, now_s=clock(), ttl_s=ttl_s)


def test_roles_and_agents_are_told_apart(tmp_path: Path) -> None:
    clock = Clock()
    access = gate(tmp_path, clock)
    assert access.authenticate("sup-token").kind == "supervisor"  # type: ignore[union-attr]
    assert access.authenticate("qa-token").kind == "qa"  # type: ignore[union-attr]
    assert access.authenticate(agent_token(clock)).is_agent("alice")  # type: ignore[union-attr]
    for bad in (None, "", "SUP-TOKEN", "sup-token ", "é", "x" * 10_000):
        assert access.authenticate(bad) is None


def test_rotation_keeps_the_old_token_for_its_grace_then_only_the_new(tmp_path: Path) -> None:
    clock = Clock()
    access = gate(tmp_path, clock)
    policy = load_policy(access.policy_path)  # type: ignore[arg-type]
    rotate_role(policy, "qa", token_digest("qa-new"), access.role_keys("qa"), now_s=clock(), grace_s=600)
    save_policy(access.policy_path, policy)  # type: ignore[arg-type]
    assert stat.S_IMODE(access.policy_path.stat().st_mode) == 0o600  # type: ignore[union-attr]
    assert access.refresh()
    old = access.authenticate("qa-token")
    assert old is not None and old.expires_s == clock() + 600
    assert access.authenticate("qa-new") is not None
    assert access.authenticate("sup-token") is not None  # the other role is untouched
    clock.now_s += 601
    assert access.authenticate("qa-token") is None and not access.still_valid(old)
    assert access.authenticate("qa-new") is not None
    policy = load_policy(access.policy_path)  # type: ignore[arg-type]
    rotate_role(policy, "qa", token_digest("qa-newer"), access.role_keys("qa"), now_s=clock(), grace_s=0)
    save_policy(access.policy_path, policy)  # type: ignore[arg-type]
    access.refresh()
    assert access.authenticate("qa-new") is None and access.authenticate("qa-newer") is not None


def test_revoking_an_agent_ends_earlier_tokens_only(tmp_path: Path) -> None:
    clock = Clock()
    access = gate(tmp_path, clock)
    before, other = agent_token(clock), agent_token(clock, "bob")
    principal = access.authenticate(before)
    assert principal is not None
    clock.now_s += 1
    policy = AccessPolicy()
    revoke_agent(policy, "alice", now_s=clock())
    save_policy(access.policy_path, policy)  # type: ignore[arg-type]
    access.refresh()
    assert access.authenticate(before) is None and not access.still_valid(principal)
    assert access.authenticate(other) is not None
    clock.now_s += 1
    assert access.authenticate(agent_token(clock)) is not None  # a token issued after works


def test_a_ticket_is_good_once_and_only_while_its_principal_is(tmp_path: Path) -> None:
    clock = Clock()
    access = gate(tmp_path, clock)
    principal = access.authenticate(agent_token(clock))
    assert principal is not None
    ticket = access.issue_ticket(principal)
    assert access.redeem_ticket(ticket) == principal
    assert access.redeem_ticket(ticket) is None, "a ticket is single-use"
    late = access.issue_ticket(principal)
    clock.now_s += access.ticket_ttl_s + 2
    assert access.redeem_ticket(late) is None, "an expired ticket"
    supervisor = access.authenticate("sup-token")
    assert supervisor is not None
    pending = access.issue_ticket(supervisor)
    policy = AccessPolicy()
    rotate_role(policy, "supervisor", token_digest("s2"), access.role_keys("supervisor"), now_s=clock(), grace_s=0)
    save_policy(access.policy_path, policy)  # type: ignore[arg-type]
    access.refresh()
    assert access.redeem_ticket(pending) is None, "bought with a token rotated away since"
    assert access.redeem_ticket(None) is None and access.redeem_ticket("tk1.x") is None


def test_a_broken_access_file_stops_the_start_but_not_a_running_server(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    path = tmp_path / "access.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="access file"):
        gate(tmp_path, clock)
    path.write_text(json.dumps({"revoked_agents": {"alice": 1}}))
    access = gate(tmp_path, clock)
    path.write_text(json.dumps({"roles": {"admin": []}}))
    with pytest.raises(ConfigError, match=r"roles\.admin"):
        access.refresh()
    assert access.policy.revoked_agents == {"alice": 1}, "the last good policy stays in force"

    async def polls() -> None:
        watcher = asyncio.create_task(access.watch(interval_s=0.01))
        while not caplog.records:
            await asyncio.sleep(0.01)
        for _ in range(10):  # more polls of the same broken file
            await asyncio.sleep(0.01)
        watcher.cancel()

    with caplog.at_level("ERROR", logger="assist.access.gate"):
        asyncio.run(asyncio.wait_for(polls(), 30))
    assert len(caplog.records) == 1 and "stays in force" in caplog.records[0].getMessage()
    assert access.policy.revoked_agents == {"alice": 1}


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"roles": {"qa": [{"sha256": "short"}]}},
        {"roles": {"qa": [{"sha256": "a" * 64, "until": "soon"}]}},
        {"revoked_agents": {"alice": "yesterday"}},
        {"revoked_agents": {"has space": 1}},
        {"extra": 1},
    ],
)
def test_policy_parsing_names_the_problem(data: object) -> None:
    with pytest.raises(ValueError):
        parse_policy(data)


def test_an_open_view_ends_when_its_token_expires_or_is_revoked(tmp_path: Path) -> None:
    clock = Clock()
    access = gate(tmp_path, clock)

    async def scenario() -> None:
        watcher = asyncio.create_task(access.watch(interval_s=0.01))
        short = access.authenticate(agent_token(clock, ttl_s=1))
        assert short is not None
        ended = asyncio.create_task(access.wait_until_invalid(short))
        await asyncio.sleep(0.05)
        assert not ended.done()
        clock.now_s += 2
        await asyncio.wait_for(ended, 10)  # the expiry was waited for, then re-checked
        alice = access.authenticate(agent_token(clock))
        assert alice is not None
        revoked = asyncio.create_task(access.wait_until_invalid(alice))
        clock.now_s += 1
        policy = AccessPolicy()
        revoke_agent(policy, "alice", now_s=clock())
        save_policy(access.policy_path, policy)  # type: ignore[arg-type]
        await asyncio.wait_for(revoked, 10)  # woken by the reload, not a timer
        watcher.cancel()

    asyncio.run(scenario())
