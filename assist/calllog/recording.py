"""Call recordings (``ASSIST_RECORD_AUDIO``, off by default): each call's audio as the server
received it, customer left and agent right, 16 kHz 16-bit FLAC under ``data_dir/recordings/``.

Paused spans (a card number taken by an IVR) are never written: they become silence, so the
recording stays in step with the call's clock for replay. Writes are appends of raw samples on
one writer thread (ordered, never on the event loop); the FLAC is made when the call ends.
Retention deletes recordings with their calls.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import soundfile as sf

from assist.events import SPEAKERS, Speaker

log = logging.getLogger(__name__)
T = TypeVar("T")
RATE_HZ = 16000


class Recordings:
    """Where recordings live, and the one thread that writes them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # customers' voices: this user only
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recording")

    def path(self, call_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in call_id)[:200]
        return self.directory / f"{safe}.flac"

    def start(self, call_id: str) -> CallRecording:
        return CallRecording(self, self.path(call_id))

    def delete(self, call_id: str) -> None:
        self.path(call_id).unlink(missing_ok=True)

    def delete_older_than(self, before: float) -> int:
        """Retention: recordings last written before ``before`` (epoch s)."""
        deleted = 0
        for path in self.directory.glob("*.flac"):
            if path.stat().st_mtime < before:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    def submit(self, work: Callable[..., T], *args: object) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._writer, work, *args)

    def close(self) -> None:
        self._writer.shutdown(wait=True)


class CallRecording:
    """One call's audio while it is recorded: a raw file per speaker, then one FLAC."""

    def __init__(self, recordings: Recordings, path: Path) -> None:
        self.recordings = recordings
        self.path = path
        self._raw = {s: path.with_suffix(f".{s}.raw") for s in SPEAKERS}
        self._pending: list[asyncio.Future[object]] = []

    def write(self, speaker: Speaker, samples: npt.NDArray[np.float32], *, silent: bool = False) -> None:
        """Append 16 kHz audio (``silent``: as many zeros instead, for a paused span)."""
        pcm = np.zeros(len(samples), np.int16) if silent else (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self.recordings.submit(_append, self._raw[speaker], pcm.tobytes()))

    async def finish(self) -> Path | None:
        """Make the FLAC (off the loop); None when nothing was recorded."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        try:
            made = await self.recordings.submit(_combine, self._raw, self.path)
        except OSError as error:
            log.warning("recording %s not kept: %s", self.path.name, error)
            return None
        return self.path if made else None


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)


def _combine(raw: dict[Speaker, Path], path: Path) -> bool:
    channels = [np.fromfile(raw[s], dtype=np.int16) if raw[s].exists() else np.zeros(0, np.int16) for s in SPEAKERS]
    length = max(len(c) for c in channels)
    if length:
        stereo = np.zeros((length, len(channels)), np.int16)
        for i, channel in enumerate(channels):
            stereo[: len(channel), i] = channel
        partial = path.with_suffix(".partial.flac")
        sf.write(partial, stereo, RATE_HZ, subtype="PCM_16", format="FLAC")
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    for p in raw.values():
        p.unlink(missing_ok=True)
    return bool(length)
