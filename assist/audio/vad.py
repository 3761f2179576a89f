"""Silero VAD v6 on onnxruntime: one shared session per process, one VadStream per speaker.

The ONNX graph takes (steps, 64 + 512) float32 windows and an LSTM state (h, c) of shape
(1, 1, 128); the first axis is time, so a stream feeds all its complete 32 ms windows in one
run and carries (h, c) and the last 64 samples to the next run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime

from assist.modelfiles import vad_model_path

RATE_HZ = 16_000
WINDOW_SAMPLES = 512  # 32 ms: the window Silero v6 is trained on at 16 kHz
CONTEXT_SAMPLES = 64
STATE_SHAPE = (1, 1, 128)


class SileroVad:
    """The shared model. ``InferenceSession.run`` is thread-safe, so streams may share it."""

    def __init__(self, model_path: Path | None = None) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # tiny graph: threads cost more than they save
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model_path or vad_model_path()),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )

    def stream(self) -> VadStream:
        return VadStream(self)

    def run(
        self,
        windows: npt.NDArray[np.float32],
        h: npt.NDArray[np.float32],
        c: npt.NDArray[np.float32],
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        probs, h_out, c_out = self._session.run(None, {"input": windows, "h": h, "c": c})
        return np.asarray(probs, dtype=np.float32).reshape(-1), h_out, c_out


class VadStream:
    """Speech probability for each complete 32 ms window of one speaker's 16 kHz audio."""

    def __init__(self, model: SileroVad) -> None:
        self._model = model
        self._h = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.windows_done = 0

    def process(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Feed samples; returns one probability per window completed by them."""
        audio = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        n_windows = len(audio) // WINDOW_SAMPLES
        self._pending = audio[n_windows * WINDOW_SAMPLES :]
        if n_windows == 0:
            return np.zeros(0, dtype=np.float32)
        frames = audio[: n_windows * WINDOW_SAMPLES].reshape(n_windows, WINDOW_SAMPLES)
        contexts = np.empty((n_windows, CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = frames[:-1, -CONTEXT_SAMPLES:]
        self._context = frames[-1, -CONTEXT_SAMPLES:].copy()
        windows = np.ascontiguousarray(np.concatenate([contexts, frames], axis=1))
        probs, self._h, self._c = self._model.run(windows, self._h, self._c)
        self.windows_done += n_windows
        return probs
