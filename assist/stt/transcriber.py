"""The async layer around the speech core: one CallTranscriber per call, one SttService per process.

VAD and resampling run in a thread pool (they are cheap but not free, and the event loop must
never block); Whisper runs on the scheduler's workers. Events come out on ``events`` in the
order a listener needs: for each speaker, interims of an utterance before its final, and
never an interim after its final.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

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
from assist.stt.calibrate import Calibration, calibrate, calibrated_endpoint
from assist.stt.commit import Hypothesis, SentenceCommitter, TimedWord
from assist.stt.cpu import describe_cpu
from assist.stt.engine import (
    DEFAULT_CPU_THREADS,
    LOOP_ANOMALIES,
    DecodeItem,
    DecodeOutput,
    EngineOptions,
    WhisperEngine,
)
from assist.stt.policy import EndpointOptions
from assist.stt.priority import build_lowered, lower_this_thread
from assist.stt.scheduler import DecodeScheduler, JobKind, JobResult
from assist.stt.script import script_for, to_script
from assist.stt.stream import DecodeRequest, SpeakerStream
from assist.stt.text import normalized_words, occurrences, repeated_phrases
from assist.stt.turns import (
    WINDOW_OPTIONS,
    Clause,
    TurnCollector,
    TurnOptions,
    joined_audio,
    settled_prefix,
    words_per_clause,
    words_per_clause_by_text,
)
from assist.stt.zh_numbers import numbers_as_digits

log = logging.getLogger(__name__)

ENGLISH_MODEL = "tiny.en"
UNSPACED_LANGUAGES = frozenset({"zh", "yue", "ja", "th", "lo", "my", "bo"})  # words written without spaces
MULTILINGUAL_MODEL = "base"


def is_english(language: str) -> bool:
    """English goes to the English-only model; every other language to the multilingual one."""
    return language.lower().replace("_", "-").split("-")[0] == "en"


def _repeated_as_published(window: DecodeOutput, turn: list[Clause]) -> bool:
    """A window that says a phrase twice where the speaker's finals, each decoded from its own
    audio, have the whole phrase twice too: the speaker repeated themselves ("I would like to
    reset my password." asked again, said again), not a decoder loop. Whole phrases, not their
    first words: four Chinese characters recur in any 24 s of a customer's speech."""
    if window.anomaly != "repetition":
        return False
    published = " ".join(clause.text for clause in turn)
    phrases = repeated_phrases(window.text)
    return bool(phrases) and all(occurrences(phrase, published) >= 2 for phrase in phrases)


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
    prompts: tuple[tuple[str, str], ...] = ()  # (language, text): see EngineOptions.prompts
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)
    # Interims of utterances longer than this carry word timings, so that a sentence inside a
    # long turn becomes a final as soon as it is stable (assist/stt/commit.py); None: never.
    commit_sentences_after_s: float | None = 3.0
    # Time a few decodes at start and space interims by what this CPU can afford
    # (assist/stt/calibrate.py); False: keep endpoint.interim_interval_ms as configured.
    calibrate: bool = True
    # A final whose fast decode still looks wrong is decoded again on a longer window, after it
    # was shown, and revised in place if the text changes; False: never.
    revise_finals: bool = True
    # Languages whose turns are decoded again as a whole once the speaker stops, revising the
    # clauses' finals in place (assist/stt/turns.py): Mandarin speakers pause at commas, and a
    # clause decoded alone loses its sentence. Measured: docs/benchmarks.md, "Mandarin".
    revise_turns: tuple[str, ...] = ("zh",)
    # ... and languages where only long turns are (a sentence cut inside running speech): in
    # English that closes the long turns' gap to offline at a cost ordinary turns do not pay.
    revise_long_turns: tuple[str, ...] = ("en",)
    # ... and languages whose finals are decoded again in windows of the speaker's speech across
    # turns, as the offline decoder hears a channel (assist/stt/turns.py); these take precedence.
    # Re-voiced English calls: from 4-12 WER points behind offline to within 1 on 14 of 22 rows;
    # Mandarin held-out CER 15.1 -> 12.3 % (docs/benchmarks.md).
    revise_windows: tuple[str, ...] = ("en", "zh")
    turn_beam_size: int = 5  # turns and windows decoded again with beam search, as offline
    # Turns and windows are optional work: when this many revisions already wait for a decoder
    # (a machine at capacity), the next is not queued and its fast finals stand.
    max_revision_backlog: int = 8


class SttService:
    """Process-wide: the loaded models, the VAD session and the decode scheduler."""

    audio_pool: ThreadPoolExecutor | None = None  # voice detection; None: the loop's default pool
    closed = False  # set by close(): audio that still arrives is not decoded

    def __init__(self, settings: SttSettings | None = None) -> None:
        self.settings = settings or SttSettings()
        # numpy's OpenBLAS starts a thread per core for the feature extractor's matrix product and
        # leaves them spinning after each call: the same decodes took the same wall time and half
        # the CPU on one BLAS thread (docs/stt.md, "Threads and replicas"). Concurrency here comes
        # from calls and decode workers, never from one matrix product.
        threadpool_limits(limits=1, user_api="blas")
        # Speech threads run below the event loop's priority (assist/stt/priority.py).
        self.vad = build_lowered(SileroVad)
        self.audio_pool = ThreadPoolExecutor(
            max_workers=min(8, (os.cpu_count() or 1) + 2), thread_name_prefix="audio", initializer=lower_this_thread
        )
        self._engines: dict[str, WhisperEngine] = {}
        self.cpu = describe_cpu()
        english = self._load(self.settings.english_model)
        self.calibration: Calibration | None = None
        self.endpoint = self.settings.endpoint  # what each call's streams use
        if self.settings.calibrate and self.settings.device == "cpu":
            self.calibration = calibrate(english, self.cpu, self.settings.endpoint, self.settings.workers)
            self.endpoint = calibrated_endpoint(self.settings.endpoint, self.calibration)
            log.info("speech: %s", self.calibration)
        if self.settings.preload_multilingual:
            self._load(self.settings.multilingual_model)
        self.scheduler = build_lowered(
            lambda: DecodeScheduler(
                self._engines,
                max_batch=self.settings.max_batch,
                max_interim_age_s=self.settings.max_interim_age_s,
                workers=self.settings.workers,
            )
        )

    def _load(self, model: str) -> WhisperEngine:
        if model not in self._engines:
            s = self.settings
            options = EngineOptions(
                model=model,
                device=s.device,
                compute_type=s.compute_type,
                cpu_threads=s.cpu_threads,
                replicas=s.workers,  # each scheduler worker decodes on its own replica
                prompts=s.prompts,
                turn_beam_size=s.turn_beam_size,
            )

            def build() -> WhisperEngine:
                engine = WhisperEngine(options)
                # The first decode pays for lazy allocations (~1-2 s): pay it here, not on a caller.
                engine.decode([DecodeItem(np.zeros(16_000, dtype=np.float32), want_words=True)])
                return engine

            self._engines[model] = build_lowered(build)
        return self._engines[model]

    def describe(self) -> dict[str, object]:
        """What decodes here and how it was tuned to this CPU, for /readyz and benchmark reports."""
        s = self.settings
        return {
            "model": s.english_model,
            "models": list(self._engines),
            "device": s.device,
            "compute_type": s.compute_type,
            "cpu_threads": s.cpu_threads,
            "workers": s.workers,
            "cpu": self.cpu.as_dict(),
            "interim_interval_ms": self.endpoint.interim_interval_ms,
            "calibration": self.calibration.as_dict() if self.calibration is not None else None,
        }

    def engine(self, model: str) -> WhisperEngine:
        return self._engines[model]

    def use_knowledge(self, prompts: tuple[tuple[str, str], ...], languages: tuple[str, ...]) -> None:
        """What a knowledge base tells the recogniser: each language's prompt (now and for models
        loaded later), and its languages, whose model loads now rather than on the first call."""
        self.settings = dataclasses.replace(self.settings, prompts=prompts)
        for engine in self._engines.values():
            engine.set_prompts(prompts)
        for language in languages:
            self.model_for(language)

    def model_for(self, language: str) -> str:
        """English goes to the English-only model; every other language to the multilingual one."""
        model = self.settings.english_model if is_english(language) else self.settings.multilingual_model
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
        self.closed = True
        self.scheduler.close()
        if self.audio_pool is not None:
            self.audio_pool.shutdown(wait=False, cancel_futures=True)


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
        self._script = script_for(language)  # zh: simplified or traditional, as the call asks
        self._service = service
        self._model = service.model_for(self.language)
        self._clock = clock  # None: emitted_s = trigger + processing time (offline replay)
        endpoint = service.endpoint
        self._streams: dict[Speaker, SpeakerStream] = {
            speaker: SpeakerStream(speaker, service.vad, endpoint) for speaker in ("customer", "agent")
        }
        self.events: asyncio.Queue[TranscriptEvent] = asyncio.Queue()
        self._pending: set[asyncio.Future[JobResult] | asyncio.Future[None]] = set()
        self._finalized: dict[Speaker, int] = {"customer": -1, "agent": -1}
        self._shown_revision: dict[tuple[Speaker, int], int] = {}
        self._shown_text: dict[Speaker, str] = {}
        self._published: dict[tuple[Speaker, int], str] = {}  # finals awaiting a revision: their text
        self._committers: dict[Speaker, SentenceCommitter] = {speaker: SentenceCommitter() for speaker in self._streams}
        self._turns: dict[Speaker, TurnCollector] | None = None
        settings = service.settings
        if self.language in settings.revise_windows:
            self._turns = {speaker: TurnCollector(WINDOW_OPTIONS) for speaker in self._streams}
        elif self.language in settings.revise_turns or self.language in settings.revise_long_turns:
            turn_options = TurnOptions(long_turns_only=self.language not in settings.revise_turns)
            self._turns = {speaker: TurnCollector(turn_options) for speaker in self._streams}
        self._finals_pending: dict[Speaker, int] = {speaker: 0 for speaker in self._streams}
        # With turn revisions: finals as published, while a turn holds them or is being revised.
        self._latest: dict[tuple[Speaker, int], FinalTranscript] = {}
        self._revising: set[tuple[Speaker, int]] = set()  # clauses of turns being decoded again
        self._lock = asyncio.Lock()  # keeps each speaker's audio in order
        self.finished = False

    async def push(self, speaker: Speaker, samples: npt.NDArray[np.float32]) -> None:
        """Feed 16 kHz float32 audio of one speaker (any length)."""
        if self.finished:
            raise RuntimeError(f"call {self.call_id} is finished")
        if self._service.closed:
            return  # the process is stopping without a drain: nothing more is decoded
        loop = asyncio.get_running_loop()
        async with self._lock:
            requests = await loop.run_in_executor(self._service.audio_pool, self._process, speaker, samples)
        for request in requests:
            self._submit(request)
        if self._turns is not None:
            stream = self._streams[speaker]
            for turn in self._turns[speaker].due(stream.position_s, stream.speaking, self._finals_pending[speaker]):
                self._submit_turn(speaker, turn)
            self._forget_shown(speaker)

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
        if self._turns is not None:
            for speaker, turns in self._turns.items():
                for turn in turns.flush():
                    self._submit_turn(speaker, turn)
                self._forget_shown(speaker)
            await self.drain()

    async def drain(self) -> None:
        """Wait until every decode requested so far has been answered (or dropped)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _submit(self, request: DecodeRequest, kind: JobKind | None = None) -> None:
        kind = kind or request.kind
        long_turn = self._service.settings.commit_sentences_after_s
        item = DecodeItem(
            audio=request.audio,
            language=self.language,
            want_words=kind != "interim" or (long_turn is not None and request.end_s - request.start_s >= long_turn),
            purpose=kind,
        )
        concurrent_future = self._service.scheduler.submit(kind, (self.call_id, request.speaker), item, self._model)
        submitted = time.perf_counter()
        future = asyncio.wrap_future(concurrent_future)
        self._pending.add(future)
        if kind == "final":
            self._finals_pending[request.speaker] += 1
        future.add_done_callback(lambda f: self._on_done(f, request, kind, submitted))

    def _on_done(
        self, future: asyncio.Future[JobResult], request: DecodeRequest, kind: JobKind, submitted: float
    ) -> None:
        self._pending.discard(future)
        if kind == "final":
            self._finals_pending[request.speaker] -= 1
        if future.cancelled():
            return  # a superseded or stale interim: thinned on purpose
        error = future.exception()
        if error is not None:
            log.error("call %s: %s decode failed: %s", self.call_id, kind, error)
            return
        result = self._in_script(future.result())
        emitted_s = self._clock() if self._clock is not None else request.trigger_s + (time.perf_counter() - submitted)
        if kind == "revision":
            event: TranscriptEvent | None = self._revision(request, result, emitted_s)
        else:
            event = self._event(request, result, emitted_s)
        if event is not None:
            self.events.put_nowait(event)
            if isinstance(event, FinalTranscript):
                self._remember(request, event)
        if kind == "interim" and result.output.words and not self.finished:
            self._maybe_commit(request, result)
        elif kind == "final":
            self._committers[request.speaker].forget()
            if self._wants_revision(request, result):
                self._published[(request.speaker, request.utterance_id)] = event.text if event is not None else ""
                self._submit(request, "revision")

    def _remember(self, request: DecodeRequest, event: FinalTranscript) -> None:
        """With turn revisions: a published final, as shown, and a clause of its speaker's turn."""
        if self._turns is None:
            return
        self._latest[(event.speaker, event.utterance_id)] = event
        if event.revision == 0 and event.text:
            self._turns[event.speaker].add(
                Clause(
                    event.utterance_id,
                    request.start_s,
                    request.end_s,
                    request.audio,
                    event.text,
                    cut=request.reason == "sentence",
                )
            )

    def _forget_shown(self, speaker: Speaker) -> None:
        """Published finals that no turn holds or is revising any more: nothing will revise them
        (in English most turns are dropped, being no long turns)."""
        turns = self._turns[speaker] if self._turns is not None else None
        for key in [key for key in self._latest if key[0] == speaker and key not in self._revising]:
            if turns is None or not turns.holds(key[1]):
                del self._latest[key]

    def _submit_turn(self, speaker: Speaker, turn: list[Clause]) -> None:
        """The clauses of a turn decoded again as one piece of audio (off the latency path)."""
        if not self._service.scheduler.take_optional(self._service.settings.max_revision_backlog):
            for clause in turn:  # shed: their fast finals stand, and nothing will revise them now
                self._revising.discard((speaker, clause.utterance_id))
                self._latest.pop((speaker, clause.utterance_id), None)
            return
        self._revising.update((speaker, clause.utterance_id) for clause in turn)
        audio, boundaries, origins = joined_audio(turn)
        item = DecodeItem(audio=audio, language=self.language, want_words=True, purpose="turn")
        concurrent_future = self._service.scheduler.submit("revision", (self.call_id, speaker), item, self._model)
        future = asyncio.wrap_future(concurrent_future)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._on_turn_done(f, speaker, turn, boundaries, origins))

    def _on_turn_done(
        self,
        future: asyncio.Future[JobResult],
        speaker: Speaker,
        turn: list[Clause],
        boundaries: list[float],
        origins: list[float],
    ) -> None:
        self._pending.discard(future)
        again: list[Clause] = []
        try:
            again = self._apply_turn(future, speaker, turn, boundaries, origins)
        finally:
            for clause in turn[: len(turn) - len(again)]:
                self._revising.discard((speaker, clause.utterance_id))
                self._latest.pop((speaker, clause.utterance_id), None)
        if again and not self._service.closed:
            self._submit_turn(speaker, again)

    def _apply_turn(
        self,
        future: asyncio.Future[JobResult],
        speaker: Speaker,
        turn: list[Clause],
        boundaries: list[float],
        origins: list[float],
    ) -> list[Clause]:
        """Each clause whose words the joined decode heard differently gets a revised final.
        Returns the clauses to decode again (the decode stopped before them)."""
        if future.cancelled():
            return []
        error = future.exception()
        if error is not None:
            log.error("call %s: turn revision failed: %s", self.call_id, error)
            return []
        result = self._in_script(future.result())
        out = result.output
        if (out.anomaly in LOOP_ANOMALIES and not _repeated_as_published(out, turn)) or out.non_speech:
            return []  # a loop: the fast finals stand
        if not out.words:
            return []
        # Where the decode heard speech is told by time (a stretch it skipped or stopped before
        # leaves its clauses without words); which words each clause gets, by text.
        settled, resume = settled_prefix(words_per_clause(out.words, boundaries))
        again = turn[resume:] if resume is not None else []
        heard = words_per_clause_by_text(out.words, boundaries, [clause.text for clause in turn])
        emitted_s = self._clock() if self._clock is not None else None
        for clause, words, origin in zip(turn[:settled], heard, origins, strict=False):
            shown = self._latest.get((speaker, clause.utterance_id))
            if not words:
                continue  # a clause without words keeps what was published rather than go blank
            text = (" " if self.language not in UNSPACED_LANGUAGES else "").join(w.text.strip() for w in words).strip()
            if self._script is not None:  # again on the whole clause: word by word loses phrases (周二 → 週二)
                text = numbers_as_digits(to_script(text, self._script))
            if shown is None or shown.revision > 0 or normalized_words(text) == normalized_words(shown.text):
                continue  # unchanged, or already revised on the whole window (a loop)
            revised = dataclasses.replace(
                shown,
                text=text,
                words=tuple(
                    Word(
                        text=w.text,
                        start_s=round(min(max(clause.start_s + w.start_s - origin, shown.start_s), shown.end_s), 3),
                        end_s=round(min(max(clause.start_s + w.end_s - origin, shown.start_s), shown.end_s), 3),
                        confidence=round(w.probability, 3),
                    )
                    for w in words
                ),
                emitted_s=round(emitted_s, 3) if emitted_s is not None else shown.emitted_s,
                timings=dataclasses.replace(
                    shown.timings,
                    queued_ms=result.queued_ms,
                    decode_ms=result.decode_ms,
                    batch_size=result.batch_size,
                    padded_s=out.padded_s,
                ),
                revision=shown.revision + 1,
            )
            self.events.put_nowait(revised)
        return again

    def _in_script(self, result: JobResult) -> JobResult:
        """Chinese in the script the call asks for, numbers as digits, before anything reads the
        text. Word timings keep the numerals as said (one word per character)."""
        if self._script is None or not result.output.text:
            return result
        words = tuple(dataclasses.replace(w, text=to_script(w.text, self._script)) for w in result.output.words)
        text = numbers_as_digits(to_script(result.output.text, self._script))
        output = dataclasses.replace(result.output, text=text, words=words)
        return dataclasses.replace(result, output=output)

    def _wants_revision(self, request: DecodeRequest, result: JobResult) -> bool:
        out = result.output
        if not self._service.settings.revise_finals or out.anomaly not in LOOP_ANOMALIES or out.non_speech:
            return False
        engine = self._service.engine(self._model)
        return engine.window_s(DecodeItem(request.audio, purpose="revision")) > out.padded_s

    def _maybe_commit(self, request: DecodeRequest, result: JobResult) -> None:
        """Long turns: a sentence that ended inside the utterance becomes a final now."""
        if request.utterance_id <= self._finalized[request.speaker]:
            return
        words = tuple(
            TimedWord(w.text, request.start_s + w.start_s, request.start_s + w.end_s) for w in result.output.words
        )
        hypothesis = Hypothesis(request.utterance_id, request.start_s, request.end_s, words)
        cut = self._committers[request.speaker].observe(hypothesis)
        if cut is not None:
            task = asyncio.ensure_future(self._split(request.speaker, request.utterance_id, cut.at_s, cut.confirmed))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _split(self, speaker: Speaker, utterance_id: int, cut_s: float, confirmed: bool) -> None:
        async with self._lock:
            if self.finished:
                return
            requests = self._streams[speaker].split(utterance_id, cut_s, require_pause=not confirmed)
            for request in requests:
                self._submit(request)
        if requests:
            self._committers[speaker].forget()

    def _revision(self, request: DecodeRequest, result: JobResult, emitted_s: float) -> TranscriptEvent | None:
        """A final decoded again on a longer window: a revised final if the words changed."""
        shown = self._published.pop((request.speaker, request.utterance_id), None)
        if shown is None:
            return None
        event = self._final(request, result, emitted_s, revision=1)
        if normalized_words(event.text) == normalized_words(shown):
            return None
        return event

    @staticmethod
    def _timings(request: DecodeRequest, result: JobResult) -> SttTimings:
        return SttTimings(
            audio_end_s=request.end_s,
            trigger_s=request.trigger_s,
            queued_ms=result.queued_ms,
            decode_ms=result.decode_ms,
            batch_size=result.batch_size,
            padded_s=result.output.padded_s,
        )

    def _event(self, request: DecodeRequest, result: JobResult, emitted_s: float) -> TranscriptEvent | None:
        out = result.output
        speaker = request.speaker
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
                timings=self._timings(request, result),
            )

        self._finalized[speaker] = max(self._finalized[speaker], request.utterance_id)
        had_interim = self._shown_revision.pop((speaker, request.utterance_id), None) is not None
        self._shown_text.pop(speaker, None)
        if (out.non_speech or not out.text) and not had_interim:
            return None  # noise or silence: say nothing at all
        return self._final(request, result, emitted_s)

    def _final(self, request: DecodeRequest, result: JobResult, emitted_s: float, revision: int = 0) -> FinalTranscript:
        out = result.output
        timings = self._timings(request, result)
        text = "" if out.non_speech else out.text
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
            speaker=request.speaker,
            utterance_id=request.utterance_id,
            start_s=round(start_s, 3),
            end_s=round(end_s, 3),
            text=text,  # empty only to retract interim text that turned out to be noise
            emitted_s=round(emitted_s, 3),
            timings=timings,
            language=self.language,
            confidence=round(float(np.exp(out.avg_logprob)), 3),
            words=words,
            revision=revision,
        )
