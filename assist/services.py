"""The process-wide services a server is built from; server.py composes them once.

This is the composition root: the web layer reads what it serves from here, and each call is
wired by the ``CallDesk`` with explicit collaborators (a call never sees this object).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assist.access.gate import AccessGate
from assist.access.tokens import ROLES
from assist.calllog.recorder import CallRecorder
from assist.calllog.recording import Recordings
from assist.calllog.redact import Redactor
from assist.calllog.store import CallStore, open_store
from assist.calls.admission import Admission, Load
from assist.calls.desk import CallDesk
from assist.config import Settings
from assist.guidance.engine import GuidanceService
from assist.live.bus import LiveBus, LocalBus
from assist.live.hub import SidebarHub
from assist.metrics import Metrics
from assist.qa.disposition import Disposition, load_dispositions
from assist.retention.service import RetentionAssessor
from assist.retention.webhook import RetentionWebhook
from assist.stt.engine import default_workers
from assist.stt.transcriber import SttService, SttSettings

if TYPE_CHECKING:
    from assist.calls.session import CallSession


@dataclass
class Services:
    settings: Settings
    stt: SttService
    live: LiveBus  # this node's hub, and in a fleet the other nodes' calls
    metrics: Metrics
    recorder: CallRecorder
    desk: CallDesk  # this node's calls
    access: AccessGate  # who may see what
    guidance: GuidanceService | None = None
    dispositions: list[Disposition] = field(default_factory=list)  # wrap-up codes (after-call work)
    owns_stt: bool = True  # False: the speech service was lent (tests share one model per session)
    webhook: RetentionWebhook | None = None  # customers at risk, pushed to a CRM

    @classmethod
    def create(
        cls, settings: Settings, *, stt: SttService | None = None, guidance: GuidanceService | None = None
    ) -> Services:
        """Build everything; ``stt``/``guidance`` let tests share loaded models across servers."""
        owns_stt = stt is None
        if guidance is None and settings.kb_dir is not None:
            guidance = GuidanceService(settings.kb_dir, settings.data_dir / "kb-cache")
        kb = guidance.kb if guidance is not None else None
        stt = stt or SttService(
            SttSettings(
                english_model=settings.stt_model,
                cpu_threads=settings.stt_cpu_threads,
                workers=settings.stt_workers or default_workers(settings.stt_device, settings.stt_cpu_threads),
                max_batch=settings.stt_max_batch,
                device=settings.stt_device,
                compute_type=settings.stt_compute_type,
                preload_multilingual=settings.preload_multilingual,
                revise_turns=settings.stt_revise_turns,
                revise_long_turns=settings.stt_revise_long_turns,
                revise_windows=settings.stt_revise_windows,
                turn_beam_size=settings.stt_turn_beam_size,
            )
        )
        if kb is not None:  # its prompts, and its languages' models loaded now, never on a first call
            stt.use_knowledge(kb.speech_prompts, kb.languages)
        services: Services
        metrics = Metrics(
            lambda: services.stt.scheduler,
            lambda: services.live.hub,
            lambda: services.load(),
            lambda: services.desk.admission,
        )
        from assist.qa.review import load_scorecard, recover_open_calls

        scorecard = load_scorecard(settings.qa_scorecard)  # a broken scorecard stops the start, clearly

        def open_call_log() -> CallStore:
            store = open_store(settings.database_url, settings.data_dir)
            recover_open_calls(store, settings.node_id, scorecard)
            return store

        hub = SidebarHub(settings.sidebar_queue_size)
        live: LiveBus
        if settings.redis_url:
            from assist.live.redis_bus import RedisBus

            live = RedisBus(hub, settings.node_id, settings.redis_url)
        else:
            live = LocalBus(hub, settings.node_id)
        calibration = stt.calibration
        admission = Admission.for_node(
            settings.max_calls,
            calibration.capacity_calls_finals if calibration is not None else None,
            max_final_wait_s=settings.max_final_wait_s,
        )
        after_finish: list[Callable[[CallStore, str], object]] = [
            # A bad weights file stops the start.
            RetentionAssessor.for_knowledge_base(settings.kb_dir, guidance.intent_of if guidance is not None else None)
        ]
        webhook = None
        if settings.retention_webhook_url:
            secret = settings.retention_webhook_secret or settings.derived_secret("retention-webhook")
            webhook = RetentionWebhook(settings.retention_webhook_url, secret)
            after_finish.append(webhook)
        recorder = CallRecorder(
            open_call_log,
            registry=metrics.registry,
            final_timeout_s=settings.calllog_final_timeout_s,
            after_finish=after_finish,
        )
        desk = CallDesk(
            stt=stt,
            live=live,
            recorder=recorder,
            metrics=metrics,
            admission=admission,
            node_id=settings.node_id,
            guidance=guidance,
            redactor=Redactor(settings.redact_kinds) if settings.redact else None,
            scorecard=scorecard,
            redact_live=settings.redact_live,
            transfer_window_s=settings.transfer_window_s,
            recordings=Recordings(settings.data_dir / "recordings") if settings.record_audio else None,
        )
        access = AccessGate(
            settings.secret_key,
            {role: settings.role_token(role) for role in ROLES},
            settings.access_path,
            ticket_ttl_s=settings.ticket_ttl_s,
        )
        services = cls(
            settings=settings,
            stt=stt,
            live=live,
            metrics=metrics,
            recorder=recorder,
            desk=desk,
            access=access,
            guidance=guidance,
            dispositions=load_dispositions(settings.kb_dir),  # a broken list stops the start, clearly
            owns_stt=owns_stt,
            webhook=webhook,
        )
        return services

    @property
    def hub(self) -> SidebarHub:
        return self.live.hub

    @property
    def sessions(self) -> dict[str, CallSession]:
        return self.desk.sessions

    def load(self) -> Load:
        return self.desk.load()

    def close(self) -> None:
        if self.desk.recordings is not None:
            self.desk.recordings.close()
        self.recorder.close()
        if self.webhook is not None:
            self.webhook.close()
        if self.owns_stt:  # a lent speech service is closed by whoever lent it
            self.stt.close()
