"""Telephone conditions for the robustness benchmark: band limit, line noise, packet loss, levels.

Pure functions on float32 mono 16 kHz audio, deterministic given a numpy ``Generator``. The codec
and wire rate of a ``Condition`` are only recorded here: the benchmark's wire path
(``dataset.wire_roundtrip``) encodes and decodes, so it is the same code the server's ingest meets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

RATE_HZ = 16000
BAND_HZ = (300.0, 3400.0)  # the ITU-T G.712 telephone channel
FRAME_MS = 20  # an RTP packet of G.711 audio
LOSS_BURST = 0.3  # P(next packet lost | this one lost): losses come in short bursts, not alone
PLC_STEP_DB = -6.0  # concealment fades by this much per consecutive lost packet
PLC_FADE_MS = 2.5  # crossfade at each seam of the concealment, so repeats do not click
ACTIVE_FRAME_MS = 10
ACTIVE_BELOW_DB = 30.0  # frames within this much of the loud frames count as speech (excludes pauses)

Float32Array = npt.NDArray[np.float32]


def _sos_band(rate_hz: int) -> npt.NDArray[np.float64]:
    sos: npt.NDArray[np.float64] = signal.butter(6, BAND_HZ, btype="bandpass", fs=rate_hz, output="sos")
    return sos


def telephone_band(audio: Float32Array, rate_hz: int = RATE_HZ) -> Float32Array:
    """300-3400 Hz, as a telephone channel passes it (6th-order Butterworth, zero phase so turn
    timings do not shift)."""
    if len(audio) < 64:
        return audio.copy()
    filtered: Float32Array = signal.sosfiltfilt(_sos_band(rate_hz), audio).astype(np.float32)
    return filtered


def active_power(audio: Float32Array, rate_hz: int = RATE_HZ) -> float:
    """Mean power of the frames that carry speech: those within ``ACTIVE_BELOW_DB`` of the loud
    frames (95th percentile). A call is mostly pauses; averaging over them would put the noise
    far too low against the speech the recogniser has to hear."""
    frame = rate_hz * ACTIVE_FRAME_MS // 1000
    n = len(audio) // frame
    if n == 0:
        return float(np.mean(np.square(audio, dtype=np.float64))) if audio.size else 0.0
    power = np.mean(np.square(audio[: n * frame].astype(np.float64).reshape(n, frame)), axis=1)
    loud = float(np.percentile(power, 95))
    if loud <= 0.0:
        return 0.0
    return float(np.mean(power[power >= loud * 10 ** (-ACTIVE_BELOW_DB / 10)]))


def pink_noise(n: int, rng: np.random.Generator, rate_hz: int = RATE_HZ) -> Float32Array:
    """Unit-RMS 1/f noise: more like room and line hum than white noise, which a band limit and
    Whisper's log-mel front end both make easy to ignore."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate_hz)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))  # flat below 20 Hz instead of unbounded
    noise = np.fft.irfft(spectrum, n)
    rms = float(np.sqrt(np.mean(noise**2)))
    return (noise / rms if rms > 0 else noise).astype(np.float32)


def add_noise(
    audio: Float32Array,
    snr_db: float,
    rng: np.random.Generator,
    *,
    band: bool = False,
    speech_power: float | None = None,
    rate_hz: int = RATE_HZ,
) -> Float32Array:
    """``audio`` plus pink noise ``snr_db`` below its active speech level (``speech_power`` when
    given). ``band``: the noise is band-limited like a telephone channel before it is scaled, so the
    SNR holds in the band the listener hears."""
    power = active_power(audio, rate_hz) if speech_power is None else speech_power
    noise = pink_noise(len(audio), rng, rate_hz)
    if band:
        noise = telephone_band(noise, rate_hz)
    noise_power = float(np.mean(np.square(noise, dtype=np.float64))) if noise.size else 0.0
    if power <= 0.0 or noise_power <= 0.0:
        return audio.copy()
    scale = float(np.sqrt(power / noise_power * 10 ** (-snr_db / 10)))
    noisy: Float32Array = (audio + np.float32(scale) * noise).astype(np.float32)
    return noisy


def loss_pattern(
    n_frames: int, loss_rate: float, rng: np.random.Generator, burst: float = LOSS_BURST
) -> npt.NDArray[np.bool_]:
    """Which packets are lost: a two-state (Gilbert) chain whose long-run loss rate is
    ``loss_rate``, with P(lost | previous lost) = ``burst``."""
    lost = np.zeros(n_frames, dtype=bool)
    if loss_rate <= 0.0 or n_frames == 0:
        return lost
    p_start = loss_rate * (1.0 - burst) / (1.0 - loss_rate)  # stationary: rate = p / (p + 1 - burst)
    if not 0.0 <= p_start <= 1.0:
        raise ValueError(f"loss rate {loss_rate} is out of reach with burst probability {burst}")
    draws = rng.random(n_frames)
    previous = False
    for i in range(n_frames):
        previous = bool(draws[i] < (burst if previous else p_start))
        lost[i] = previous
    return lost


def _fade(n: int) -> npt.NDArray[np.float64]:
    return (np.arange(n, dtype=np.float64) + 0.5) / n


def conceal(audio: Float32Array, lost: npt.NDArray[np.bool_], frame: int, fade: int) -> Float32Array:
    """Replace the lost frames the way a simple receiver does: repeat the last good frame, 6 dB
    quieter per consecutive loss. Seams are crossfaded over ``fade`` samples: into the repeat,
    the last good frame's tail blends into the samples that precede that frame (so the repeat
    continues smoothly; this touches ``fade`` samples before the loss, like G.711 Appendix I's
    look-ahead), and the first good frame after a loss fades in over the repeat's continuation."""
    out = audio.astype(np.float64)
    n_frames = len(lost)
    step = 10 ** (PLC_STEP_DB / 20)
    i = 0
    while i < n_frames:
        if not lost[i]:
            i += 1
            continue
        run_end = i
        while run_end < n_frames and lost[run_end]:
            run_end += 1
        start, stop = i * frame, min(run_end * frame, len(out))
        if start < frame + fade:  # nothing good to repeat yet: silence, faded from what there is
            out[start:stop] = 0.0
            if start > 0:
                out[start - min(fade, start) : start] *= 1.0 - _fade(min(fade, start))
        else:
            last = out[start - frame : start].copy()
            before = out[start - frame - fade : start - frame]
            w = _fade(fade)
            seam = (1.0 - w) * last[frame - fade :] + w * before  # last good tail -> what precedes `last`
            out[start - fade : start] = seam
            loop = np.concatenate([last[: frame - fade], seam])  # repeats without a jump at its ends
            n = stop - start
            repeats = -(-n // frame) + 1
            cont = np.tile(loop, repeats)
            # -6 dB, -12 dB, ... per lost frame, each step ramped over `fade` samples so it does not click
            steps = np.arange(repeats) * frame
            knots = np.stack([steps, steps + fade], axis=1).ravel()
            levels = np.stack([step ** np.arange(repeats), step ** np.arange(1, repeats + 1)], axis=1).ravel()
            extension = cont * np.interp(np.arange(repeats * frame), knots, levels)
            out[start:stop] = extension[:n]
            tail = min(fade, len(out) - stop)
            if tail > 0:  # the next good frame fades in over the repeat's continuation
                wt = _fade(tail)
                out[stop : stop + tail] = (1.0 - wt) * extension[n : n + tail] + wt * out[stop : stop + tail]
        i = run_end
    return out.astype(np.float32)


def packet_loss(
    audio: Float32Array, loss_rate: float, rng: np.random.Generator, frame_ms: int = FRAME_MS, rate_hz: int = RATE_HZ
) -> Float32Array:
    """Drop ``frame_ms`` packets at ``loss_rate`` (in short bursts) and conceal them."""
    frame = rate_hz * frame_ms // 1000
    n_frames = -(-len(audio) // frame)
    lost = loss_pattern(n_frames, loss_rate, rng)
    if not lost.any():
        return audio.copy()
    return conceal(audio, lost, frame, max(1, round(rate_hz * PLC_FADE_MS / 1000)))


def gain(audio: Float32Array, db: float) -> Float32Array:
    """``db`` louder (or quieter), clipped to full scale as a real line would."""
    louder: Float32Array = np.clip(audio * np.float32(10 ** (db / 20)), -1.0, 1.0).astype(np.float32)
    return louder


@dataclass(frozen=True)
class Condition:
    name: str
    codec: str  # what the wire carries: "l16" or "pcmu" (applied by the benchmark's wire path)
    rate_hz: int  # the wire's sample rate (likewise)
    band: bool  # 300-3400 Hz band limit
    snr_db: float | None  # pink line noise this far below the speech; None = none added
    loss_rate: float  # fraction of 20 ms packets lost and concealed
    gain_db: float  # level change, clipped at full scale
    description: str


CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", "l16", 16000, False, None, 0.0, 0.0, "as rendered: 16 kHz linear PCM"),
    Condition("pcmu8k", "pcmu", 8000, False, None, 0.0, 0.0, "G.711 µ-law at 8 kHz, nothing else"),
    Condition("telephone", "pcmu", 8000, True, None, 0.0, 0.0, "300-3400 Hz band + µ-law 8 kHz"),
    Condition("snr20", "pcmu", 8000, True, 20.0, 0.0, 0.0, "telephone + pink noise at 20 dB SNR on both legs"),
    Condition("snr10", "pcmu", 8000, True, 10.0, 0.0, 0.0, "telephone + pink noise at 10 dB SNR on both legs"),
    Condition("loss1", "pcmu", 8000, True, None, 0.01, 0.0, "telephone + 1 % packet loss, concealed"),
    Condition("loss3", "pcmu", 8000, True, None, 0.03, 0.0, "telephone + 3 % packet loss, concealed"),
    Condition("level_plus10", "pcmu", 8000, True, None, 0.0, 10.0, "telephone + 10 dB louder (clips)"),
    Condition("level_minus10", "pcmu", 8000, True, None, 0.0, -10.0, "telephone + 10 dB quieter"),
)

CONDITIONS_BY_NAME = {c.name: c for c in CONDITIONS}


def apply(condition: Condition, audio: Float32Array, seed: int) -> Float32Array:
    """The audio-domain part of ``condition`` on a (samples, channels) 16 kHz call, per channel:
    band limit, noise (independent on each leg: a line is noisy both ways), level, then packet loss
    (on the wire, after everything the sender's side does). Same seed, same result."""
    out = np.empty_like(audio, dtype=np.float32)
    banded = [
        telephone_band(audio[:, ch]) if condition.band else audio[:, ch].astype(np.float32)
        for ch in range(audio.shape[1])
    ]
    powers = [active_power(x) for x in banded]
    for ch, x in enumerate(banded):
        rng = np.random.default_rng([seed, ch])  # per channel, so one leg's draws do not shift the other's
        if condition.snr_db is not None:
            # against this leg's speech; a leg without speech (20 dB under the other: only the floor) gets the call's level
            power = powers[ch] if powers[ch] > max(powers) * 1e-2 else max(powers)
            x = add_noise(x, condition.snr_db, rng, band=condition.band, speech_power=power)
        if condition.gain_db:
            x = gain(x, condition.gain_db)
        if condition.loss_rate > 0.0:
            x = packet_loss(x, condition.loss_rate, rng)
        out[:, ch] = x
    return out
