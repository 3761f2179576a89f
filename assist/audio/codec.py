"""G.711 µ-law / A-law and 16-bit linear PCM, to and from float32 in [-1, 1).

Pure numpy: decoding is a 256-entry table lookup, so a 200 ms stereo frame costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from assist.errors import AudioFormatError, UnsupportedFormatError

Encoding = Literal["pcmu", "pcma", "l16"]
SUPPORTED_ENCODINGS: tuple[Encoding, ...] = ("pcmu", "pcma", "l16")
SUPPORTED_RATES_HZ = (8_000, 16_000)
SUPPORTED_CHANNELS = (1, 2)
MAX_FRAME_S = 2.0  # a frame longer than this is a client bug, not audio we should buffer

Float32Array = npt.NDArray[np.float32]


def _mulaw_decode_table() -> npt.NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> npt.NDArray[np.int16]:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


MULAW_TO_INT16 = _mulaw_decode_table()
ALAW_TO_INT16 = _alaw_decode_table()


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """A wire audio format. Multi-channel audio is interleaved sample by sample."""

    encoding: Encoding
    rate_hz: int
    channels: int = 1
    big_endian: bool = False  # L16 only: RTP-style network byte order

    def __post_init__(self) -> None:
        if self.encoding not in SUPPORTED_ENCODINGS:
            raise UnsupportedFormatError(
                f"unsupported audio encoding {self.encoding!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}"
            )
        if self.rate_hz not in SUPPORTED_RATES_HZ:
            raise UnsupportedFormatError(f"unsupported sample rate {self.rate_hz} Hz; supported: 8000, 16000")
        if self.channels not in SUPPORTED_CHANNELS:
            raise UnsupportedFormatError(f"unsupported channel count {self.channels}; use 1 or 2")

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "l16" else 1

    @property
    def bytes_per_frame(self) -> int:
        """Bytes for one sample instant across all channels."""
        return self.bytes_per_sample * self.channels

    def duration_s(self, n_bytes: int) -> float:
        return n_bytes / (self.bytes_per_frame * self.rate_hz)


def decode_frame(data: bytes, fmt: AudioFormat, *, max_s: float | None = MAX_FRAME_S) -> Float32Array:
    """Decode one wire frame to float32 of shape (samples, channels).

    Raises AudioFormatError for a frame whose length does not fit the format or is longer than
    ``max_s`` (None: no limit, for whole files rather than frames off the wire).
    """
    if len(data) % fmt.bytes_per_frame:
        raise AudioFormatError(
            f"frame of {len(data)} bytes is not a whole number of {fmt.channels}-channel "
            f"{fmt.encoding} samples ({fmt.bytes_per_frame} bytes each)"
        )
    if max_s is not None and fmt.duration_s(len(data)) > max_s:
        raise AudioFormatError(
            f"frame of {len(data)} bytes holds {fmt.duration_s(len(data)):.2f} s of audio; "
            f"at most {max_s:.0f} s per frame"
        )
    if fmt.encoding == "l16":
        pcm = np.frombuffer(data, dtype=">i2" if fmt.big_endian else "<i2")
    else:
        table = MULAW_TO_INT16 if fmt.encoding == "pcmu" else ALAW_TO_INT16
        pcm = table[np.frombuffer(data, dtype=np.uint8)]
    samples = pcm.astype(np.float32) / 32768.0
    return samples.reshape(-1, fmt.channels)


def _to_int16(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.int32]:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int32)


def _mulaw_encode(pcm: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    encoded: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return encoded


def _alaw_encode(pcm: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    sign = np.where(pcm >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(pcm >= 0, pcm, -pcm - 1), 32767)
    exponent = np.clip(np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 7, 0, 7)
    mantissa = np.where(exponent == 0, magnitude >> 4, (magnitude >> (exponent + 3)) & 0x0F)
    encoded: npt.NDArray[np.uint8] = ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8)
    return encoded


def encode_pcm(samples: npt.NDArray[np.floating], fmt: AudioFormat) -> bytes:
    """Encode float samples, shape (samples,) or (samples, channels), to the wire format.

    Used by clients, tests and the benchmark; the server itself only decodes.
    """
    frames = samples.reshape(-1, 1) if samples.ndim == 1 else samples
    if frames.shape[1] != fmt.channels:
        raise AudioFormatError(f"got {frames.shape[1]} channels, format has {fmt.channels}")
    pcm = _to_int16(frames.reshape(-1))
    if fmt.encoding == "l16":
        return pcm.astype(">i2" if fmt.big_endian else "<i2").tobytes()
    encoded = _mulaw_encode(pcm) if fmt.encoding == "pcmu" else _alaw_encode(pcm)
    return encoded.tobytes()
