"""A call's wire audio → one float32 16 kHz array per speaker."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

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
        frames = decode_frame(data, self.format)
        self.received_s += len(frames) / self.format.rate_hz
        return {
            speaker: resampler.process(frames[:, channel])
            for channel, (speaker, resampler) in enumerate(zip(self.speakers, self._resamplers, strict=True))
        }

    def flush(self) -> dict[Speaker, npt.NDArray[np.float32]]:
        return {speaker: r.flush() for speaker, r in zip(self.speakers, self._resamplers, strict=True)}
