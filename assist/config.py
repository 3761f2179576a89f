"""One settings object, read once at start-up; a bad value stops the server with a clear message.

Sources, highest priority first: keyword arguments (tests, CLI flags), environment variables
``ASSIST_*``, a TOML file named by ``ASSIST_CONFIG`` (keys as below, without the prefix),
then the defaults, which run the demo: SQLite under var/, the bundled bank knowledge base.
"""

from __future__ import annotations

import os
import secrets
import socket
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assist.errors import ConfigError
from assist.modelfiles import REPO_ROOT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSIST_", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = None  # how platforms reach us, for the URLs we print

    # Security. Agent tokens are signed with secret_key; role tokens left unset are derived from
    # it. Unset, load_settings keeps one in data_dir/secret_key (so tokens survive a restart).
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32), min_length=16)
    agent_token_ttl_s: float = Field(12 * 3600.0, gt=0)  # an agent token lasts a shift
    ticket_ttl_s: float = Field(30.0, gt=0, le=300)  # a page's pass for one websocket
    access_file: Path | None = None  # rotated role tokens, revoked agents; None: data_dir/access.json
    twilio_auth_token: str | None = None  # when set, /twilio requires a valid X-Twilio-Signature
    audiohook_api_key: str | None = None  # required for /audiohook (HTTP 401 otherwise)
    audiohook_client_secret: str | None = None  # base64; when set, signatures are required
    audiohook_max_clock_skew_s: float = 5.0
    ingest_token: str | None = None  # bearer token for /native and /twilio; None = open
    supervisor_token: str | None = None
    qa_token: str | None = None
    # Browser pages: who may open the viewer websockets besides the page's own origin (e.g. an
    # agent desktop at https://desk.example.com), and who may frame the pages (CSP frame-ancestors).
    allowed_origins: tuple[str, ...] = ()
    frame_ancestors: str = "'self'"

    # Speech core
    language: str = "en"
    stt_model: Literal["tiny.en", "base"] = "tiny.en"  # for English; other languages use base
    stt_cpu_threads: int = Field(1, ge=1, le=64)  # per decode worker
    stt_workers: int | None = Field(None, ge=1, le=16)  # None: one per stt_cpu_threads cores (CPU), 1 (GPU)
    stt_max_batch: int = Field(4, ge=1, le=32)
    stt_device: Literal["cpu", "cuda", "auto"] = "cpu"
    stt_compute_type: str = "int8"
    preload_multilingual: bool = False
    # Languages whose turns are decoded again together once the speaker stops, revising the
    # clauses' finals in place (docs/stt.md, "Mandarin"): more accurate, about a third more CPU.
    stt_revise_turns: tuple[str, ...] = ("zh",)
    # ... only the long turns (a sentence cut inside running speech) of these languages.
    stt_revise_long_turns: tuple[str, ...] = ("en",)
    # ... every final of these, in windows of the speaker's speech across turns, as the offline
    # decoder hears a channel (docs/stt.md, "Context windows"); these take precedence.
    stt_revise_windows: tuple[str, ...] = ("en", "zh")
    stt_turn_beam_size: int = Field(5, ge=1, le=10)  # beam of those decodes (off the latency path)

    # Capacity and back-pressure
    # None: the capacity this node measures at start (assist/calls/admission.py), else 32.
    max_calls: int | None = Field(None, ge=1)
    max_final_wait_s: float = Field(1.0, gt=0)  # a backlog this old refuses new calls
    # After a platform's close, how long finals still being decoded may be sent back on the
    # ingest connection before it is closed; later ones reach the sidebar and call log only.
    close_flush_s: float = Field(1.0, ge=0)
    # An ingest connection that sends nothing for this long is ended (platforms stream audio
    # continuously; AudioHook also pings every 5 s).
    idle_call_timeout_s: float = Field(60.0, gt=0)
    start_timeout_s: float = Field(10.0, gt=0)  # a connection that never starts a call is closed
    sidebar_queue_size: int = Field(256, ge=8)
    sidebar_send_timeout_s: float = Field(10.0, gt=0)
    shutdown_grace_s: float = Field(15.0, ge=0)

    # Data
    data_dir: Path = REPO_ROOT / "var"
    database_url: str | None = None  # postgresql://... ; None = SQLite in data_dir
    kb_dir: Path | None = REPO_ROOT / "kb" / "bank"  # None: transcripts only, no guidance
    node_id: str = Field(default_factory=socket.gethostname)  # whose open calls a restart marks interrupted
    # Live state shared by a fleet (redis://host:6379/0); None: this node alone, in process.
    redis_url: str | None = None
    calllog_final_timeout_s: float = Field(1.0, gt=0)  # longest a final waits for its write
    retention_days: float | None = Field(None, gt=0)  # delete calls older than this (None: keep)
    record_audio: bool = False  # keep each call's audio (data_dir/recordings), replayed in QA
    # Customers newly at risk after a call, POSTed to a CRM (signed, retried: assist/retention/webhook.py).
    retention_webhook_url: str | None = None
    retention_webhook_secret: str | None = None  # None: derived from secret_key
    transfer_window_s: float = Field(1800.0, ge=0)  # an earlier leg this recent is a transfer

    # Redaction (before storage; and on the sidebar too unless redact_live is off)
    redact: bool = True
    redact_kinds: tuple[str, ...] = ("card", "cvv", "expiry", "ssn", "national_id", "phone", "email", "account")
    redact_live: bool = True

    # Quality review
    qa_scorecard: Path | None = None  # YAML scorecard; None: the built-in one

    @field_validator("redact_kinds")
    @classmethod
    def _known_kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from assist.calllog.redact import REDACTION_KINDS

        unknown = sorted(set(value) - set(REDACTION_KINDS))
        if unknown:
            raise ValueError(f"unknown redaction kind(s) {', '.join(unknown)}; known: {', '.join(REDACTION_KINDS)}")
        return value

    @field_validator("audiohook_client_secret")
    @classmethod
    def _secret_is_base64(cls, value: str | None) -> str | None:
        if value is not None:
            import base64
            import binascii

            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as error:
                raise ValueError("must be base64 (as Genesys shows the client secret)") from error
        return value

    def agent_token(self, agent_id: str, ttl_s: float | None = None) -> str:
        """A signed sidebar token for one agent that expires (assist.access.tokens); nothing
        needs storing, and ``assist access revoke`` ends the ones already issued."""
        import time

        from assist.access.tokens import issue_agent_token

        return issue_agent_token(self.secret_key, agent_id, now_s=time.time(), ttl_s=ttl_s or self.agent_token_ttl_s)

    @property
    def access_path(self) -> Path:
        return self.access_file or self.data_dir / "access.json"

    def role_token(self, role: Literal["supervisor", "qa"]) -> str:
        configured = self.supervisor_token if role == "supervisor" else self.qa_token
        if configured:
            return configured
        return self.derived_secret(f"role:{role}")

    def derived_secret(self, purpose: str) -> str:
        """A secret for one purpose, derived from secret_key (one secret to keep, many uses)."""
        import hashlib
        import hmac

        return hmac.new(self.secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; raise ConfigError naming every bad value."""
    file_values: dict[str, Any] = {}
    config_path = os.environ.get("ASSIST_CONFIG")
    if config_path:
        try:
            file_values = tomllib.loads(Path(config_path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read config file {config_path}: {error}") from error
    env_keys = {key[len("ASSIST_") :].lower() for key in os.environ if key.startswith("ASSIST_")}
    merged = {k: v for k, v in file_values.items() if k not in env_keys} | overrides
    try:
        settings = Settings(**merged)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"invalid configuration: {problems}") from error
    if "secret_key" not in merged and "secret_key" not in env_keys:
        settings = settings.model_copy(update={"secret_key": persisted_secret(settings.data_dir / "secret_key")})
    return settings


def persisted_secret(path: Path) -> str:
    """The node's own secret, made once (owner-only) so tokens outlive a restart; a fleet sets
    ASSIST_SECRET_KEY on every node instead."""
    try:
        secret = path.read_text().strip()
        if len(secret) >= 16:
            return secret
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
    secret = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secret + "\n")
    except OSError as error:
        raise ConfigError(f"cannot write {path} (or set ASSIST_SECRET_KEY): {error}") from error
    return secret
