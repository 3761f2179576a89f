"""Synthetic voices for the robustness corpus: the Debian TTS engines, none of them the shared calls'.

The shared calls are spoken by piper joe (customer) and festival/flite slt (agent), and everything
in the speech path was tuned on them. These voices re-speak the same dialogue so accuracy can be
measured on voices the tuning never heard. Voices marked ``held_out`` must never be used to choose
a setting; the corpus puts their calls in a separate folder.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

RATE_HZ = 16000
PEAK_DBFS = -3.0  # normalise the raw synthesis first, so the trim threshold means the same for all engines
LEVEL_DBFS = -20.0  # RMS of the trimmed utterance: the shared calls' speech is at about -21 dBFS
MAX_PEAK_DBFS = -1.0  # a peaky utterance is scaled down rather than clipped at the speech level
TRIM_DB = -40.0  # below the peak: what counts as silence at the ends of a synthesised utterance
TRIM_PAD_S = 0.01  # kept either side of the trimmed speech, so plosive onsets survive

Engine = Literal["espeak-ng", "flite", "festival"]
Gender = Literal["female", "male"]
Float32Array = npt.NDArray[np.float32]

ENGINE_BINARIES: dict[Engine, str] = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}
ESPEAK_WPM = 160  # espeak-ng's default 175 wpm is brisk for a phone call; the other engines speak at about 160


class MissingEngineError(RuntimeError):
    """A TTS engine's binary is not installed."""


@dataclass(frozen=True)
class Voice:
    name: str  # short, used in file names
    engine: Engine
    voice_id: str  # the engine's own voice name (espeak-ng: language+variant)
    gender: Gender
    accent: str
    held_out: bool  # never used for tuning: the corpus keeps its calls apart

    @property
    def label(self) -> str:
        """``engine:voice_id``, the form the shared calls' JSON uses for voices."""
        return f"{self.engine}:{self.voice_id}"


# Three engines, three synthesis methods (formant, clustergen, diphone), so a result that holds
# across them is less likely an artefact of one vocoder. Festival and flite have no female voice
# here other than slt (the shared calls' agent), so the female voices are espeak-ng variants with
# distinct pitch (median F0: f5 208 Hz, f2 198 Hz, f1 183 Hz), formant scaling and accent. Checked
# with Whisper base on three sentences: the female variants are the hardest voices (5-40 % word
# errors); f3/f4 and the Caribbean accent were worse still and are left out. Note: "en-gb+fN"
# silently keeps the male pitch, so the British voices name a dialect ("en-gb-x-rp").
VOICES: tuple[Voice, ...] = (
    Voice("us-f5", "espeak-ng", "en-us+f5", "female", "US", held_out=False),
    Voice("rp-f2", "espeak-ng", "en-gb-x-rp+f2", "female", "British RP", held_out=False),
    Voice("nyc-m3", "espeak-ng", "en-us-nyc+m3", "male", "US New York", held_out=False),
    Voice("rms", "flite", "rms", "male", "US", held_out=False),
    Voice("kal", "festival", "kal_diphone", "male", "US", held_out=False),
    Voice("lan-f1", "espeak-ng", "en-gb-x-gbclan+f1", "female", "British Lancaster", held_out=True),
    Voice("awb", "flite", "awb", "male", "Scottish", held_out=True),
    Voice("ked", "festival", "ked_diphone", "male", "US", held_out=True),
)

VOICES_BY_NAME = {v.name: v for v in VOICES}


def voice(name: str) -> Voice:
    try:
        return VOICES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown voice {name!r}; known: {', '.join(VOICES_BY_NAME)}") from None


def engine_available(engine: Engine) -> bool:
    return shutil.which(ENGINE_BINARIES[engine]) is not None


def _command(v: Voice, text: str, out: Path) -> tuple[list[str], str | None]:
    """The engine's command line and what goes to its stdin."""
    if v.engine == "espeak-ng":
        return ["espeak-ng", "-v", v.voice_id, "-s", str(ESPEAK_WPM), "-w", str(out), text], None
    if v.engine == "flite":
        return ["flite", "-voice", v.voice_id, "-t", text, "-o", str(out)], None
    # text2wave reads the text from stdin: no quoting issues, and no temp text file to clean up
    return ["text2wave", "-eval", f"(voice_{v.voice_id})", "-o", str(out)], text


def synthesize_raw(v: Voice, text: str) -> tuple[Float32Array, int]:
    """What the engine writes, as float32 mono at its own rate."""
    binary = ENGINE_BINARIES[v.engine]
    if shutil.which(binary) is None:
        raise MissingEngineError(f"TTS engine {v.engine!r} is not installed ({binary} not on PATH); voice {v.name}")
    with tempfile.TemporaryDirectory(prefix="assist-tts-") as tmp:
        out = Path(tmp) / "out.wav"
        cmd, stdin = _command(v, text, out)
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"{v.engine} failed for voice {v.name} (rc {done.returncode}): {done.stderr.strip()[:400]}"
            )
        audio, rate = sf.read(out, dtype="float32", always_2d=True)
    return np.ascontiguousarray(audio[:, 0]), int(rate)


def trim_silence(audio: Float32Array, threshold_db: float = TRIM_DB, rate_hz: int = RATE_HZ) -> Float32Array:
    """Cut leading and trailing samples quieter than ``threshold_db`` below the peak (5 ms frames,
    so a single noisy sample does not count as speech)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0.0:
        return audio[:0]
    frame = max(1, rate_hz // 200)
    n = len(audio) // frame
    if n == 0:
        return audio
    frames_peak = np.abs(audio[: n * frame]).reshape(n, frame).max(axis=1)
    loud = np.flatnonzero(frames_peak >= peak * 10 ** (threshold_db / 20))
    pad = int(TRIM_PAD_S * rate_hz)
    start = max(0, int(loud[0]) * frame - pad)
    end = min(len(audio), (int(loud[-1]) + 1) * frame + pad)
    return audio[start:end]


def normalise_level(audio: Float32Array, level_dbfs: float = LEVEL_DBFS) -> Float32Array:
    """Scale to ``level_dbfs`` RMS, then down if the peak would pass ``MAX_PEAK_DBFS``."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms <= 0.0:
        return audio
    scale = 10 ** (level_dbfs / 20) / rms
    peak = float(np.max(np.abs(audio))) * scale
    limit = 10 ** (MAX_PEAK_DBFS / 20)
    if peak > limit:
        scale *= limit / peak
    return (audio * scale).astype(np.float32)


def synthesize(v: Voice, text: str) -> Float32Array:
    """``text`` spoken by ``v``: float32 mono at 16 kHz, silence trimmed, at a speech level of about
    -20 dBFS RMS."""
    raw, rate = synthesize_raw(v, text)
    return corpus_level(raw, rate, f"{v.engine} voice {v.name}", text)


def corpus_level(raw: Float32Array, rate_hz: int, who: str, text: str) -> Float32Array:
    """Any engine's output as the corpus uses it: 16 kHz, peak-normalised, silence trimmed, at
    the speech level."""
    if rate_hz != RATE_HZ:
        raw = soxr.resample(raw, rate_hz, RATE_HZ).astype(np.float32)
    peak = float(np.max(np.abs(raw))) if raw.size else 0.0
    if peak <= 0.0:
        raise RuntimeError(f"{who} produced silence for {text!r}")
    raw = (raw * (10 ** (PEAK_DBFS / 20) / peak)).astype(np.float32)
    return normalise_level(trim_silence(raw))
