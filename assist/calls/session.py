"""The one place a call's stages are wired: audio → speech core → redaction → call log → hub,
with guidance on the side.

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
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from assist.audio.resample import TARGET_RATE_HZ
from assist.calllog.call import CallLog
from assist.calllog.recorder import CallRecorder
from assist.calllog.recording import Recordings
from assist.calllog.redact import Redactor, redact_words
from assist.calllog.store import StoreError
from assist.errors import AssistError
from assist.events import FinalTranscript, Speaker, TranscriptEvent
from assist.guidance.engine import GuidanceService
from assist.live.bus import LiveBus
from assist.live.hub import LiveCall, Outbox
from assist.messages import Message, transcript_message
from assist.metrics import Metrics
from assist.stt.transcriber import SttService

if TYPE_CHECKING:
    from assist.qa.scorecard_config import Scorecard

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


EarlierLegs = Callable[["CallSession"], Awaitable[Message | None]]


class CallSession:
    """One call, wired to the stages it runs through; every collaborator is passed in (the
    node's CallDesk does it for real calls, tests with fakes)."""

    def __init__(
        self,
        meta: CallMetadata,
        *,
        stt: SttService,
        live: LiveBus,
        recorder: CallRecorder,
        metrics: Metrics,
        guidance: GuidanceService | None = None,
        redactor: Redactor | None = None,
        scorecard: Scorecard | None = None,
        redact_live: bool = True,
        node_id: str = "",
        earlier_legs: EarlierLegs | None = None,
        on_ended: Callable[[CallSession], None] | None = None,
        recordings: Recordings | None = None,
    ) -> None:
        self._live_bus = live
        self._metrics = metrics
        self._scorecard = scorecard
        self._redact_live = redact_live
        self._node_id = node_id
        self._earlier_legs = earlier_legs
        self._on_ended = on_ended
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
        self._transcriber = stt.new_call(self.call_id, language=meta.language, clock=self.elapsed_s)
        self._recording = recordings.start(self.call_id) if recordings is not None else None
        # Who is calling is known before anyone speaks: the profile goes out with call_started.
        self.guidance = (
            guidance.new_call(language=self._transcriber.language, caller_number=meta.caller_number)
            if guidance is not None
            else None
        )
        if self.guidance is not None and self.guidance.profile is not None:
            self.live.caller = self.guidance.profile.summary()
        self._pump: asyncio.Task[None] | None = None
        self._feeder: asyncio.Task[None] | None = None
        # Audio and pause/resume marks in arrival order. The ingest connection only queues
        # them: its receive loop never waits behind voice detection, so pings, closes and
        # other calls' messages are answered however busy the speech core is.
        self._audio: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._ticker: asyncio.Task[None] | None = None
        self._guider: asyncio.Task[None] | None = None
        self._handover: asyncio.Task[None] | None = None
        self._guidance_queue: asyncio.Queue[tuple[Message, float]] = asyncio.Queue()  # (message, queued at)
        self.redaction = redactor.new_call() if redactor is not None else None
        self.calllog = CallLog(recorder, self.call_id)
        self.logged: list[Message] = []  # every stored event but interims: what QA reviews
        self.paused = False
        self._discarded_s: dict[str, float] = {}  # audio dropped while paused, per speaker
        self.ended = False
        self._handling = False
        # How the connection that owns the call winds it down on server shutdown (it tells its
        # client in that protocol's terms); default: end the call.
        self.on_shutdown: Callable[[], Awaitable[None]] | None = None

    def elapsed_s(self) -> float:
        """Seconds since the call started: the time axis of emitted_s."""
        return time.perf_counter() - self._started

    def start(self) -> None:
        """Open the call: in the call log, on the live bus, and its tasks (the desk admitted it)."""
        meta = self.meta
        self.calllog.start(
            {
                "id": self.call_id,
                "node_id": self._node_id,
                "platform": meta.platform,
                "platform_call_id": meta.platform_call_id,
                "caller_number": meta.caller_number,
                "agent_id": self.live.agent_id,
                "language": meta.language,
                "caller": self.live.caller,
                "started_at": self.live.started_at,
            }
        )
        started = {**self.live.summary(), "emitted_s": 0.0}
        self.calllog.event(started)  # who called whom: QA and the summary read it
        self.logged.append(started)
        self._live_bus.start_call(self.live)
        self._metrics.active_calls.labels(meta.platform).inc()
        self._metrics.calls_total.labels(meta.platform).inc()
        self._pump = asyncio.create_task(self._run(), name=f"call-{self.call_id}")
        self._feeder = asyncio.create_task(self._feed(), name=f"audio-{self.call_id}")
        self._ticker = asyncio.create_task(self._tick(), name=f"tick-{self.call_id}")
        self._handover = asyncio.create_task(self._find_earlier_legs(), name=f"handover-{self.call_id}")
        if self.guidance is not None:
            self._guider = asyncio.create_task(self._guide(), name=f"guide-{self.call_id}")
        self.log.info("call started: %s %s agent=%s", meta.platform, meta.platform_call_id, meta.agent_id)

    def subscribe(self) -> Outbox | None:
        """An outbox of this call's events, for the ingest connection to send back."""
        return self._live_bus.hub.subscribe_call(self.call_id)

    def feed(self, speaker: Speaker, samples: npt.NDArray[np.float32]) -> None:
        """Queue 16 kHz audio of one speaker; never waits."""
        if self.ended or not len(samples):
            return
        self._audio.put_nowait(("audio", (speaker, samples)))

    def pause(self) -> None:
        """The audio pauses (AudioHook ``paused``, a native ``pause``): what was said so far is
        finalised; anything that still arrives until ``resume`` is dropped. In order with audio."""
        if not self.ended:
            self._audio.put_nowait(("pause", None))

    def resume(self, discarded_s: float = 0.0) -> None:
        if not self.ended:
            self._audio.put_nowait(("resume", discarded_s))

    async def _feed(self) -> None:
        while True:
            kind, value = await self._audio.get()
            try:
                if kind == "audio":
                    speaker, samples = value
                    await self._push(speaker, samples)
                elif kind == "pause":
                    await self._pause()
                elif kind == "resume":
                    self._resume(float(value))
            except Exception:  # one bad chunk must not stop the call's audio
                self.log.exception("audio %s failed", kind)
                self._metrics.errors.labels("pipeline").inc()
            finally:
                self._audio.task_done()

    async def _push(self, speaker: Speaker, samples: npt.NDArray[np.float32]) -> None:
        if self._recording is not None:  # a paused span is kept as silence: the clock stays in step
            self._recording.write(speaker, samples, silent=self.paused)
        if self.paused:  # e.g. a card number being taken by an IVR: never transcribed or stored
            self._discarded_s[speaker] = self._discarded_s.get(speaker, 0.0) + len(samples) / TARGET_RATE_HZ
            return
        await self._transcriber.push(speaker, samples)

    async def _pause(self) -> None:
        if self.paused:
            return
        await self._transcriber.cut()
        self.paused = True
        self.publish({"type": "paused", "call_id": self.call_id, "emitted_s": round(self.elapsed_s(), 3)})

    def _resume(self, discarded_s: float) -> None:
        if not self.paused:
            return
        self.paused = False
        self.publish(
            {
                "type": "resumed",
                "call_id": self.call_id,
                "emitted_s": round(self.elapsed_s(), 3),
                "discarded_s": round(discarded_s + max(self._discarded_s.values(), default=0.0), 3),
            }
        )
        self._discarded_s.clear()

    def publish(self, message: Message) -> None:
        """To the sidebar and the call log (finals go through ``_handle``, which stores them first)."""
        self._live_bus.publish(self.call_id, message)
        self.calllog.event(message)
        if message.get("type") != "interim":
            self.logged.append(message)

    def feedback(self, card_id: str, action: str, source: str) -> Message:
        """Agent feedback on a card: kept with the live call and the call log, echoed to
        viewers, told to guidance (so a dismissed card is not offered again)."""
        check_feedback(action)
        entry: Message = {
            "type": "feedback",
            "call_id": self.call_id,
            "card_id": card_id,
            "action": action,
            "source": source,
            "at": time.time(),
            "emitted_s": round(self.elapsed_s(), 3),
        }
        self._live_bus.publish(self.call_id, entry)
        self.calllog.feedback(entry)
        self.logged.append(entry)
        if self.guidance is not None:
            self.guidance.on_feedback(card_id, action, self.elapsed_s())
        return entry

    async def end(self, reason: str) -> None:
        """Finish the call: every final still being decoded is delivered and stored first."""
        if self.ended:
            return
        self.ended = True
        try:
            await self._audio.join()  # every chunk already received is heard
            await self._transcriber.finish()
            while not self._transcriber.events.empty() or self._handling:
                await asyncio.sleep(0.01)
            if self._guider is not None:  # the last utterance's card still counts
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._guidance_queue.join(), GUIDANCE_DRAIN_S)
        finally:
            for task in (self._feeder, self._pump, self._ticker, self._guider, self._handover):
                if task is not None:
                    task.cancel()
            self._live_bus.end_call(self.call_id, reason)
            if self._on_ended is not None:
                self._on_ended(self)
            self._metrics.active_calls.labels(self.meta.platform).dec()
            self.log.info("call ended: %s", reason)
        await self._close_log(reason)

    async def _close_log(self, reason: str) -> None:
        """Score and summarise the call, and close it in the call log (after the sidebar knows)."""
        self.calllog.event(
            {"type": "call_ended", "call_id": self.call_id, "reason": reason, "emitted_s": self.elapsed_s()}
        )
        qa = summary = None
        scorecard = self._scorecard
        if scorecard is not None:
            from assist.qa.review import review

            try:
                qa, summary = await asyncio.get_running_loop().run_in_executor(
                    None, review, self.logged, scorecard, reason
                )
            except Exception:
                self.log.exception("post-call review failed")
        await self.calllog.finish(
            reason=reason, duration_s=round(self.elapsed_s(), 3), history=self.logged, qa=qa, summary=summary
        )
        if self._recording is not None:
            await self._recording.finish()

    async def _run(self) -> None:
        """Transcripts go out the moment they exist; guidance follows on its own queue, so a
        slow match can never hold back a transcript."""
        while True:
            event = await self._transcriber.events.get()
            self._handling = True
            try:
                message = await self._handle(event)
                if self.guidance is not None:
                    self._guidance_queue.put_nowait((message, time.perf_counter()))
            except Exception:  # a bug in one stage must not silence the rest of the call
                self.log.exception("handling %s failed", event.type)
                self._metrics.errors.labels("pipeline").inc()
            finally:
                self._handling = False

    async def _guide(self) -> None:
        assert self.guidance is not None
        loop = asyncio.get_running_loop()
        while True:
            message, queued_at = await self._guidance_queue.get()
            try:
                if message.get("type") == "interim" and not self._guidance_queue.empty():
                    continue  # newer words are queued: an interim that fell behind is moot
                started = time.perf_counter()
                self._metrics.stage_latency.labels("guidance_wait").observe(started - queued_at)
                for extra in await loop.run_in_executor(None, self.guidance.on_transcript, message):
                    self.publish({**extra, "call_id": self.call_id, "emitted_s": round(self.elapsed_s(), 3)})
                self._metrics.stage_latency.labels("guidance").observe(time.perf_counter() - started)
            except Exception:
                self.log.exception("guidance on %s failed", message.get("type"))
                self._metrics.errors.labels("pipeline").inc()
            finally:
                self._guidance_queue.task_done()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.guidance is not None:
                for alert in self.guidance.tick(self.elapsed_s()):
                    self.publish({**alert, "call_id": self.call_id})
            self.calllog.flush()

    async def _find_earlier_legs(self) -> None:
        """A transfer: the same conversation (or caller) seen moments ago, on another leg. The
        new agent gets a handover note, so the customer does not repeat themselves."""
        if self._earlier_legs is None:
            return
        try:
            found = await self._earlier_legs(self)
        except (StoreError, TimeoutError) as error:  # the call log is opening or away: no history
            self.log.info("no earlier legs looked up: %s", error)
            return
        except Exception:  # best effort: a call is never held up by looking for its history
            self.log.exception("looking up earlier legs failed")
            return
        if found is not None:
            self.publish({**found, "call_id": self.call_id, "emitted_s": round(self.elapsed_s(), 3)})

    async def _handle(self, event: TranscriptEvent) -> Message:
        """Redact, store (finals, before anyone sees them), publish. Returns what guidance reads."""
        message = transcript_message(self.call_id, event)
        stored = self._redacted(message)
        live = stored if self._redact_live else message
        if isinstance(event, FinalTranscript):
            metrics = self._metrics.stage_latency
            metrics.labels("endpoint").observe(max(0.0, event.timings.trigger_s - event.end_s))
            metrics.labels("queue").observe(event.timings.queued_ms / 1000)
            metrics.labels("decode").observe(event.timings.decode_ms / 1000)
            started = time.perf_counter()
            await self.calllog.final(stored)
            metrics.labels("store").observe(time.perf_counter() - started)
            if event.revision:
                self._replace_logged(stored)
            else:
                self.logged.append(stored)
                metrics.labels("final_total").observe(max(0.0, event.emitted_s - event.end_s))
            self._live_bus.publish(self.call_id, live)
        else:
            self._live_bus.publish(self.call_id, live)
            self.calllog.event(stored)
        return stored

    def _replace_logged(self, revised: Message) -> None:
        """A revised final takes the place of the one it revises in what QA reviews."""
        for index in range(len(self.logged) - 1, -1, -1):
            entry = self.logged[index]
            if (
                entry.get("type") == "final"
                and entry.get("speaker") == revised["speaker"]
                and entry.get("utterance_id") == revised["utterance_id"]
            ):
                self.logged[index] = revised
                return
        self.logged.append(revised)

    def _redacted(self, message: Message) -> Message:
        if self.redaction is None or not message.get("text"):
            return message
        speaker, text = str(message["speaker"]), str(message["text"])
        language = str(message.get("language") or self._transcriber.language)
        if message["type"] == "final":
            utterance_id = message.get("utterance_id")
            result = self.redaction.redact(
                speaker,
                text,
                language=language,
                utterance_id=int(utterance_id) if utterance_id is not None else None,
                revision=int(message.get("revision") or 0),
            )
        else:
            result = self.redaction.redact_interim(speaker, text, language=language)
        if not result.redactions:
            return message
        redacted = {**message, "text": result.text, "redactions": result.as_records()}
        if message.get("words"):
            texts = redact_words(text, [w["text"] for w in message["words"]], result)
            if " ".join("".join(texts).split()) != " ".join(result.text.split()):
                texts = ["" for _ in texts]  # words that cannot be lined up with the text: keep timings only
            redacted["words"] = [{**w, "text": t} for w, t in zip(message["words"], texts, strict=True)]
        return redacted


FEEDBACK_ACTIONS = ("used", "dismissed", "helpful", "not_helpful", "offered", "accepted", "declined")


def check_feedback(action: str) -> None:
    if action not in FEEDBACK_ACTIONS:
        raise ValueError(f"unknown feedback action {action!r}; one of {', '.join(FEEDBACK_ACTIONS)}")
