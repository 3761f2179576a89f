"""What the server spends while it is measured: CPU and RSS over time (psutil on its process,
or its own /metrics when only a URL is known) and its Prometheus counters and histograms,
scraped before and after each run so per-frame stage times come from the server itself."""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

# -- /metrics ---------------------------------------------------------------------------------

Snapshot = dict[str, float]  # 'name{label="value",...}' → value


def sample_key(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


def parse_metrics(text: str) -> Snapshot:
    out: Snapshot = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample_key(sample.name, sample.labels)] = float(sample.value)
    return out


def scrape(http: str, timeout_s: float = 5.0) -> Snapshot:
    """The server's /metrics now; empty when it cannot be read (a benchmark goes on without)."""
    try:
        response = httpx.get(f"{http}/metrics", timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError:
        return {}
    return parse_metrics(response.text)


def delta(before: Snapshot, after: Snapshot) -> Snapshot:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def total(snapshot: Snapshot, name: str) -> float:
    """Sum of every sample of ``name`` (all label values)."""
    return sum(v for k, v in snapshot.items() if k == name or k.startswith(name + "{"))


def by_label(snapshot: Snapshot, name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in snapshot.items():
        if key.startswith(name + "{") and f'{label}="' in key:
            out[key.split(f'{label}="', 1)[1].split('"', 1)[0]] = value
    return out


@dataclass(frozen=True, slots=True)
class HistogramDelta:
    buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count), +inf last
    count: float
    sum: float

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        """Prometheus' histogram_quantile: linear inside the bucket that holds the q-th sample."""
        if not self.count or not self.buckets:
            return None
        rank = q * self.count
        lower_bound, lower_count = 0.0, 0.0
        for bound, cumulative in self.buckets:
            if cumulative >= rank:
                if math.isinf(bound):
                    return lower_bound  # beyond the last finite bucket: its bound is all we know
                inside = cumulative - lower_count
                fraction = (rank - lower_count) / inside if inside else 1.0
                return lower_bound + (bound - lower_bound) * fraction
            lower_bound, lower_count = bound, cumulative
        return lower_bound


def histogram(snapshot: Snapshot, name: str, **labels: str) -> HistogramDelta:
    """The histogram ``name`` restricted to ``labels`` (typically from a ``delta``)."""
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    buckets: list[tuple[float, float]] = []
    for key, value in snapshot.items():
        if key.startswith(name + "_bucket{") and all(w in key for w in wanted):
            bound = key.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((math.inf if bound == "+Inf" else float(bound), value))
    buckets.sort()
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    suffix = f"{{{inner}}}" if inner else ""
    return HistogramDelta(
        tuple(buckets), snapshot.get(f"{name}_count{suffix}", 0.0), snapshot.get(f"{name}_sum{suffix}", 0.0)
    )


# -- CPU and memory over time -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceSample:
    wall: float  # time.time()
    server_cpu_s: float  # cumulative CPU seconds of the server process (all threads)
    server_rss_mb: float
    client_cpu_s: float  # this harness process: on a small machine it competes with the server
    gpu_util: float | None = None  # percent, first GPU (with --device cuda)
    gpu_mem_mb: float | None = None


@dataclass
class ResourceMonitor:
    """Samples the server's CPU and RSS every ``interval_s`` in a background thread."""

    pid: int | None
    http: str | None = None
    interval_s: float = 0.5
    gpu: bool = False
    samples: list[ResourceSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ResourceMonitor:
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        me = psutil.Process()
        server = psutil.Process(self.pid) if self.pid is not None else None
        while not self._stop.is_set():
            sample = self._sample(server, me)
            if sample is not None:
                if self.gpu:
                    util, memory = gpu_sample()
                    sample = replace(sample, gpu_util=util, gpu_mem_mb=memory)
                self.samples.append(sample)
            self._stop.wait(self.interval_s)

    def _sample(self, server: psutil.Process | None, me: psutil.Process) -> ResourceSample | None:
        mine = me.cpu_times()
        client_cpu = mine.user + mine.system
        if server is not None:
            try:
                with server.oneshot():
                    times, rss = server.cpu_times(), server.memory_info().rss
            except psutil.Error:
                return None
            return ResourceSample(time.time(), times.user + times.system, rss / 2**20, client_cpu)
        if self.http is None:
            return None
        snapshot = scrape(self.http, timeout_s=2.0)
        if "process_cpu_seconds_total" not in snapshot:
            return None
        return ResourceSample(
            time.time(),
            snapshot["process_cpu_seconds_total"],
            snapshot.get("process_resident_memory_bytes", 0.0) / 2**20,
            client_cpu,
        )

    def window(self, start_wall: float, end_wall: float) -> list[ResourceSample]:
        return [s for s in self.samples if start_wall <= s.wall <= end_wall]


def gpu_sample() -> tuple[float | None, float | None]:
    """Utilisation (%) and memory used (MB) of the first GPU, from nvidia-smi."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
        util, memory = (float(x) for x in out.splitlines()[0].split(","))
        return util, memory
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None, None


def usage(samples: Iterable[ResourceSample]) -> dict[str, Any]:
    """Cores busy (server and harness), RSS start/peak/end over a window of samples."""
    data = list(samples)
    if len(data) < 2:
        return {"server_cores_busy": None, "client_cores_busy": None, "rss_start_mb": None, "rss_peak_mb": None}
    wall = data[-1].wall - data[0].wall
    gpu_util = [x.gpu_util for x in data if x.gpu_util is not None]
    gpu_mem = [x.gpu_mem_mb for x in data if x.gpu_mem_mb is not None]
    return {
        "gpu_util_mean": sum(gpu_util) / len(gpu_util) if gpu_util else None,
        "gpu_mem_peak_mb": max(gpu_mem) if gpu_mem else None,
        "server_cpu_s": data[-1].server_cpu_s - data[0].server_cpu_s,
        "server_cores_busy": (data[-1].server_cpu_s - data[0].server_cpu_s) / wall if wall else None,
        "client_cores_busy": (data[-1].client_cpu_s - data[0].client_cpu_s) / wall if wall else None,
        "rss_start_mb": data[0].server_rss_mb,
        "rss_peak_mb": max(s.server_rss_mb for s in data),
        "rss_end_mb": data[-1].server_rss_mb,
        "wall_s": wall,
    }


def series(samples: list[ResourceSample], origin: float, step_s: float = 1.0) -> list[dict[str, float]]:
    """CPU (cores busy between samples) and RSS over time, thinned to about one point per step."""
    out: list[dict[str, float]] = []
    previous: ResourceSample | None = None
    for sample in samples:
        if previous is not None and sample.wall - previous.wall >= step_s:
            out.append(
                {
                    "t_s": round(sample.wall - origin, 2),
                    "server_cores": round(
                        (sample.server_cpu_s - previous.server_cpu_s) / (sample.wall - previous.wall), 3
                    ),
                    "server_rss_mb": round(sample.server_rss_mb, 1),
                    "client_cores": round(
                        (sample.client_cpu_s - previous.client_cpu_s) / (sample.wall - previous.wall), 3
                    ),
                }
            )
            previous = sample
        elif previous is None:
            previous = sample
    return out
