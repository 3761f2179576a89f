"""Streaming resampling to 16 kHz with libsoxr (band-limited, not sample repetition)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

TARGET_RATE_HZ = 16_000  # what VAD and Whisper take


class StreamResampler:
    """Resamples one mono stream chunk by chunk; filter state carries across chunks."""

    def __init__(self, in_rate_hz: int, out_rate_hz: int = TARGET_RATE_HZ) -> None:
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self._stream = (
            None
            if in_rate_hz == out_rate_hz
            else soxr.ResampleStream(in_rate_hz, out_rate_hz, 1, dtype="float32", quality="HQ")
        )

    def process(self, samples: npt.NDArray[np.float32], *, last: bool = False) -> npt.NDArray[np.float32]:
        mono = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if self._stream is None:
            return mono
        out: npt.NDArray[np.float32] = self._stream.resample_chunk(mono, last=last)
        return out.reshape(-1)

    def flush(self) -> npt.NDArray[np.float32]:
        """The samples still inside the filter at the end of the stream."""
        return self.process(np.zeros(0, dtype=np.float32), last=True)
