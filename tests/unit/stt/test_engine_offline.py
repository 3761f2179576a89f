"""The offline accuracy reference: deterministic settings, and a second pass where a window loops."""

from __future__ import annotations

from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.transcribe import Segment

from assist.stt.engine import OFFLINE_LOOP_RATIO, WhisperEngine


def _segment(text: str, compression_ratio: float) -> Segment:
    return Segment(
        id=0,
        seek=0,
        start=0.0,
        end=1.0,
        text=text,
        tokens=[],
        avg_logprob=-0.3,
        compression_ratio=compression_ratio,
        no_speech_prob=0.01,
        words=None,
        temperature=0.0,
    )


class ScriptedModel(WhisperModel):
    """faster-whisper's model, answering from a script (no weights loaded)."""

    def __init__(self, plain: list[Segment], penalised: list[Segment]) -> None:  # no super(): nothing to load
        self.plain, self.penalised = plain, penalised
        self.calls: list[dict[str, Any]] = []

    def transcribe(self, audio: Any, **options: Any) -> Any:  # type: ignore[override]
        self.calls.append(options)
        return iter(self.penalised if options["repetition_penalty"] > 1.0 else self.plain), None


def _engine(model: ScriptedModel) -> WhisperEngine:
    engine = WhisperEngine.__new__(WhisperEngine)
    engine._model = model
    engine.multilingual = False
    return engine


AUDIO = np.zeros(16_000, dtype=np.float32)


def test_one_deterministic_pass_when_nothing_loops() -> None:
    model = ScriptedModel([_segment(" Hi, my name is Patricia.", 1.1), _segment(" Bye.", 0.6)], [])
    assert _engine(model).transcribe_offline(AUDIO) == "Hi, my name is Patricia. Bye."
    [options] = model.calls
    assert options["temperature"] == 0.0 and options["beam_size"] == 5  # no sampling: the same every run
    assert options["condition_on_previous_text"] is False and options["vad_filter"] is True


def test_a_looping_window_is_decoded_again_with_a_repetition_penalty() -> None:
    loop = _segment(" 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9", OFFLINE_LOOP_RATIO + 3)
    model = ScriptedModel([_segment(" My number is", 1.0), loop], [_segment(" My number is 919.", 1.2)])
    assert _engine(model).transcribe_offline(AUDIO) == "My number is 919."
    assert [c["repetition_penalty"] for c in model.calls] == [1.0, 1.2]


def test_the_second_pass_is_kept_only_if_it_loops_less() -> None:
    loop = _segment(" la la la la la la la la", OFFLINE_LOOP_RATIO + 1)
    model = ScriptedModel([loop], [_segment(" la la la la la la la la la la", OFFLINE_LOOP_RATIO + 2)])
    assert _engine(model).transcribe_offline(AUDIO) == "la la la la la la la la"
