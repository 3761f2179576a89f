"""The access file: role tokens in force (as SHA-256 digests) and agents whose tokens are revoked.

An operator changes it with ``assist access`` (rotate a role token, revoke an agent); a running
server notices within seconds, so neither needs a restart. A fleet's nodes each read the file at
the same path (shared storage or configuration management).

Format (JSON, owner-only permissions)::

    {"roles": {"qa": [{"sha256": "…", "until": null}, {"sha256": "…", "until": 1764500000.0}]},
     "revoked_agents": {"alice": 1764500000123}}

A role listed here is served by these keys instead of the configured or derived token; a key
with ``until`` stops working then (the grace that lets clients move to a new token). An agent's
tokens issued at or before the revocation (ms) are refused; tokens issued later work again.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assist.access.tokens import ROLES, Role, check_agent_id
from assist.errors import ConfigError


@dataclass(frozen=True)
class RoleKey:
    sha256: str
    until_s: float | None = None  # None: until rotated away

    def live(self, now_s: float) -> bool:
        return self.until_s is None or now_s < self.until_s


@dataclass
class AccessPolicy:
    roles: dict[Role, list[RoleKey]] = field(default_factory=dict)
    revoked_agents: dict[str, int] = field(default_factory=dict)  # agent -> revoked at (ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "roles": {
                role: [{"sha256": k.sha256, "until": k.until_s} for k in keys] for role, keys in self.roles.items()
            },
            "revoked_agents": dict(sorted(self.revoked_agents.items())),
        }


def parse_policy(data: Any) -> AccessPolicy:
    """The policy in ``data`` (decoded JSON); ValueError naming the first problem."""
    if not isinstance(data, dict) or set(data) - {"roles", "revoked_agents"}:
        raise ValueError("expected an object with 'roles' and/or 'revoked_agents'")
    policy = AccessPolicy()
    roles = data.get("roles", {})
    if not isinstance(roles, dict):
        raise ValueError("'roles' must be an object")
    for role, keys in roles.items():
        if role not in ROLES or not isinstance(keys, list):
            raise ValueError(f"roles.{role}: expected one of {', '.join(ROLES)} with a list of keys")
        parsed: list[RoleKey] = []
        for key in keys:
            digest, until = (key.get("sha256"), key.get("until")) if isinstance(key, dict) else (None, None)
            if not isinstance(digest, str) or len(digest) != 64:
                raise ValueError(f"roles.{role}: each key needs a 64-character 'sha256'")
            if until is not None and not isinstance(until, int | float):
                raise ValueError(f"roles.{role}: 'until' is a Unix time or null")
            parsed.append(RoleKey(digest.lower(), None if until is None else float(until)))
        policy.roles[role] = parsed
    revoked = data.get("revoked_agents", {})
    if not isinstance(revoked, dict):
        raise ValueError("'revoked_agents' must be an object")
    for agent, at_ms in revoked.items():
        check_agent_id(agent)
        if not isinstance(at_ms, int) or isinstance(at_ms, bool):
            raise ValueError(f"revoked_agents.{agent}: a time in milliseconds")
        policy.revoked_agents[agent] = at_ms
    return policy


def load_policy(path: Path) -> AccessPolicy:
    """The file's policy; an absent file is an empty policy; ConfigError for a broken one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AccessPolicy()
    except OSError as error:
        raise ConfigError(f"cannot read access file {path}: {error}") from error
    try:
        return parse_policy(json.loads(text))
    except (json.JSONDecodeError, ValueError) as error:
        raise ConfigError(f"access file {path}: {error}") from error


def save_policy(path: Path, policy: AccessPolicy) -> None:
    """Write atomically (a server reading it never sees half a file), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".access-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(policy.to_json(), out, indent=2)
            out.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def rotate_role(
    policy: AccessPolicy, role: Role, new_digest: str, current: list[RoleKey], *, now_s: float, grace_s: float
) -> None:
    """Put a new key in force; keys in force now keep working for ``grace_s`` (0: stop now)."""
    until = now_s + grace_s
    kept = [
        RoleKey(k.sha256, until if k.until_s is None else min(k.until_s, until))
        for k in current
        if k.live(now_s) and grace_s > 0
    ]
    policy.roles[role] = [RoleKey(new_digest), *kept]


def revoke_agent(policy: AccessPolicy, agent_id: str, *, now_s: float) -> None:
    policy.revoked_agents[check_agent_id(agent_id)] = int(now_s * 1000)
