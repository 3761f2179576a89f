"""``python -m assist access …``: issue agent tokens, revoke an agent, rotate a role token.

Changes go to the access file (ASSIST_ACCESS_FILE, default data_dir/access.json); a running
server applies them within seconds, without a restart. Uses the same settings as the server
(ASSIST_* variables, ASSIST_CONFIG), so the secret is the one the server signs with.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from assist.errors import AssistError

if TYPE_CHECKING:
    from assist.config import Settings


def register(commands: Any) -> None:
    access = commands.add_parser("access", help="agent tokens, revocation, role token rotation")
    sub = access.add_subparsers(dest="access_command", required=True)
    token = sub.add_parser("token", help="print a signed token for an agent's sidebar")
    token.add_argument("agent")
    token.add_argument("--hours", type=float, default=None, help="lifetime (default: ASSIST_AGENT_TOKEN_TTL_S)")
    token.add_argument("--link", metavar="BASE_URL", help="print a sidebar sign-in link on this server instead")
    token.set_defaults(run=run_token)
    revoke = sub.add_parser("revoke", help="refuse every token issued to an agent until now")
    revoke.add_argument("agent")
    revoke.set_defaults(run=run_revoke)
    rotate = sub.add_parser("rotate", help="put a new supervisor or QA token in force")
    rotate.add_argument("role", choices=["supervisor", "qa"])
    rotate.add_argument(
        "--grace-minutes", type=float, default=60.0, help="how long the current token keeps working (0: stop now)"
    )
    rotate.set_defaults(run=run_rotate)
    show = sub.add_parser("show", help="what the access file holds (no secrets)")
    show.set_defaults(run=run_show)


def _settings() -> Settings:
    from assist.config import load_settings

    return load_settings()


def run_token(args: argparse.Namespace) -> int:
    from assist.access.tokens import check_agent_id

    try:
        settings = _settings()
        check_agent_id(args.agent)
    except (AssistError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    token = settings.agent_token(args.agent, None if args.hours is None else args.hours * 3600)
    if args.link:
        print(f"{args.link.rstrip('/')}/sidebar?agent={args.agent}#token={token}")
    else:
        print(token)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from assist.access.policy import load_policy, revoke_agent, save_policy

    try:
        settings = _settings()
        policy = load_policy(settings.access_path)
        revoke_agent(policy, args.agent, now_s=time.time())
        save_policy(settings.access_path, policy)
    except (AssistError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"revoked every token issued to {args.agent} until now ({settings.access_path}); open sidebars close")
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    from assist.access.gate import AccessGate
    from assist.access.policy import load_policy, rotate_role, save_policy
    from assist.access.tokens import ROLES, new_role_token, token_digest

    try:
        settings = _settings()
        gate = AccessGate(settings.secret_key, {r: settings.role_token(r) for r in ROLES}, settings.access_path)
        policy = load_policy(settings.access_path)
        token = new_role_token()
        now_s = time.time()
        grace_s = max(0.0, args.grace_minutes * 60)
        rotate_role(policy, args.role, token_digest(token), gate.role_keys(args.role), now_s=now_s, grace_s=grace_s)
        save_policy(settings.access_path, policy)
    except (AssistError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(token)
    print(
        f"new {args.role} token in force ({settings.access_path}); the previous one works for "
        f"{args.grace_minutes:g} more minute(s)",
        file=sys.stderr,
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from assist.access.policy import load_policy

    try:
        settings = _settings()
        policy = load_policy(settings.access_path)
    except AssistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    now_s = time.time()
    print(f"access file: {settings.access_path}")
    for role in ("supervisor", "qa"):
        keys = policy.roles.get(role)  # type: ignore[call-overload]
        if keys is None:
            print(f"  {role}: the configured or derived token")
            continue
        states = [
            "in force" if k.until_s is None else (f"until {time.ctime(k.until_s)}" if k.live(now_s) else "expired")
            for k in keys
        ]
        print(f"  {role}: {len(keys)} key(s): {', '.join(states)}")
    for agent, at_ms in policy.revoked_agents.items():
        print(f"  agent {agent}: tokens issued before {time.ctime(at_ms / 1000)} revoked")
    return 0
