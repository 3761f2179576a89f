"""Loading calls and cutting them short without cutting an utterance in two."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from assist.bench.dataset import call_files, cut_point, load_calls
from assist.bench.scoring import RefSegment

REFS = [RefSegment("agent", 1.5, 3.0, "a"), RefSegment("customer", 4.0, 7.0, "b"), RefSegment("agent", 6.5, 9.0, "c")]


def test_cut_point_moves_back_out_of_utterances() -> None:
    assert cut_point(REFS, 3.5) == 3.5
    assert cut_point(REFS, 8.0) == 3.95  # inside the agent's turn, which overlaps the customer's
    assert cut_point(REFS, 2.0) == 1.45
    assert cut_point([RefSegment("agent", 0.8, 3.0, "a")], 2.0) == 3.05  # not back to 0: past the utterance


def test_a_directory_without_manifest(tmp_path: Path) -> None:
    audio = np.zeros((8000 * 4, 2), dtype=np.float32)
    sf.write(tmp_path / "c1.wav", audio, 8000)
    segments = [{"speaker": s.speaker, "start_s": s.start_s, "end_s": s.end_s, "text": s.text} for s in REFS[:2]]
    (tmp_path / "c1.json").write_text(json.dumps({"task_types": ["pay bill"], "segments": segments}))
    (tmp_path / "notes.json").write_text("{}")  # no audio next to it: not a call
    assert [a.name for a, _ in call_files(tmp_path)] == ["c1.wav"]
    (call,) = load_calls(directory=tmp_path)
    assert call.name == "c1" and call.intents == ("pay bill",) and call.audio16.shape == (16000 * 4, 2)
    assert call.texts == {"customer": "b", "agent": "a"}
    short = call.cut(3.5)
    assert short.duration_s == 3.5 and [r.text for r in short.references] == ["a"]
    assert short.digest != call.digest and call.cut(None) is call
