"""A call's wire audio → one float32 16 kHz array per speaker."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from assist.audio import stages
from assist.audio.codec import AudioFormat, decode_frame
from assist.audio.resample import TARGET_RATE_HZ, StreamResampler
from assist.errors import AudioFormatError
from assist.events import Speaker


class CallAudio:
    """Decodes interleaved frames and resamples each channel, keeping filter state per channel."""

    def __init__(self, fmt: AudioFormat, speakers: Sequence[Speaker]) -> None:
        if len(speakers) != fmt.channels:
            raise AudioFormatError(f"{fmt.channels} channel(s) but {len(speakers)} speaker(s) given")
        self.format = fmt
        self.speakers = tuple(speakers)
        self._resamplers = [StreamResampler(fmt.rate_hz, TARGET_RATE_HZ) for _ in speakers]
        self.received_s = 0.0  # audio time received so far (wire clock)

    def decode(self, data: bytes) -> dict[Speaker, npt.NDArray[np.float32]]:
        started = time.perf_counter()
        frames = decode_frame(data, self.format)
        decoded = time.perf_counter()
        self.received_s += len(frames) / self.format.rate_hz
        out = {
            speaker: resampler.process(frames[:, channel])
            for channel, (speaker, resampler) in enumerate(zip(self.speakers, self._resamplers, strict=True))
        }
        stages.DECODE.observe(decoded - started)
        stages.RESAMPLE.observe(time.perf_counter() - decoded)
        return out

    def flush(self) -> dict[Speaker, npt.NDArray[np.float32]]:
        return {speaker: r.flush() for speaker, r in zip(self.speakers, self._resamplers, strict=True)}
