"""A throwaway PostgreSQL cluster for the test session.

``TempPostgres`` runs ``initdb`` into a fresh temporary directory, starts the server with ``pg_ctl`` on a free
TCP port of 127.0.0.1 (plus a unix socket inside that directory), creates the database ``assist_test`` and
exposes its URL. ``stop()`` shuts the server down and removes the directory. No system cluster or service is
used or touched.

PostgreSQL refuses to run as root, so under root (as in CI) the cluster belongs to the ``postgres`` system user
that the Debian ``postgresql`` package creates; otherwise it runs as the current user. The server binaries come
from the newest ``/usr/lib/postgresql/*/bin`` (Debian), else ``pg_config --bindir``, else ``PATH``;
``make system-deps`` installs them.

``ExternalPostgres`` wraps an already running server (``ASSIST_TEST_DATABASE_URL``) behind the same interface.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DATABASE = "assist_test"
SUPERUSER = "postgres"
_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_HINT = "run `make system-deps` (installs the Debian package `postgresql`)"
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Settings for a disposable test cluster: nothing must survive a crash, so durability is switched off.
_CONF = """
# -- assist test cluster (tests/pgserver.py) --
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockdir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
log_min_messages = warning
"""


class PostgresUnavailable(RuntimeError):
    """A PostgreSQL server could not be found, started or reached; the message says why and what to do."""


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: the newest Debian install, else pg_config, else PATH."""

    def complete(path: Path) -> bool:
        return all(os.access(path / name, os.X_OK) for name in _SERVER_BINARIES)

    def version_key(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    debian = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if complete(path)), key=version_key, reverse=True
    )
    if debian:
        return debian[0]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            bindir = Path(out.stdout.strip())
            if complete(bindir):
                return bindir
    on_path = [shutil.which(name) for name in _SERVER_BINARIES]
    if all(on_path):
        return Path(on_path[0]).parent  # type: ignore[arg-type]
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin, "
        f"`pg_config --bindir` or PATH: {_HINT}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replace_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ValueError(f"database name {name!r}: use lower-case letters, digits and _ (at most 63)")
    return name


class _Databases:
    """``fresh_database`` shared by both server kinds."""

    url: str
    _created: list[str]

    def _admin_url(self) -> str:
        return self.url

    def fresh_database(self, name: str | None = None) -> str:
        """Create a new, empty database (a generated unique name when ``name`` is None) and return its URL."""
        name = _check_name(name or f"{DATABASE}_{os.getpid()}_{len(self._created) + 1}_{time.monotonic_ns() % 10**6}")
        with psycopg.connect(self._admin_url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        return replace_database(self.url, name)


class TempPostgres(_Databases):
    """A private PostgreSQL cluster in a temporary directory, for the length of a test session.

    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, bindir: Path | None = None, database: str = DATABASE) -> None:
        self.bindir = bindir
        self.database = _check_name(database)
        self.base: Path | None = None
        self.port = 0
        self.url = ""
        self._created = []
        self._owner: pwd.struct_passwd | None = None  # the user the server runs as, when we are root
        self._running = False

    # -- paths ------------------------------------------------------------------------------------------------------

    @property
    def datadir(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        assert self.base is not None
        return self.base / "sock"

    @property
    def logfile(self) -> Path:
        assert self.base is not None
        return self.base / "server.log"

    # -- lifecycle --------------------------------------------------------------------------------------------------

    def start(self) -> TempPostgres:
        if self._running:
            return self
        self.bindir = self.bindir or find_bindir()
        if os.geteuid() == 0:
            try:
                self._owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresUnavailable(
                    "running as root, but PostgreSQL refuses to run as root and there is no `postgres` system user "
                    f"to run it as: {_HINT}"
                ) from None
        self.base = Path(tempfile.mkdtemp(prefix="assist-pg-", dir=self._parent_dir()))
        atexit.register(self.stop)
        try:
            for sub in (self.datadir, self.sockdir):
                sub.mkdir(mode=0o700)
            if self._owner is not None:
                for path in (self.base, self.datadir, self.sockdir):
                    os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
            self._initdb()
            self._start_server()
            with psycopg.connect(self._admin_url(), autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            self.url = f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{self.database}"
            with psycopg.connect(self.url, connect_timeout=10) as conn:
                conn.execute("SELECT 1").fetchone()
        except Exception as exc:
            log = self._log_tail()
            self.stop()
            raise PostgresUnavailable(f"temporary server ({self.bindir}) failed to start: {exc}{log}") from exc
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory. Safe to call more than once."""
        if self._running:
            try:
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
            except PostgresUnavailable:
                with contextlib.suppress(PostgresUnavailable):
                    self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "10")
            self._running = False
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None
        atexit.unregister(self.stop)

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------------------------------

    def _admin_url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _parent_dir(self) -> str | None:
        """Where the cluster directory goes: the usual temp dir, unless the postgres user could not reach it."""
        if self._owner is None:
            return None
        parent = Path(tempfile.gettempdir()).resolve()
        for path in (parent, *parent.parents):
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return "/tmp"
        return str(parent)

    def _run(self, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        kwargs: dict[str, Any] = {}
        if self._owner is not None:
            kwargs = {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}
            env.update(HOME=self._owner.pw_dir, USER=self._owner.pw_name, LOGNAME=self._owner.pw_name)
        try:
            # stdin from /dev/null; pg_ctl -l sends the server's own output to the log file, so the pipes close.
            return subprocess.run(
                list(args),
                cwd=self.base,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
                **kwargs,
            )
        except subprocess.CalledProcessError as exc:
            output = (exc.stdout or "") + (exc.stderr or "")
            raise PostgresUnavailable(f"{Path(args[0]).name} exited with {exc.returncode}:\n{output.strip()}") from exc
        except subprocess.TimeoutExpired as exc:
            raise PostgresUnavailable(f"{Path(args[0]).name} did not finish within {timeout:.0f} s") from exc

    def _pg_ctl(self, *args: str) -> None:
        assert self.bindir is not None
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args], timeout=90)

    def _initdb(self) -> None:
        assert self.bindir is not None
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            timeout=120,
        )
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(_CONF.format(sockdir=self.sockdir))

    def _start_server(self) -> None:
        # The port is picked before the server binds it; on the rare clash, try another.
        for attempt in range(3):
            self.port = free_port()
            try:
                self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.logfile), "-o", f"-p {self.port}")
            except PostgresUnavailable:
                if attempt == 2 or "could not bind" not in self._log_tail():
                    raise
                continue
            self._running = True
            return

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except (OSError, AssertionError):
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"\nserver log ({self.logfile}):\n{tail}" if tail else ""


class ExternalPostgres(_Databases):
    """An already running server given by URL (``ASSIST_TEST_DATABASE_URL``); databases made here are dropped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._created = []

    def start(self) -> ExternalPostgres:
        try:
            with psycopg.connect(self.url, connect_timeout=10) as conn:
                conn.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            raise PostgresUnavailable(f"cannot connect to ASSIST_TEST_DATABASE_URL: {exc}") from exc
        return self

    def _admin_url(self) -> str:
        return self.url

    def stop(self) -> None:
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.url, autocommit=True) as conn:
            for name in self._created:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self._created.clear()
