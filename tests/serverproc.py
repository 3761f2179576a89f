"""A real server in its own process (for tests that kill or restart it)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO_ROOT, free_port


class ServerProcess:
    def __init__(self, log_path: Path, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 600.0) -> ServerProcess:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "server.py"), "--port", str(self.port), "--log-level", "info"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.3)
        self.kill()
        raise RuntimeError("server did not start: " + self.log_path.read_text()[-3000:])

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
