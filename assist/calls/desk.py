"""This node's calls: which are live, whether one more fits, and the stages each is wired to.

The desk is where a call is admitted (assist/calls/admission.py), built with its collaborators
passed explicitly (speech, live bus, call log, guidance, redaction, scoring) and registered
until it ends. Ingest endpoints, the live bus's requests and shutdown all go through it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assist.calllog.recorder import CallRecorder
from assist.calllog.recording import Recordings
from assist.calllog.redact import Redactor
from assist.calls.admission import Admission, Load
from assist.calls.handover import find_earlier_leg, transfer_live_call
from assist.calls.session import CallMetadata, CallSession, CapacityError
from assist.guidance.engine import GuidanceService
from assist.live.bus import LiveBus
from assist.messages import Message
from assist.metrics import Metrics
from assist.stt.transcriber import SttService

if TYPE_CHECKING:
    from assist.qa.scorecard_config import Scorecard

MAX_COACHING_CHARS = 280  # a line an agent reads mid-call, not a chat
log = logging.getLogger(__name__)


@dataclass
class CallDesk:
    stt: SttService
    live: LiveBus
    recorder: CallRecorder
    metrics: Metrics
    admission: Admission
    node_id: str
    guidance: GuidanceService | None = None
    redactor: Redactor | None = None
    scorecard: Scorecard | None = None
    redact_live: bool = True
    transfer_window_s: float = 1800.0
    recordings: Recordings | None = None  # call audio kept (ASSIST_RECORD_AUDIO)
    sessions: dict[str, CallSession] = field(default_factory=dict)
    accepting: bool = True  # False while shutting down

    def load(self) -> Load:
        return Load(len(self.sessions), self.stt.scheduler.final_wait_s(), self.accepting)

    def reload_knowledge(self) -> dict[str, Any]:
        """Load the knowledge base again and give the recogniser its prompts and languages.
        Blocking (encoders, perhaps a model load): run it in a thread."""
        if self.guidance is None:
            return {}
        status = self.guidance.reload()
        self.stt.use_knowledge(self.guidance.kb.speech_prompts, self.guidance.kb.languages)
        return status

    async def open(self, meta: CallMetadata) -> CallSession:
        """Admit and start a call, or raise CapacityError with the reason."""
        refusal = self.admission.refusal(self.load())
        if refusal is not None:
            self.metrics.calls_refused.labels(meta.platform).inc()
            log.info("refused a %s call (%s): %s", meta.platform, meta.platform_call_id, refusal)
            raise CapacityError(refusal)
        session = CallSession(
            meta,
            stt=self.stt,
            live=self.live,
            recorder=self.recorder,
            metrics=self.metrics,
            guidance=self.guidance,
            redactor=self.redactor,
            scorecard=self.scorecard,
            redact_live=self.redact_live,
            node_id=self.node_id,
            earlier_legs=self._earlier_legs,
            on_ended=self._ended,
            recordings=self.recordings,
        )
        self.sessions[session.call_id] = session
        session.start()
        return session

    def _ended(self, session: CallSession) -> None:
        self.sessions.pop(session.call_id, None)

    async def _earlier_legs(self, session: CallSession) -> Message | None:
        live = list(self.sessions.values())
        return await find_earlier_leg(session, live, self.recorder, self.transfer_window_s)

    def feedback(self, call_id: str, card_id: str, action: str, source: str) -> Message | None:
        """Feedback on a card of a call of this node (None: no such call here)."""
        session = self.sessions.get(call_id)
        return session.feedback(card_id, action, source) if session is not None else None

    def coach(self, call_id: str, text: str, sender: str) -> Message | None:
        """A supervisor's short message to the agent on a call of this node: shown on the
        sidebar, kept in the call log (QA sees what the agent was told)."""
        session = self.sessions.get(call_id)
        if session is None:
            return None
        message: Message = {
            "type": "coaching",
            "call_id": call_id,
            "text": text[:MAX_COACHING_CHARS],
            "from": sender,
            "at": time.time(),
            "emitted_s": round(session.elapsed_s(), 3),
        }
        session.publish(message)
        return message

    def transfer(self, call_id: str, to_agent_id: str) -> Message | None:
        session = self.sessions.get(call_id)
        return transfer_live_call(session, self.recorder, to_agent_id) if session is not None else None

    async def drain(self, grace_s: float) -> None:
        """Server shutdown: take no new calls, wind down each live call, deliver its finals."""
        self.accepting = False
        sessions = list(self.sessions.values())

        async def wind_down(session: CallSession) -> None:
            if session.on_shutdown is not None:
                await session.on_shutdown()
            await session.end("server_shutdown")

        if sessions:
            log.info("shutting down: finishing %d call(s)", len(sessions))
            await asyncio.wait([asyncio.create_task(wind_down(s)) for s in sessions], timeout=grace_s)
