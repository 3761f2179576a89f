"""Recordings with timed references: the shared calls (../shared/data/calls format) and clips.

A call directory holds stereo FLAC or WAV files (channel 0 customer, channel 1 agent) and, next
to each, a JSON reference with ``segments`` ({speaker, start_s, end_s, text}) and ``task_types``
(the call's intents). ``MANIFEST.json``, when present, gives the order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from assist.audio.codec import AudioFormat, decode_frame, encode_pcm
from assist.bench.scoring import RefSegment
from assist.events import SPEAKERS, Speaker

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT.parent / "shared" / "data"
CALLS_DIR = DATA / "calls"
RATE_HZ = 16000


@dataclass
class Recording:
    name: str
    audio16: np.ndarray  # (samples, channels) float32 at 16 kHz
    speakers: tuple[Speaker, ...]
    references: list[RefSegment]  # timed (calls) or one untimed segment per clip
    texts: dict[Speaker, str]  # reference text per speaker
    timed: bool
    intents: tuple[str, ...] = ()  # the call's task types: the knowledge-base intents it needs
    language: str = "en"  # what the platform says the call is in
    caller_number: str | None = None  # whose profile the server looks up before anyone speaks
    source: Path | None = None
    digest: str = ""  # SHA-256 (first 16 hex) of the audio file: the cache key of its references

    @property
    def duration_s(self) -> float:
        return len(self.audio16) / RATE_HZ

    def cut(self, max_s: float | None) -> Recording:
        """The first ``max_s`` seconds, cut where no one is speaking when possible, with the
        references that lie inside."""
        if max_s is None or max_s >= self.duration_s:
            return self
        at = cut_point(self.references, max_s)
        refs = [r for r in self.references if r.end_s <= at]
        return replace(
            self,
            audio16=self.audio16[: int(at * RATE_HZ)],
            references=refs,
            texts=texts_by_speaker(refs, self.speakers),
            digest=f"{self.digest}@{at:.2f}",
        )


def cut_point(references: list[RefSegment], max_s: float) -> float:
    """``max_s``, moved back to the start of any utterance it would cut in two (never to 0)."""
    at = max_s
    for _ in range(len(references) + 1):
        crossing = [r for r in references if r.start_s < at < r.end_s]
        if not crossing:
            return at
        earlier = min(r.start_s for r in crossing) - 0.05
        if earlier <= 1.0:
            return max(r.end_s for r in crossing) + 0.05
        at = earlier
    return at


def texts_by_speaker(refs: list[RefSegment], speakers: tuple[Speaker, ...]) -> dict[Speaker, str]:
    return {sp: " ".join(r.text for r in refs if r.speaker == sp) for sp in speakers}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _audio_for(annotation: Path) -> Path | None:
    for suffix in (".flac", ".wav"):
        candidate = annotation.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def call_files(directory: Path) -> list[tuple[Path, Path]]:
    """(audio, reference JSON) pairs of a call directory, in manifest order when there is one."""
    manifest = directory / "MANIFEST.json"
    if manifest.exists():
        entries = json.loads(manifest.read_text())["calls"]
        return [(directory / e["audio"], directory / e["annotation"]) for e in entries]
    pairs = []
    for annotation in sorted(directory.glob("*.json")):
        audio = _audio_for(annotation)
        if audio is not None:
            pairs.append((audio, annotation))
    return pairs


def load_call(audio_path: Path, annotation_path: Path) -> Recording:
    annotation = json.loads(annotation_path.read_text())
    audio, rate = sf.read(audio_path, dtype="float32", always_2d=True)
    if rate != RATE_HZ:
        audio = soxr.resample(audio, rate, RATE_HZ).astype(np.float32).reshape(-1, audio.shape[1])
    if audio.shape[1] == 1:  # a mono file: the customer only
        audio = np.concatenate([audio, np.zeros_like(audio)], axis=1)
    refs = [RefSegment(s["speaker"], s["start_s"], s["end_s"], s["text"]) for s in annotation["segments"]]
    return Recording(
        name=str(annotation.get("sid") or audio_path.stem),
        audio16=audio[:, :2],
        speakers=SPEAKERS,
        references=refs,
        texts=texts_by_speaker(refs, SPEAKERS),
        timed=True,
        intents=tuple(annotation.get("task_types") or ()),
        language=str(annotation.get("language") or "en"),
        caller_number=annotation.get("caller_number"),
        source=audio_path,
        digest=file_digest(audio_path),
    )


def load_calls(limit: int | None = None, directory: Path | None = None) -> list[Recording]:
    """The calls of ``directory`` (default ../shared/data/calls), the first ``limit`` of them."""
    return [load_call(audio, ann) for audio, ann in call_files(directory or CALLS_DIR)[:limit]]


def wire_roundtrip(audio16: np.ndarray, codec: str, rate_hz: int) -> np.ndarray:
    """What the server hears after the telephony path: resample, encode, decode, back to 16 kHz."""
    if codec == "l16" and rate_hz == RATE_HZ:
        return audio16
    fmt = AudioFormat(codec, rate_hz, audio16.shape[1])  # type: ignore[arg-type]
    wire = soxr.resample(audio16, RATE_HZ, rate_hz).astype(np.float32) if rate_hz != RATE_HZ else audio16
    decoded = decode_frame(encode_pcm(wire, fmt), fmt, max_s=None)
    return soxr.resample(decoded, rate_hz, RATE_HZ).astype(np.float32) if rate_hz != RATE_HZ else decoded
