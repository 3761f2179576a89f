"""The process-wide services a server is built from; server.py composes them once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assist.calllog.recorder import CallRecorder
from assist.calllog.redact import Redactor
from assist.calllog.store import CallStore, open_store
from assist.config import Settings
from assist.guidance.engine import GuidanceService
from assist.metrics import Metrics
from assist.stt.engine import default_workers
from assist.stt.transcriber import SttService, SttSettings
from assist.web.hub import SidebarHub

if TYPE_CHECKING:
    from assist.calls.session import CallSession
    from assist.qa.scorecard import Scorecard


@dataclass
class Services:
    settings: Settings
    stt: SttService
    hub: SidebarHub
    metrics: Metrics
    recorder: CallRecorder
    guidance: GuidanceService | None = None
    redactor: Redactor | None = None
    sessions: dict[str, CallSession] = field(default_factory=dict)
    accepting: bool = True  # False while shutting down
    scorecard: Scorecard | None = None

    @classmethod
    def create(
        cls, settings: Settings, *, stt: SttService | None = None, guidance: GuidanceService | None = None
    ) -> Services:
        """Build everything; ``stt``/``guidance`` let tests share loaded models across servers."""
        stt = stt or SttService(
            SttSettings(
                english_model=settings.stt_model,
                cpu_threads=settings.stt_cpu_threads,
                workers=settings.stt_workers or default_workers(settings.stt_device, settings.stt_cpu_threads),
                max_batch=settings.stt_max_batch,
                device=settings.stt_device,
                compute_type=settings.stt_compute_type,
                preload_multilingual=settings.preload_multilingual,
            )
        )
        services: Services
        metrics = Metrics(lambda: services.stt.scheduler, lambda: services.hub)
        if guidance is None and settings.kb_dir is not None:
            guidance = GuidanceService(settings.kb_dir, settings.data_dir / "kb-cache")
        from assist.qa.review import load_scorecard, recover_open_calls

        scorecard = load_scorecard(settings.qa_scorecard)  # a broken scorecard stops the start, clearly

        def open_call_log() -> CallStore:
            store = open_store(settings.database_url, settings.data_dir)
            recover_open_calls(store, settings.node_id, scorecard)
            return store

        services = cls(
            settings=settings,
            stt=stt,
            hub=SidebarHub(settings.sidebar_queue_size),
            metrics=metrics,
            recorder=CallRecorder(
                open_call_log, registry=metrics.registry, final_timeout_s=settings.calllog_final_timeout_s
            ),
            guidance=guidance,
            redactor=Redactor(settings.redact_kinds) if settings.redact else None,
        )
        services.scorecard = scorecard
        return services

    def close(self) -> None:
        self.recorder.close()
        self.stt.close()
