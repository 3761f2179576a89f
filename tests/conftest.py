"""Shared fixtures: real models are loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ["tests.pg_plugin"]  # a throwaway PostgreSQL server for the session (postgres_url)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def stt_service() -> Iterator[object]:
    from assist.stt.transcriber import SttService, SttSettings

    # Interims at the configured spacing whatever the machine's load: the calibration at start
    # would space them further on a busy machine. It is tested on its own (test_stt_streaming).
    service = SttService(SttSettings(calibrate=False))
    yield service
    service.close()


# -- a live server in this process (shares the session's loaded model) ----------------------------

AUDIOHOOK_KEY = "test-audiohook-key"
SECRET_KEY = "test-secret"


class LiveServer:
    def __init__(self, services: object, port: int) -> None:
        self.services = services
        self.port = port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def agent_token(self, agent_id: str) -> str:
        return self.services.settings.agent_token(agent_id)  # type: ignore[attr-defined]

    def sidebar_url(self, agent_id: str) -> str:
        return f"{self.ws}/ws/sidebar?agent={agent_id}&token={self.agent_token(agent_id)}"

    @property
    def supervisor_token(self) -> str:
        return self.services.settings.role_token("supervisor")  # type: ignore[attr-defined]

    @property
    def qa_token(self) -> str:
        return self.services.settings.role_token("qa")  # type: ignore[attr-defined]

    @property
    def qa_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.qa_token}"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def guidance_service() -> object:
    """The bank knowledge base with real encoders, loaded once (index cached under test-artifacts)."""
    from assist.guidance.engine import GuidanceService

    return GuidanceService(REPO_ROOT / "kb" / "bank", ARTIFACTS / "kb-cache")


def serve_in_thread(
    stt_service: object, guidance_service: object, database_url: str, node_id: str
) -> Iterator[LiveServer]:
    """A server in this process sharing the session's loaded models; stopped when the caller is done."""
    import threading
    import time

    import uvicorn

    from assist.config import Settings
    from assist.services import Services
    from assist.web.app import build_app

    settings = Settings(
        port=free_port(),
        secret_key=SECRET_KEY,
        audiohook_api_key=AUDIOHOOK_KEY,
        data_dir=ARTIFACTS / "server-data",  # the knowledge-base index cache survives between runs
        database_url=database_url,
        node_id=node_id,
    )
    services = Services.create(settings, stt=stt_service, guidance=guidance_service)  # type: ignore[arg-type]
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(services), host="127.0.0.1", port=settings.port, ws="websockets-sansio", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, name=f"live-server-{settings.port}", daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield LiveServer(services, settings.port)
    server.should_exit = True
    thread.join(10)
    services.close()


@pytest.fixture(scope="session")
def live_server(
    stt_service: object, guidance_service: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The in-process server on the embedded call log (a fresh SQLite file per session)."""
    database = tmp_path_factory.mktemp("calllog") / "calls.db"
    yield from serve_in_thread(stt_service, guidance_service, f"sqlite:///{database}", "test-sqlite")


@pytest.fixture(scope="session")
def live_server_pg(stt_service: object, guidance_service: object, postgres_url: str) -> Iterator[LiveServer]:
    """The same server with its call log on the session's PostgreSQL server."""
    yield from serve_in_thread(stt_service, guidance_service, postgres_url, "test-postgres")
