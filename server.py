"""Start the assist server: ``python server.py [--host H] [--port P] [--config FILE]``.

Composes the pieces (settings, models, hub, app) and runs them; nothing else lives here.
Other settings come from ``ASSIST_*`` environment variables or the TOML file (docs/config.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from types import FrameType

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models come from PyPI packages, never a hub

import uvicorn

from assist.access.gate import AccessGate
from assist.config import Settings, load_settings
from assist.errors import AssistError
from assist.services import Services
from assist.web import access_log
from assist.web.app import build_app

log = logging.getLogger("assist.server")
DEMO_AGENT = "demo-agent"


class AssistServer(uvicorn.Server):
    """uvicorn, with a graceful first step on SIGTERM/SIGINT: finish every call's finals and
    tell each client in its own protocol before uvicorn closes the sockets."""

    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self.services = services
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining or not self.started:
            super().handle_exit(sig, frame)
            return
        self._draining = True
        loop = asyncio.get_event_loop()

        async def drain() -> None:
            await self.services.desk.drain(self.services.settings.shutdown_grace_s)
            super(AssistServer, self).handle_exit(sig, frame)

        loop.call_soon_threadsafe(lambda: loop.create_task(drain()))


def call_log(settings: Settings) -> str:
    if settings.database_url and settings.database_url.startswith("postgres"):
        return "PostgreSQL " + settings.database_url.split("@")[-1]  # never print the password
    return f"SQLite {settings.database_url or settings.data_dir / 'calls.db'}"


def print_urls(settings: Settings, host: str, port: int, access: AccessGate | None = None) -> None:
    """The start banner. It never prints a token (stdout ends up in shared logs): the sign-in
    links, with tokens in their #fragment (never sent to a server), go to a file only this user
    can read."""
    base = settings.public_url or f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    ws = base.replace("http", "ws", 1)
    supervisor, qa = settings.role_token("supervisor"), settings.role_token("qa")
    rotated = "<the token from `assist access rotate`>"
    if access is not None:  # a role whose token was rotated: its current token is the operator's
        supervisor = supervisor if access.authenticate(supervisor) else rotated
        qa = qa if access.authenticate(qa) else rotated
    links = {
        f"Agent sidebar ({DEMO_AGENT}):": f"{base}/sidebar?agent={DEMO_AGENT}#token={settings.agent_token(DEMO_AGENT)}",
        "Supervisor:": f"{base}/supervisor#token={supervisor}",
        "Quality review (QA):": f"{base}/qa#token={qa}",
    }
    path = write_links(settings.data_dir / "links.txt", links)
    lines = [
        f"assist is running on {base}",
        f"  Sign-in links (agent, supervisor, QA): {path}  (readable by you only; agent tokens last "
        f"{settings.agent_token_ttl_s / 3600:g} h; more with `python -m assist access token AGENT`)",
        f"  Call log:                    {call_log(settings)}  (QA API: {base}/api/openapi.json)",
        f"  Native ingest:               {ws}/native",
        f"  Twilio Media Streams:        {ws}/twilio",
        f"  Genesys AudioHook:           {ws}/audiohook"
        + ("" if settings.audiohook_api_key else "  (disabled: set ASSIST_AUDIOHOOK_API_KEY)"),
        "  Health: /healthz  Ready: /readyz  Metrics: /metrics",
    ]
    print("\n".join(lines), flush=True)


def write_links(path: Path, links: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.writelines(f"{label} {url}\n" for label, url in links.items())
    os.chmod(path, 0o600)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="assist: real-time agent assist server")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--config", help="TOML settings file (same keys as ASSIST_* variables)")
    parser.add_argument("--log-level", default=os.environ.get("ASSIST_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    access_log.install()  # token values never reach a log line
    if args.config:
        os.environ["ASSIST_CONFIG"] = args.config
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        settings = load_settings(**overrides)
        # The first start builds the knowledge-base index (about a minute on 2 cores); say so.
        print(
            "assist: loading the speech models and the knowledge base"
            + (
                f" ({settings.kb_dir.name}; the first start builds its index, about a minute)"
                if settings.kb_dir
                else ""
            )
            + "…",
            flush=True,
        )
        services = Services.create(settings)
    except AssistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app = build_app(services)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        log_level=args.log_level,
        ws_max_size=1 << 20,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s) + 5,
    )
    server = AssistServer(config, services)
    print_urls(settings, settings.host, settings.port, services.access)
    try:
        server.run()
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
