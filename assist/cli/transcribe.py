"""``python -m assist transcribe AUDIO``: stream a file through the speech core as if live.

Stereo files: channel 0 = customer, channel 1 = agent. Mono: one speaker (``--speaker``).
The audio goes through the same path as a call: resampled to the wire rate, encoded with the
wire codec, then decoded, resampled to 16 kHz, VAD, scheduler, Whisper.

``emitted_s`` is when the event was produced, in seconds since the audio started: wall clock
with ``--realtime``; otherwise the position at which the decode was triggered plus the time it
took (what a live call on an otherwise idle machine would see).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assist.audio.codec import AudioFormat
from assist.errors import AssistError
from assist.events import SPEAKERS, FinalTranscript, Speaker, TranscriptEvent
from assist.stt.filestream import load_wire_audio, stream_file
from assist.stt.transcriber import SttService, SttSettings


def register(commands: Any) -> None:
    cmd = commands.add_parser("transcribe", help="stream an audio file through the speech core")
    cmd.add_argument("audio", type=Path, help="WAV/FLAC file; stereo = customer (0) + agent (1)")
    cmd.add_argument("--realtime", action="store_true", help="pace the audio at real time")
    cmd.add_argument("--language", default="en", help="call language (en → tiny.en, else base)")
    cmd.add_argument("--jsonl", action="store_true", help="one JSON object per event")
    cmd.add_argument("--speaker", choices=SPEAKERS, default="customer", help="speaker of a mono file")
    cmd.add_argument("--codec", choices=("l16", "pcmu", "pcma"), default="l16", help="wire codec")
    cmd.add_argument("--rate", type=int, choices=(8000, 16000), default=16000, help="wire rate, Hz")
    cmd.add_argument("--chunk-ms", type=int, default=100, help="audio per wire frame")
    cmd.add_argument("--interims", action=argparse.BooleanOptionalAction, default=True)
    cmd.set_defaults(run=run)


def event_json(event: TranscriptEvent, *, words: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": event.type,
        "speaker": event.speaker,
        "start_s": event.start_s,
        "end_s": event.end_s,
        "text": event.text,
        "emitted_s": event.emitted_s,
        "utterance_id": event.utterance_id,
    }
    if isinstance(event, FinalTranscript):
        data["confidence"] = event.confidence
        if words:
            data["words"] = [asdict(w) for w in event.words]
    return data


def run(args: argparse.Namespace) -> int:
    try:
        fmt = AudioFormat(args.codec, args.rate, 1)
        audio, _ = load_wire_audio(args.audio, fmt.rate_hz)
        fmt = AudioFormat(args.codec, args.rate, audio.shape[1])
        speakers: tuple[Speaker, ...] = SPEAKERS if audio.shape[1] == 2 else (args.speaker,)
        service = SttService(SttSettings())
    except AssistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def show(event: TranscriptEvent) -> None:
        if event.type == "interim" and not args.interims:
            return
        if args.jsonl:
            print(json.dumps(event_json(event), ensure_ascii=False), flush=True)
        else:
            mark = "…" if event.type == "interim" else "✓"
            print(
                f"[{event.emitted_s:7.2f}s] {mark} {event.speaker:8} "
                f"{event.start_s:6.2f}-{event.end_s:6.2f}  {event.text}",
                flush=True,
            )

    try:
        asyncio.run(
            stream_file(
                service,
                audio,
                fmt,
                speakers,
                realtime=args.realtime,
                chunk_ms=args.chunk_ms,
                on_event=show,
                language=args.language,
            )
        )
    finally:
        service.close()
    return 0
