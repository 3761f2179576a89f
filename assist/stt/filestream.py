"""Play an audio file through the speech core as if it were a live call: the same path as a
call (wire codec → front end → VAD → scheduler → Whisper). Used by the CLI, the benchmark and
the tests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from assist.audio.codec import AudioFormat, encode_pcm
from assist.audio.frontend import CallAudio
from assist.errors import AssistError
from assist.events import Speaker
from assist.stt.transcriber import CallTranscriber, SttService


def load_wire_audio(path: Path, fmt_rate_hz: int) -> tuple[np.ndarray, int]:
    """The file as float32 (samples, channels) at the wire rate."""
    if not path.is_file():
        raise AssistError(f"no such audio file: {path}")
    try:
        audio, rate_hz = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        reason = getattr(error, "error_string", None) or str(error)
        raise AssistError(f"cannot read audio file {path}: {reason} (WAV, FLAC or OGG expected)") from error
    if audio.shape[1] > 2:
        raise AssistError(f"{path} has {audio.shape[1]} channels; expected 1 or 2")
    if rate_hz != fmt_rate_hz:
        audio = soxr.resample(audio, rate_hz, fmt_rate_hz, quality="HQ").astype(np.float32)
    return audio, rate_hz


async def stream_file(
    service: SttService,
    audio: np.ndarray,
    fmt: AudioFormat,
    speakers: tuple[Speaker, ...],
    *,
    realtime: bool,
    chunk_ms: int,
    on_event: Any,
    language: str = "en",
    call_id: str = "cli",
) -> CallTranscriber:
    """Feed wire-encoded chunks of ``audio`` through a CallTranscriber; ``on_event`` sees each event."""
    started = time.perf_counter()
    clock = (lambda: time.perf_counter() - started) if realtime else None
    call = service.new_call(call_id, language=language, clock=clock)
    front = CallAudio(fmt, speakers)
    chunk = max(1, int(fmt.rate_hz * chunk_ms / 1000))

    async def pump() -> None:
        while True:
            event = await call.events.get()
            on_event(event)

    printer = asyncio.create_task(pump())
    try:
        for index, begin in enumerate(range(0, len(audio), chunk)):
            if realtime:
                delay = started + index * chunk_ms / 1000 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            per_speaker = front.decode(encode_pcm(audio[begin : begin + chunk], fmt))
            for speaker, samples in per_speaker.items():
                await call.push(speaker, samples)
            if not realtime:
                await call.drain()
        for speaker, samples in front.flush().items():
            await call.push(speaker, samples)
        await call.finish()
        while not call.events.empty():
            await asyncio.sleep(0)
    finally:
        printer.cancel()
    return call
