"""Start ``server.py`` as its own process for a benchmark, or describe one already running.

The launched server gets a free port, a fresh data directory (nothing is written to var/; the
knowledge index cache is shared between runs), known secrets so the harness can open agent
sidebars, and the speech settings under test.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from assist.bench.dataset import REPO_ROOT
from assist.config import Settings

AUDIOHOOK_KEY = "bench-audiohook-key"


@dataclass(frozen=True, slots=True)
class ServerOptions:
    device: str = "cpu"  # cpu | cuda
    compute_type: str | None = None  # default: int8 on CPU, float16 on CUDA
    cpu_threads: int | None = None
    workers: int | None = None
    max_calls: int = 128
    kb_dir: Path | None = None  # default: the server's (kb/bank)
    cache_dir: Path = REPO_ROOT / "bench-results" / "cache"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def effective_compute_type(self) -> str:
        return self.compute_type or ("float16" if self.device == "cuda" else "int8")

    def env(self) -> dict[str, str]:
        """ASSIST_* settings for the server (secrets, port and data directory come separately)."""
        env = {
            "ASSIST_STT_DEVICE": self.device,
            "ASSIST_STT_COMPUTE_TYPE": self.effective_compute_type,
            "ASSIST_MAX_CALLS": str(self.max_calls),
            # The harness measures what the speech core sustains: the backlog guard that refuses
            # new calls at the door (assist/calls/admission.py) would hide it.
            "ASSIST_MAX_FINAL_WAIT_S": "3600",
        }
        if self.cpu_threads is not None:
            env["ASSIST_STT_CPU_THREADS"] = str(self.cpu_threads)
        if self.workers is not None:
            env["ASSIST_STT_WORKERS"] = str(self.workers)
        if self.kb_dir is not None:
            env["ASSIST_KB_DIR"] = str(self.kb_dir)
        return {**env, **self.extra_env}


@dataclass
class Target:
    """Where the server under test listens, and what the harness may know about it."""

    http: str  # http://host:port
    secret_key: str | None = None  # to open agent sidebars; None: the ingest socket only
    audiohook_key: str = AUDIOHOOK_KEY
    ingest_token: str | None = None
    pid: int | None = None  # for CPU/RSS sampling; None: read from /metrics
    settings_env: dict[str, str] = field(default_factory=dict)
    stt: dict[str, Any] = field(default_factory=dict)  # what decodes there, from its /readyz

    @property
    def ws(self) -> str:
        return self.http.replace("http", "ws", 1)

    def agent_token(self, agent_id: str) -> str | None:
        if self.secret_key is None:
            return None
        return Settings.model_construct(secret_key=self.secret_key).agent_token(agent_id)

    def sidebar_url(self, agent_id: str) -> str | None:
        """With a ticket signed by the server's secret, as POST /api/ticket would give one."""
        if self.secret_key is None:
            return None
        return f"{self.ws}/ws/sidebar?agent={agent_id}&ticket={agent_ticket(self.secret_key, agent_id)}"


def agent_ticket(secret_key: str, agent_id: str) -> str:
    from assist.access.tokens import Principal, issue_ticket

    now_s = time.time()
    principal = Principal("agent", agent_id=agent_id, issued_ms=int(now_s * 1000), expires_s=now_s + 3600)
    return issue_ticket(secret_key, principal, now_s=now_s, ttl_s=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(http: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> dict[str, Any]:
    """Poll /readyz until the server is ready; returns what it said (its speech settings)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(f"{http}/readyz", timeout=2)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
        time.sleep(0.3)
    raise RuntimeError(f"server at {http} not ready after {timeout_s:.0f} s")


class ServerProcess:
    """``with ServerProcess(options, log) as target:`` a ready server, stopped on exit."""

    def __init__(self, options: ServerOptions, log_path: Path, *, ready_timeout_s: float = 240.0) -> None:
        self.options = options
        self.log_path = log_path
        self.ready_timeout_s = ready_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._data_dir: Path | None = None
        self.started_s = 0.0  # seconds from launch to ready

    def start(self) -> Target:
        port = free_port()
        secret = secrets.token_urlsafe(24)
        self._data_dir = Path(tempfile.mkdtemp(prefix="assist-bench-"))
        # The knowledge index is the same for every run: keep it, not the call log.
        kb_cache = self.options.cache_dir / "kb-cache"
        kb_cache.mkdir(parents=True, exist_ok=True)
        (self._data_dir / "kb-cache").symlink_to(kb_cache.resolve(), target_is_directory=True)
        settings_env = self.options.env()
        env = {
            **os.environ,
            **settings_env,
            "ASSIST_SECRET_KEY": secret,
            "ASSIST_AUDIOHOOK_API_KEY": AUDIOHOOK_KEY,
            "ASSIST_DATA_DIR": str(self._data_dir),
            "HF_HUB_OFFLINE": "1",
        }
        env.pop("ASSIST_INGEST_TOKEN", None)
        env.pop("ASSIST_AUDIOHOOK_CLIENT_SECRET", None)  # the bench client does not sign
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        launched = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "server.py"), "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        log.close()
        http = f"http://127.0.0.1:{port}"
        try:
            ready = wait_ready(http, self.ready_timeout_s, self.process)
        except RuntimeError as error:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"{error}\n--- server log ---\n{tail}") from error
        self.started_s = time.perf_counter() - launched
        return Target(
            http, secret_key=secret, pid=self.process.pid, settings_env=settings_env, stt=ready.get("stt") or {}
        )

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # graceful: calls still open get their finals
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def __enter__(self) -> Target:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
