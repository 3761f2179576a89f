"""A fleet on one machine: Redis, PostgreSQL, N assist nodes and HAProxy in front, on loopback.

    python scripts/cluster.py up --nodes 3     # make cluster NODES=3
    python scripts/cluster.py down             # make cluster-down

Prints ``entry: URL`` (HAProxy: what platforms and browsers use) and ``node N: URL`` lines, and
the tokens. Everything lives under var/cluster/ (state.json, logs); nothing is installed as a
system service. The cluster tests (tests/integration/test_cluster.py) use the same ``Cluster``.

HAProxy routes a new connection to the node with the fewest (``leastconn``) among those whose
/readyz says 200; a node that is full or behind answers 503 there and gets no new calls, while
its calls in progress carry on (websocket tunnels are never cut by a health check). When every
node is full, connections go to any live node (/healthz), which refuses the call at ``open`` in
the protocol's own terms, with a reason: a platform never sees a bare HTTP 503.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.pgserver import TempPostgres  # noqa: E402  (a throwaway PostgreSQL cluster)

STATE_DIR = REPO_ROOT / "var" / "cluster"
SECRET_KEY = "cluster-secret-key-change-me"
AUDIOHOOK_KEY = "cluster-audiohook-key"
AUDIOHOOK_SECRET = "Y2x1c3Rlci1hdWRpb2hvb2stY2xpZW50LXNlY3JldA=="  # base64, as Genesys shows it: requests are signed
HAPROXY_CONF = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    default-server inter 1s fall 1 rise 1
frontend entry
    bind 127.0.0.1:{port}
    use_backend ready if {{ nbsrv(ready) gt 0 }}
    default_backend alive
backend ready
    balance leastconn
    option httpchk GET /readyz
{ready}
backend alive
    balance leastconn
    option httpchk GET /healthz
{alive}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout_s:.0f} s")


@dataclass
class Node:
    index: int
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return f"node{self.index}"


@dataclass
class Cluster:
    nodes_count: int = 3
    state_dir: Path = STATE_DIR
    node_env: dict[str, str] = field(default_factory=dict)  # extra ASSIST_* settings for every node
    redis_port: int = 0
    entry_port: int = 0
    nodes: list[Node] = field(default_factory=list)
    postgres: TempPostgres | None = None
    redis: subprocess.Popen[bytes] | None = None
    haproxy: subprocess.Popen[bytes] | None = None

    @property
    def entry(self) -> str:
        return f"http://127.0.0.1:{self.entry_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def log(self, name: str) -> Path:
        return self.state_dir / f"{name}.log"

    # -- up -------------------------------------------------------------------------------------

    def up(self) -> Cluster:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self.postgres = TempPostgres(database="assist").start()
        self.nodes = [Node(i, free_port()) for i in range(1, self.nodes_count + 1)]
        # The first node builds the knowledge-base cache the others then read.
        self.start_node(self.nodes[0])
        for node in self.nodes[1:]:
            self.start_node(node, wait=False)
        for node in self.nodes[1:]:
            self.wait_ready(node)
        self.start_haproxy()
        return self

    def start_redis(self) -> None:
        self.redis_port = self.redis_port or free_port()
        self.redis = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", str(self.state_dir), "--protected-mode", "no"),
            ],
            stdout=self.log("redis").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: socket.create_connection(("127.0.0.1", self.redis_port), 1).close() is None, 20, "Redis")

    def stop_redis(self) -> None:
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)

    def node_environment(self, node: Node) -> dict[str, str]:
        assert self.postgres is not None
        return {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "ASSIST_NODE_ID": node.name,
            "ASSIST_REDIS_URL": self.redis_url,
            "ASSIST_DATABASE_URL": self.postgres.url,
            "ASSIST_SECRET_KEY": SECRET_KEY,  # one secret: a token works on every node
            "ASSIST_AUDIOHOOK_API_KEY": AUDIOHOOK_KEY,
            "ASSIST_AUDIOHOOK_CLIENT_SECRET": AUDIOHOOK_SECRET,
            **self.node_env,
        }

    def start_node(self, node: Node, *, wait: bool = True) -> None:
        node.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "server.py"), "--port", str(node.port), "--log-level", "info"],
            env=self.node_environment(node),
            cwd=REPO_ROOT,
            stdout=self.log(node.name).open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_ready(node)

    def wait_ready(self, node: Node, timeout_s: float = 300.0) -> None:
        def ready() -> bool:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited: {self.log(node.name).read_text()[-2000:]}")
            return httpx.get(f"{node.url}/readyz", timeout=2).status_code == 200

        wait_until(ready, timeout_s, node.name)

    def start_haproxy(self) -> None:
        self.entry_port = self.entry_port or free_port()
        conf = self.state_dir / "haproxy.cfg"
        conf.write_text(
            HAPROXY_CONF.format(
                port=self.entry_port,
                ready="\n".join(f"    server {n.name} 127.0.0.1:{n.port} check" for n in self.nodes),
                alive="\n".join(f"    server {n.name} 127.0.0.1:{n.port} check" for n in self.nodes),
            )
        )
        self.haproxy = subprocess.Popen(
            ["haproxy", "-f", str(conf), "-db"],
            stdout=self.log("haproxy").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: httpx.get(f"{self.entry}/readyz", timeout=2).status_code == 200, 30, "HAProxy")

    # -- down -----------------------------------------------------------------------------------

    def kill_node(self, node: Node, sig: int = signal.SIGKILL) -> None:
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(sig)
            node.process.wait(30)

    def down(self) -> None:
        for node in self.nodes:
            self.kill_node(node, signal.SIGTERM)
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(10)
        self.stop_redis()
        if self.postgres is not None:
            self.postgres.stop()

    # -- make cluster / make cluster-down (processes outlive this script) -----------------------

    def save(self) -> None:
        assert self.postgres is not None and self.redis is not None and self.haproxy is not None
        atexit.unregister(self.postgres.stop)  # the database outlives `make cluster`
        state = {
            "entry": self.entry,
            "nodes": [{"name": n.name, "url": n.url, "pid": n.process.pid if n.process else None} for n in self.nodes],
            "pids": [self.redis.pid, self.haproxy.pid],
            "postgres": {
                "base": str(self.postgres.base),
                "bindir": str(self.postgres.bindir),
                "url": self.postgres.url,
            },
        }
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2))

    def print(self) -> None:
        print(f"entry: {self.entry}")
        for node in self.nodes:
            print(f"{node.name.replace('node', 'node ')}: {node.url}")
        from assist.config import Settings

        settings = Settings(secret_key=SECRET_KEY)
        print(f"redis: {self.redis_url}")
        assert self.postgres is not None
        print(f"postgres: {self.postgres.url}")
        print(f"supervisor: {self.entry}/supervisor#token={settings.role_token('supervisor')}")
        print(f"sidebar (demo-agent): {self.entry}/sidebar?agent=demo-agent#token={settings.agent_token('demo-agent')}")
        audiohook = f"{self.entry.replace('http', 'ws', 1)}/audiohook"
        print(f"audiohook: {audiohook}  (X-API-KEY {AUDIOHOOK_KEY}, client secret {AUDIOHOOK_SECRET})")
        print("logs: var/cluster/*.log   stop: make cluster-down")


def down_from_state(state_dir: Path = STATE_DIR) -> None:
    path = state_dir / "state.json"
    if not path.exists():
        print("no cluster is running (var/cluster/state.json not found)")
        return
    state = json.loads(path.read_text())
    for pid in [n["pid"] for n in state["nodes"] if n["pid"]] + state["pids"]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    postgres = TempPostgres(bindir=Path(state["postgres"]["bindir"]))
    postgres.base = Path(state["postgres"]["base"])
    postgres._running = True
    if os.geteuid() == 0:
        import pwd

        postgres._owner = pwd.getpwnam("postgres")
    postgres.stop()
    path.unlink()
    print("cluster stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Redis, PostgreSQL, N nodes and HAProxy")
    up.add_argument("--nodes", type=int, default=3)
    sub.add_parser("down", help="stop what `up` started")
    args = parser.parse_args()
    if args.command == "down":
        down_from_state()
        return 0
    if (STATE_DIR / "state.json").exists():
        print("a cluster is already running: make cluster-down first", file=sys.stderr)
        return 1
    cluster = Cluster(args.nodes)
    try:
        cluster.up()
    except Exception as error:
        cluster.down()
        print(f"cluster did not start: {error}", file=sys.stderr)
        return 1
    cluster.save()
    cluster.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
