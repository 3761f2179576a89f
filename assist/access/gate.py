"""The running server's access decisions: which credential speaks for whom, right now.

One per process. It keeps the access file's policy (reloaded when the file changes, off the event
loop), the role keys in force, and the nonces of tickets already used. Every check is cheap and
never raises on any input: a credential is either good or it is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from assist.access import tokens
from assist.access.policy import AccessPolicy, RoleKey, load_policy
from assist.access.tokens import ROLES, Principal, Role
from assist.errors import ConfigError

log = logging.getLogger(__name__)


class AccessGate:
    def __init__(
        self,
        secret: str,
        role_tokens: dict[Role, str],
        policy_path: Path | None,
        *,
        ticket_ttl_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._configured = {role: RoleKey(tokens.token_digest(token)) for role, token in role_tokens.items()}
        self.policy_path = policy_path
        self.ticket_ttl_s = ticket_ttl_s
        self._clock = clock
        self._stamp: tuple[int, int] | None = None
        self._used_tickets: dict[str, float] = {}  # nonce -> expires_s
        self._changed = asyncio.Event()
        self.policy = AccessPolicy()
        self.refresh()  # a broken file at start is a ConfigError: the server does not start

    # -- credentials -----------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Principal | None:
        if not token or len(token) > tokens.MAX_TOKEN_CHARS:
            return None
        now_s = self._clock()
        agent = tokens.read_agent_token(self._secret, token, now_s=now_s)
        if agent is not None:
            return agent if self._not_revoked(agent) else None
        digest = tokens.token_digest(token)
        for role in ROLES:
            for key in self.role_keys(role):
                if key.live(now_s) and tokens.same_secret(key.sha256, digest):
                    return Principal(role, expires_s=key.until_s, key_id=key.sha256[:16])
        return None

    def still_valid(self, principal: Principal) -> bool:
        """For connections that stay open: expiry, a revocation, a role key rotated away."""
        now_s = self._clock()
        if principal.expires_s is not None and principal.expires_s <= now_s:
            return False
        if principal.kind == "agent":
            return self._not_revoked(principal)
        return any(k.sha256[:16] == principal.key_id and k.live(now_s) for k in self.role_keys(principal.kind))

    def role_keys(self, role: Role) -> list[RoleKey]:
        listed = self.policy.roles.get(role)
        return listed if listed is not None else [self._configured[role]]

    def _not_revoked(self, agent: Principal) -> bool:
        revoked_ms = self.policy.revoked_agents.get(agent.agent_id or "")
        return revoked_ms is None or agent.issued_ms > revoked_ms

    # -- tickets -----------------------------------------------------------------------------
    def issue_ticket(self, principal: Principal) -> str:
        return tokens.issue_ticket(self._secret, principal, now_s=self._clock(), ttl_s=self.ticket_ttl_s)

    def redeem_ticket(self, ticket: str | None) -> Principal | None:
        """The ticket's principal, once: a second use of the same ticket is refused (on this
        node; a ticket lives for seconds, so replay elsewhere in a fleet has a short window)."""
        if not ticket:
            return None
        now_s = self._clock()
        read = tokens.read_ticket(self._secret, ticket, now_s=now_s)
        if read is None:
            return None
        principal, nonce, expires_s = read
        self._used_tickets = {n: e for n, e in self._used_tickets.items() if e > now_s}
        if nonce in self._used_tickets:
            return None
        self._used_tickets[nonce] = expires_s
        return principal if self.still_valid(principal) else None

    # -- the access file ---------------------------------------------------------------------
    def refresh(self) -> bool:
        """Reload the access file if it changed; True when it did. Blocking (a stat and a
        small read): call it from a thread in a running server."""
        if self.policy_path is None:
            return False
        try:
            stat = self.policy_path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return False
        self.policy = load_policy(self.policy_path)
        self._stamp = stamp
        return True

    async def watch(self, interval_s: float = 2.0) -> None:
        """Pick up rotations and revocations while running; a broken file keeps the last good
        policy and is reported once."""
        loop = asyncio.get_running_loop()
        reported = False
        while True:
            await asyncio.sleep(interval_s)
            try:
                if await loop.run_in_executor(None, self.refresh):
                    log.info("access file reloaded: %s", self.policy_path)
                    reported = False
                    changed, self._changed = self._changed, asyncio.Event()
                    changed.set()
            except ConfigError as error:
                if not reported:
                    log.error("%s; the previous access policy stays in force", error)
                    reported = True

    async def wait_until_invalid(self, principal: Principal) -> None:
        """Return when ``principal`` stops being valid (expiry, revocation, rotation)."""
        while self.still_valid(principal):
            wait_s = None if principal.expires_s is None else max(0.0, principal.expires_s - self._clock()) + 0.05
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait_s)
            await asyncio.sleep(0)  # let the watcher install the next event before re-checking
