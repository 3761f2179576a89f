"""Call recordings: customer left, agent right, in step; a paused span is silence; retention."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from assist.calllog.recording import RATE_HZ, Recordings


def tone(seconds: float, value: float) -> np.ndarray:
    return np.full(int(seconds * RATE_HZ), value, np.float32)


def test_a_call_becomes_one_stereo_flac_with_paused_spans_silent(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path / "recordings")

    async def call() -> Path | None:
        recording = recordings.start("call/../1")  # an odd id never escapes the folder
        recording.write("customer", tone(1.0, 0.5))
        recording.write("agent", tone(0.5, -0.25))
        recording.write("customer", tone(0.5, 0.9), silent=True)  # paused: a card number via the IVR
        recording.write("customer", tone(0.25, 0.5))
        return await recording.finish()

    path = asyncio.run(call())
    assert path is not None and path.parent == tmp_path / "recordings" and path.suffix == ".flac"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    audio, rate = sf.read(path, dtype="float32")
    assert rate == RATE_HZ and audio.shape == (int(1.75 * RATE_HZ), 2)
    customer, agent = audio[:, 0], audio[:, 1]
    assert np.allclose(customer[:RATE_HZ], 0.5, atol=1e-3)
    assert not customer[RATE_HZ : int(1.5 * RATE_HZ)].any(), "the paused span holds no audio"
    assert np.allclose(customer[int(1.5 * RATE_HZ) :], 0.5, atol=1e-3)
    assert np.allclose(agent[: RATE_HZ // 2], -0.25, atol=1e-3) and not agent[RATE_HZ // 2 :].any()
    assert not list(path.parent.glob("*.raw")), "the raw parts are gone"
    recordings.close()


def test_nothing_recorded_leaves_no_file_and_retention_deletes_old_ones(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path)
    assert asyncio.run(recordings.start("silent").finish()) is None
    old, new = recordings.path("old"), recordings.path("new")
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    os.utime(old, (time.time() - 10 * 86400, time.time() - 10 * 86400))
    assert recordings.delete_older_than(time.time() - 86400) == 1
    assert not old.exists() and new.exists()
    recordings.delete("new")
    assert not new.exists()
    recordings.close()
