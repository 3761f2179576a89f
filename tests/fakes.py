"""Fakes that subclass the real interfaces, shared by unit tests (no real models load)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from assist.knowledge.embed import Encoder, EncoderSet, Matrix
from assist.knowledge.index import tokens

DIM = 64


class HashingEncoder(Encoder):
    """Bag of BM25 terms hashed into DIM buckets, unit length; counts its calls."""

    dim = DIM

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.calls += 1
        self.texts.extend(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in tokens(text):
                if term == "<empty>":
                    continue
                bucket = int.from_bytes(hashlib.sha256(term.encode()).digest()[:4], "little") % DIM
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-9)).astype(np.float32)


class FakeEncoders(EncoderSet):
    def __init__(self) -> None:
        super().__init__()
        self.fakes = {name: HashingEncoder(name) for name in ("minilm", "use")}

    def get(self, name: str) -> Encoder:
        return self.fakes[name]

    @property
    def calls(self) -> int:
        return sum(f.calls for f in self.fakes.values())
