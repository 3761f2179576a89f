"""Prometheus metrics, one registry per server (tests run several in one process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from assist.audio.stages import AUDIO_STAGES
from assist.calls.admission import Admission, Load
from assist.live.hub import SidebarHub
from assist.stt.scheduler import DecodeScheduler

# Fine at the bottom too: guidance and store steps take milliseconds, finals tenths of a second.
LATENCY_BUCKETS_S = (
    *(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
    *(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
)


class _HubCollector(Collector):
    def __init__(self, hub: Callable[[], SidebarHub | None]) -> None:
        self._hub = hub

    def collect(self) -> Iterator[CounterMetricFamily]:
        hub = self._hub()
        if hub is not None:
            yield CounterMetricFamily(
                "assist_sidebar_interims_coalesced",
                "Interims a slow sidebar never saw because a newer one (or the final) replaced them",
                value=hub.interims_coalesced,
            )


class _SchedulerCollector(Collector):
    def __init__(self, scheduler: Callable[[], DecodeScheduler | None]) -> None:
        self._scheduler = scheduler

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        scheduler = self._scheduler()
        if scheduler is None:
            return
        stats = scheduler.stats
        yield GaugeMetricFamily("assist_stt_queue_depth", "Decode jobs waiting", value=scheduler.depth)
        yield CounterMetricFamily(
            "assist_stt_interims_thinned", "Interim decodes skipped under load", value=stats.interims_thinned
        )
        yield CounterMetricFamily(
            "assist_stt_revisions_shed",
            "Turns and windows not decoded again because the decoders were behind",
            value=stats.revisions_shed,
        )
        yield CounterMetricFamily("assist_stt_decode_batches", "Decode batches run", value=stats.batches)
        yield CounterMetricFamily("assist_stt_decode_errors", "Decode batches that failed", value=stats.errors)


class _CapacityCollector(Collector):
    """What a load balancer or an autoscaler routes on: the calls this node would still take."""

    def __init__(self, admission: Callable[[], Admission | None], load: Callable[[], Load | None]) -> None:
        self._admission = admission
        self._load = load

    def collect(self) -> Iterator[GaugeMetricFamily]:
        admission, load = self._admission(), self._load()
        if admission is None or load is None:
            return
        yield GaugeMetricFamily("assist_capacity_calls", "Calls this node admits at most", value=admission.limit_calls)
        yield GaugeMetricFamily(
            "assist_capacity_remaining_calls", "Calls this node would still admit now", value=admission.remaining(load)
        )
        yield GaugeMetricFamily(
            "assist_stt_final_wait_seconds", "How long the oldest queued final has waited", value=load.final_wait_s
        )


class Metrics:
    def __init__(
        self,
        scheduler: Callable[[], DecodeScheduler | None],
        hub: Callable[[], SidebarHub | None],
        load: Callable[[], Load | None] = lambda: None,
        admission: Callable[[], Admission | None] = lambda: None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.active_calls = Gauge("assist_active_calls", "Calls in progress", ["platform"], registry=self.registry)
        self.calls_total = Counter("assist_calls", "Calls started", ["platform"], registry=self.registry)
        self.stage_latency = Histogram(
            "assist_stage_latency_seconds",
            "Per-stage latency of transcript events (endpoint, queue, decode, total to final)",
            ["stage"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.errors = Counter("assist_errors", "Errors by kind", ["kind"], registry=self.registry)
        for kind in ("protocol", "audiohook_auth", "pipeline", "decode"):
            self.errors.labels(kind)  # export zeros from the start, so alerts can rate() them
        self.calls_refused = Counter(
            "assist_calls_refused",
            "Calls refused at the door (capacity, backlog, shutdown)",
            ["platform"],
            registry=self.registry,
        )
        self.sidebar_overflows = Counter(
            "assist_sidebar_overflows", "Sidebar outboxes closed as too slow", registry=self.registry
        )
        self.registry.register(_SchedulerCollector(scheduler))
        self.registry.register(_HubCollector(hub))
        self.registry.register(_CapacityCollector(admission, load))
        # Process-wide: per-frame codec decode, resample and VAD times (assist.audio.stages).
        self.registry.register(AUDIO_STAGES)
        # process_cpu_seconds_total, process_resident_memory_bytes, ... of this server process.
        ProcessCollector(registry=self.registry)
