"""The process-wide services a server is built from; server.py composes them once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assist.config import Settings
from assist.guidance.engine import GuidanceService
from assist.metrics import Metrics
from assist.stt.transcriber import SttService, SttSettings
from assist.web.hub import SidebarHub

if TYPE_CHECKING:
    from assist.calls.session import CallSession


@dataclass
class Services:
    settings: Settings
    stt: SttService
    hub: SidebarHub
    metrics: Metrics
    guidance: GuidanceService | None = None
    sessions: dict[str, CallSession] = field(default_factory=dict)
    accepting: bool = True  # False while shutting down

    @classmethod
    def create(
        cls, settings: Settings, *, stt: SttService | None = None, guidance: GuidanceService | None = None
    ) -> Services:
        """Build everything; ``stt``/``guidance`` let tests share loaded models across servers."""
        stt = stt or SttService(
            SttSettings(
                cpu_threads=settings.stt_cpu_threads,
                workers=settings.stt_workers,
                max_batch=settings.stt_max_batch,
                device=settings.stt_device,
                compute_type=settings.stt_compute_type,
                preload_multilingual=settings.preload_multilingual,
            )
        )
        services: Services
        metrics = Metrics(lambda: services.stt.scheduler)
        if guidance is None and settings.kb_dir is not None:
            guidance = GuidanceService(settings.kb_dir, settings.data_dir / "kb-cache")
        services = cls(
            settings=settings, stt=stt, hub=SidebarHub(settings.sidebar_queue_size), metrics=metrics, guidance=guidance
        )
        return services

    def close(self) -> None:
        self.stt.close()
