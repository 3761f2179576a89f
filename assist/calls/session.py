"""The one place a call's stages are wired: audio → speech core → (guidance) → hub (→ log).

Every ingest adapter (AudioHook, Twilio, native) makes one CallSession per call, pushes 16 kHz
audio per speaker into it, and ends it. What the session produces goes to the hub, which fans
it out to the agent's sidebar, supervisors, and the ingest connection itself when that
connection wants events back (the native protocol, AudioHook ``event`` messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assist.errors import AssistError
from assist.events import FinalTranscript, Speaker, TranscriptEvent
from assist.messages import Message, transcript_message
from assist.services import Services
from assist.web.hub import LiveCall, Outbox

log = logging.getLogger(__name__)
GUIDANCE_DRAIN_S = 5.0


class CapacityError(AssistError):
    """The server is at its configured maximum of simultaneous calls, or shutting down."""


@dataclass(frozen=True, slots=True)
class CallMetadata:
    platform: str  # "audiohook" | "twilio" | "native"
    platform_call_id: str  # AudioHook conversationId, Twilio callSid, native call id
    caller_number: str | None = None
    agent_id: str | None = None
    language: str = "en"


class CallSession:
    def __init__(self, services: Services, meta: CallMetadata) -> None:
        self.services = services
        self.meta = meta
        self.call_id = uuid.uuid4().hex
        self.log = logging.LoggerAdapter(log, {"call_id": self.call_id})
        self._started = time.perf_counter()
        self.live = LiveCall(
            call_id=self.call_id,
            agent_id=meta.agent_id or "unassigned",
            platform=meta.platform,
            platform_call_id=meta.platform_call_id,
            caller_number=meta.caller_number,
            language=meta.language,
        )
        self._transcriber = services.stt.new_call(self.call_id, language=meta.language, clock=self.elapsed_s)
        # Who is calling is known before anyone speaks: the profile goes out with call_started.
        self.guidance = (
            services.guidance.new_call(language=self._transcriber.language, caller_number=meta.caller_number)
            if services.guidance is not None
            else None
        )
        if self.guidance is not None and self.guidance.profile is not None:
            self.live.caller = self.guidance.profile.summary()
        self._pump: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._guider: asyncio.Task[None] | None = None
        self._guidance_queue: asyncio.Queue[Message] = asyncio.Queue()
        self.ended = False
        self._handling = False
        # How the connection that owns the call winds it down on server shutdown (it tells its
        # client in that protocol's terms); default: end the call.
        self.on_shutdown: Callable[[], Awaitable[None]] | None = None

    def elapsed_s(self) -> float:
        """Seconds since the call started: the time axis of emitted_s."""
        return time.perf_counter() - self._started

    @classmethod
    async def open(cls, services: Services, meta: CallMetadata) -> CallSession:
        if not services.accepting:
            raise CapacityError("server is shutting down")
        if len(services.sessions) >= services.settings.max_calls:
            raise CapacityError(f"server is at its limit of {services.settings.max_calls} calls")
        session = cls(services, meta)
        services.sessions[session.call_id] = session
        services.hub.start_call(session.live)
        services.metrics.active_calls.labels(meta.platform).inc()
        services.metrics.calls_total.labels(meta.platform).inc()
        session._pump = asyncio.create_task(session._run(), name=f"call-{session.call_id}")
        if session.guidance is not None:
            session._ticker = asyncio.create_task(session._tick(), name=f"tick-{session.call_id}")
            session._guider = asyncio.create_task(session._guide(), name=f"guide-{session.call_id}")
        session.log.info("call started: %s %s agent=%s", meta.platform, meta.platform_call_id, meta.agent_id)
        return session

    def subscribe(self) -> Outbox | None:
        """An outbox of this call's events, for the ingest connection to send back."""
        return self.services.hub.subscribe_call(self.call_id)

    async def push(self, speaker: Speaker, samples: npt.NDArray[np.float32]) -> None:
        if not self.ended and len(samples):
            await self._transcriber.push(speaker, samples)

    async def pause(self) -> None:
        """The platform paused the audio: finalise what was said so far."""
        await self._transcriber.cut()

    def publish(self, message: Message) -> None:
        self.services.hub.publish(self.call_id, message)

    async def end(self, reason: str) -> None:
        """Finish the call: every final still being decoded is delivered first."""
        if self.ended:
            return
        self.ended = True
        try:
            await self._transcriber.finish()
            while not self._transcriber.events.empty() or self._handling:
                await asyncio.sleep(0.01)
            if self._guider is not None:  # the last utterance's card still counts
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._guidance_queue.join(), GUIDANCE_DRAIN_S)
        finally:
            for task in (self._pump, self._ticker, self._guider):
                if task is not None:
                    task.cancel()
            self.services.hub.end_call(self.call_id, reason)
            self.services.sessions.pop(self.call_id, None)
            self.services.metrics.active_calls.labels(self.meta.platform).dec()
            self.log.info("call ended: %s", reason)

    async def _run(self) -> None:
        """Transcripts go out the moment they exist; guidance follows on its own queue, so a
        slow match can never hold back a transcript."""
        while True:
            event = await self._transcriber.events.get()
            self._handling = True
            try:
                message = self._handle(event)
                if self.guidance is not None:
                    self._guidance_queue.put_nowait(message)
            except Exception:  # a bug in one stage must not silence the rest of the call
                self.log.exception("handling %s failed", event.type)
                self.services.metrics.errors.labels("pipeline").inc()
            finally:
                self._handling = False

    async def _guide(self) -> None:
        assert self.guidance is not None
        loop = asyncio.get_running_loop()
        while True:
            message = await self._guidance_queue.get()
            try:
                if message.get("type") == "interim" and not self._guidance_queue.empty():
                    continue  # newer words are queued: an interim that fell behind is moot
                started = time.perf_counter()
                for extra in await loop.run_in_executor(None, self.guidance.on_transcript, message):
                    self.publish({**extra, "call_id": self.call_id, "emitted_s": round(self.elapsed_s(), 3)})
                self.services.metrics.stage_latency.labels("guidance").observe(time.perf_counter() - started)
            except Exception:
                self.log.exception("guidance on %s failed", message.get("type"))
                self.services.metrics.errors.labels("pipeline").inc()
            finally:
                self._guidance_queue.task_done()

    async def _tick(self) -> None:
        assert self.guidance is not None
        while True:
            await asyncio.sleep(1.0)
            for alert in self.guidance.tick(self.elapsed_s()):
                self.publish({**alert, "call_id": self.call_id})

    def _handle(self, event: TranscriptEvent) -> Message:
        message = transcript_message(self.call_id, event)
        if isinstance(event, FinalTranscript):
            metrics = self.services.metrics.stage_latency
            metrics.labels("endpoint").observe(max(0.0, event.timings.trigger_s - event.end_s))
            metrics.labels("queue").observe(event.timings.queued_ms / 1000)
            metrics.labels("decode").observe(event.timings.decode_ms / 1000)
            metrics.labels("final_total").observe(max(0.0, event.emitted_s - event.end_s))
        self.publish(message)
        return message


FEEDBACK_ACTIONS = ("used", "dismissed", "helpful", "not_helpful")


def record_feedback(services: Services, call_id: str, card_id: str, action: str, source: str) -> Message | None:
    """Agent feedback on a card: kept with the live call (and the call log), echoed to viewers."""
    if action not in FEEDBACK_ACTIONS:
        raise ValueError(f"unknown feedback action {action!r}; one of {', '.join(FEEDBACK_ACTIONS)}")
    call = services.hub.calls.get(call_id)
    if call is None:
        return None
    entry: Message = {
        "type": "feedback",
        "call_id": call_id,
        "card_id": card_id,
        "action": action,
        "source": source,
        "at": time.time(),
    }
    call.feedback.append(entry)
    services.hub.publish(call_id, entry)
    session = services.sessions.get(call_id)
    if session is not None and session.guidance is not None:
        session.guidance.on_feedback(card_id, action, session.elapsed_s())
    return entry


async def drain_sessions(services: Services, grace_s: float) -> None:
    """Server shutdown: take no new calls, wind down each live call, deliver its finals."""
    services.accepting = False
    sessions = list(services.sessions.values())

    async def wind_down(session: CallSession) -> None:
        if session.on_shutdown is not None:
            await session.on_shutdown()
        await session.end("server_shutdown")

    if sessions:
        log.info("shutting down: finishing %d call(s)", len(sessions))
        await asyncio.wait([asyncio.create_task(wind_down(s)) for s in sessions], timeout=grace_s)
