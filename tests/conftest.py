"""Shared fixtures: real models are loaded once per test session."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


async def until(check: Callable[[], object], what: str, timeout_s: float = 60.0) -> None:
    """Wait for a condition, not for a guessed time; the limit is for a very slow machine."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


# -- a live server in this process (shares the session's loaded model) ----------------------------

AUDIOHOOK_KEY = "test-audiohook-key"
SECRET_KEY = "test-secret-key-0123"


class LiveServer:
    def __init__(self, services: object, port: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.services = services
        self.port = port
        self.loop = loop  # the server's event loop (its own thread)
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def agent_token(self, agent_id: str) -> str:
        return self.services.settings.agent_token(agent_id)  # type: ignore[attr-defined]

    def ticket(self, token: str) -> str:
        """A websocket ticket, as POST /api/ticket would give one (tests of other things)."""
        access = self.services.access  # type: ignore[attr-defined]
        principal = access.authenticate(token)
        assert principal is not None, "not a valid token"
        return str(access.issue_ticket(principal))

    def sidebar_url(self, agent_id: str) -> str:
        return f"{self.ws}/ws/sidebar?agent={agent_id}&ticket={self.ticket(self.agent_token(agent_id))}"

    def supervisor_url(self, call_id: str | None = None) -> str:
        query = f"call={call_id}&" if call_id else ""
        return f"{self.ws}/ws/supervisor?{query}ticket={self.ticket(self.supervisor_token)}"

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def on_server(self, function: Callable[..., object], *args: object) -> object:
        """Run ``function`` on the server's event loop (the hub and outboxes belong to it)."""
        import concurrent.futures

        assert self.loop is not None
        done: concurrent.futures.Future[object] = concurrent.futures.Future()

        def call() -> None:
            try:
                done.set_result(function(*args))
            except Exception as error:  # reported in the test's thread
                done.set_exception(error)

        self.loop.call_soon_threadsafe(call)
        return done.result(timeout=30)

    async def on_server_async(self, coroutine: Any) -> Any:
        """Await ``coroutine`` on the server's event loop, from the test's."""
        assert self.loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    @property
    def supervisor_token(self) -> str:
        return self.services.settings.role_token("supervisor")  # type: ignore[attr-defined]

    @property
    def qa_token(self) -> str:
        return self.services.settings.role_token("qa")  # type: ignore[attr-defined]

    @property
    def qa_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.qa_token}"}


async def stream_watched(server: LiveServer, audio: Any, *, agent_id: str, **stream: Any) -> tuple[Any, Any]:
    """Stream a call over the native protocol while its agent's sidebar watches: (ingest,
    sidebar) results, once the sidebar has seen the call end. ``stream``: stream_native's options."""
    from assist.bench.clients import StreamResult, stream_native, watch_sidebar

    sidebar, stop, connected = StreamResult(), asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch_sidebar(server.sidebar_url(agent_id), sidebar, stop, connected))
    await asyncio.wait_for(connected.wait(), 30)
    ingest = await stream_native(f"{server.ws}/native", audio, agent_id=agent_id, **stream)
    await until(lambda: sidebar.of_type("call_ended"), "the sidebar to see the call end")
    stop.set()
    await watcher
    return ingest, sidebar


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
    stt_service: object, guidance_service: object, database_url: str, node_id: str, **overrides: object
) -> Iterator[LiveServer]:
    """A server in this process sharing the session's loaded models; stopped when the caller is done."""
    import threading
    import time

    import uvicorn

    from assist.config import Settings
    from assist.services import Services
    from assist.web import access_log
    from assist.web.app import build_app

    access_log.install()  # as server.py does: no token and no false alarm in the log
    access_file = ARTIFACTS / f"access-{node_id}.json"  # each session starts with no rotation or revocation
    access_file.unlink(missing_ok=True)
    settings = Settings(
        port=free_port(),
        secret_key=SECRET_KEY,
        audiohook_api_key=AUDIOHOOK_KEY,
        data_dir=ARTIFACTS / "server-data",  # the knowledge-base index cache survives between runs
        access_file=access_file,
        # A busy machine (CI shares it) builds a decode backlog; admission would then refuse the
        # tests' calls at the door, which tests/unit/calls/test_admission.py covers on its own.
        max_final_wait_s=3600.0,
        database_url=database_url,
        node_id=node_id,
        **overrides,  # type: ignore[arg-type]
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
    yield LiveServer(services, settings.port, server.servers[0].get_loop() if server.servers else None)
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
def telecom_guidance(guidance_service: object) -> object:
    """The telecom knowledge base (English and Chinese), sharing the session's encoders."""
    from assist.guidance.engine import GuidanceService

    encoders = guidance_service.encoders  # type: ignore[attr-defined]
    return GuidanceService(REPO_ROOT / "kb" / "telecom", ARTIFACTS / "kb-cache", encoders=encoders)


@pytest.fixture(scope="session")
def telecom_server(
    stt_service: object, telecom_guidance: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The telecom demo (ASSIST_KB_DIR=kb/telecom): its Chinese prompt and the multilingual model
    are given to the session's speech service when the server starts."""
    database = tmp_path_factory.mktemp("calllog-telecom") / "calls.db"
    yield from serve_in_thread(
        stt_service, telecom_guidance, f"sqlite:///{database}", "test-telecom", kb_dir=REPO_ROOT / "kb" / "telecom"
    )


@pytest.fixture(scope="session")
def live_server_pg(stt_service: object, guidance_service: object, postgres_url: str) -> Iterator[LiveServer]:
    """The same server with its call log on the session's PostgreSQL server."""
    yield from serve_in_thread(stt_service, guidance_service, postgres_url, "test-postgres")
