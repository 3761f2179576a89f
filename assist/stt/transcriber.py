"""The async layer around the speech core: one CallTranscriber per call, one SttService per process.

VAD and resampling run in a thread pool (they are cheap but not free, and the event loop must
never block); Whisper runs on the scheduler's workers. Events come out on ``events`` in the
order a listener needs: for each speaker, interims of an utterance before its final, and
never an interim after its final.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from assist.audio import stages
from assist.audio.vad import SileroVad
from assist.events import (
    FinalTranscript,
    InterimTranscript,
    Speaker,
    SttTimings,
    TranscriptEvent,
    Word,
)
from assist.stt.engine import DEFAULT_CPU_THREADS, DecodeItem, EngineOptions, WhisperEngine
from assist.stt.policy import EndpointOptions
from assist.stt.scheduler import DecodeScheduler, JobResult
from assist.stt.stream import DecodeRequest, SpeakerStream

log = logging.getLogger(__name__)

ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"


@dataclass(frozen=True, slots=True)
class SttSettings:
    english_model: str = ENGLISH_MODEL
    multilingual_model: str = MULTILINGUAL_MODEL
    compute_type: str = "int8"
    device: str = "cpu"
    cpu_threads: int = DEFAULT_CPU_THREADS
    workers: int = 1
    max_batch: int = 4
    max_interim_age_s: float = 1.5
    preload_multilingual: bool = False
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)


class SttService:
    """Process-wide: the loaded models, the VAD session and the decode scheduler."""

    def __init__(self, settings: SttSettings | None = None) -> None:
        self.settings = settings or SttSettings()
        self.vad = SileroVad()
        self._engines: dict[str, WhisperEngine] = {}
        self._load(self.settings.english_model)
        if self.settings.preload_multilingual:
            self._load(self.settings.multilingual_model)
        self.scheduler = DecodeScheduler(
            self._engines,
            max_batch=self.settings.max_batch,
            max_interim_age_s=self.settings.max_interim_age_s,
            workers=self.settings.workers,
        )

    def _load(self, model: str) -> WhisperEngine:
        if model not in self._engines:
            s = self.settings
            engine = self._engines[model] = WhisperEngine(
                EngineOptions(
                    model=model,
                    device=s.device,
                    compute_type=s.compute_type,
                    cpu_threads=s.cpu_threads,
                    replicas=s.workers,  # each scheduler worker decodes on its own replica
                )
            )
            # The first decode pays for lazy allocations (~1-2 s): pay it here, not on a caller.
            engine.decode([DecodeItem(np.zeros(16_000, dtype=np.float32), want_words=True)])
        return self._engines[model]

    def describe(self) -> dict[str, str | int]:
        """What decodes here, for /readyz and benchmark reports."""
        s = self.settings
        return {
            "model": s.english_model,
            "device": s.device,
            "compute_type": s.compute_type,
            "cpu_threads": s.cpu_threads,
            "workers": s.workers,
        }

    def model_for(self, language: str) -> str:
        """English goes to the English-only model; every other language to the multilingual one."""
        english = language.lower().split("-")[0] == "en"
        model = self.settings.english_model if english else self.settings.multilingual_model
        self._load(model)  # loads lazily (once) the first time a call needs it
        return model

    def new_call(
        self,
        call_id: str,
        *,
        language: str = "en",
        clock: Callable[[], float] | None = None,
    ) -> CallTranscriber:
        return CallTranscriber(self, call_id, language=language, clock=clock)

    def close(self) -> None:
        self.scheduler.close()


class CallTranscriber:
    """Both speakers of one call. ``push`` audio in; read events from ``events``."""

    def __init__(
        self,
        service: SttService,
        call_id: str,
        *,
        language: str = "en",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.call_id = call_id
        self.language = language.lower().split("-")[0]
        self._service = service
        self._model = service.model_for(self.language)
        self._clock = clock  # None: emitted_s = trigger + processing time (offline replay)
        endpoint = service.settings.endpoint
        self._streams: dict[Speaker, SpeakerStream] = {
            speaker: SpeakerStream(speaker, service.vad, endpoint) for speaker in ("customer", "agent")
        }
        self.events: asyncio.Queue[TranscriptEvent] = asyncio.Queue()
        self._pending: set[asyncio.Future[JobResult]] = set()
        self._finalized: dict[Speaker, int] = {"customer": -1, "agent": -1}
        self._shown_revision: dict[tuple[Speaker, int], int] = {}
        self._shown_text: dict[Speaker, str] = {}
        self._lock = asyncio.Lock()  # keeps each speaker's audio in order
        self.finished = False

    async def push(self, speaker: Speaker, samples: npt.NDArray[np.float32]) -> None:
        """Feed 16 kHz float32 audio of one speaker (any length)."""
        if self.finished:
            raise RuntimeError(f"call {self.call_id} is finished")
        loop = asyncio.get_running_loop()
        async with self._lock:
            requests = await loop.run_in_executor(None, self._process, speaker, samples)
        for request in requests:
            self._submit(request)

    def _process(self, speaker: Speaker, samples: npt.NDArray[np.float32]) -> list[DecodeRequest]:
        started = time.perf_counter()
        try:
            return self._streams[speaker].process(samples)
        finally:
            stages.VAD.observe(time.perf_counter() - started)

    async def cut(self) -> None:
        """Close utterances in progress without ending the call (the audio pauses, e.g. while
        an IVR takes a card number): what was said before the pause is finalised now."""
        async with self._lock:
            for stream in self._streams.values():
                for request in stream.finish():
                    self._submit(request)

    async def finish(self) -> None:
        """End of the call: finalise whatever is still being said, then wait for every final."""
        if self.finished:
            return
        self.finished = True
        async with self._lock:
            for stream in self._streams.values():
                for request in stream.finish():
                    self._submit(request)
        await self.drain()

    async def drain(self) -> None:
        """Wait until every decode requested so far has been answered (or dropped)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _submit(self, request: DecodeRequest) -> None:
        item = DecodeItem(
            audio=request.audio,
            language=self.language,
            want_words=request.kind == "final",
            allow_fallback=request.kind == "final",
        )
        concurrent_future = self._service.scheduler.submit(
            request.kind, (self.call_id, request.speaker), item, self._model
        )
        submitted = time.perf_counter()
        future = asyncio.wrap_future(concurrent_future)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._on_done(f, request, submitted))

    def _on_done(self, future: asyncio.Future[JobResult], request: DecodeRequest, submitted: float) -> None:
        self._pending.discard(future)
        if future.cancelled():
            return  # a superseded or stale interim: thinned on purpose
        error = future.exception()
        if error is not None:
            log.error("call %s: %s decode failed: %s", self.call_id, request.kind, error)
            return
        result = future.result()
        emitted_s = self._clock() if self._clock is not None else request.trigger_s + (time.perf_counter() - submitted)
        event = self._event(request, result, emitted_s)
        if event is not None:
            self.events.put_nowait(event)

    def _event(self, request: DecodeRequest, result: JobResult, emitted_s: float) -> TranscriptEvent | None:
        out = result.output
        speaker = request.speaker
        timings = SttTimings(
            audio_end_s=request.end_s,
            trigger_s=request.trigger_s,
            queued_ms=result.queued_ms,
            decode_ms=result.decode_ms,
            batch_size=result.batch_size,
            padded_s=out.padded_s,
            fallback=out.fallback is not None,
        )
        if request.kind == "interim":
            key = (speaker, request.utterance_id)
            if request.utterance_id <= self._finalized[speaker]:
                return None
            if request.revision < self._shown_revision.get(key, -1):
                return None
            if out.non_speech or not out.text or out.text == self._shown_text.get(speaker):
                return None
            self._shown_revision[key] = request.revision
            self._shown_text[speaker] = out.text
            return InterimTranscript(
                speaker=speaker,
                utterance_id=request.utterance_id,
                start_s=round(request.start_s, 3),
                end_s=round(request.end_s, 3),
                text=out.text,
                emitted_s=round(emitted_s, 3),
                timings=timings,
            )

        self._finalized[speaker] = max(self._finalized[speaker], request.utterance_id)
        had_interim = self._shown_revision.pop((speaker, request.utterance_id), None) is not None
        self._shown_text.pop(speaker, None)
        text = "" if out.non_speech else out.text
        if not text and not had_interim:
            return None  # noise or silence: say nothing at all
        words = (
            tuple(
                Word(
                    text=w.text,
                    start_s=round(min(request.start_s + w.start_s, request.end_s), 3),
                    end_s=round(min(request.start_s + w.end_s, request.end_s), 3),
                    confidence=round(w.probability, 3),
                )
                for w in out.words
            )
            if text
            else ()
        )
        start_s = words[0].start_s if words else request.start_s
        # The VAD's end can fall inside the last word's decay; the decoder heard the post-roll.
        end_s = max(request.speech_end_s, words[-1].end_s) if words else request.speech_end_s
        return FinalTranscript(
            speaker=speaker,
            utterance_id=request.utterance_id,
            start_s=round(start_s, 3),
            end_s=round(end_s, 3),
            text=text,  # empty only to retract interim text that turned out to be noise
            emitted_s=round(emitted_s, 3),
            timings=timings,
            language=self.language,
            confidence=round(float(np.exp(out.avg_logprob)), 3),
            words=words,
        )
