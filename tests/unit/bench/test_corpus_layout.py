"""The robustness corpus: turn layout, voice plans, long-turn texts, the written folders, and the
TTS engines themselves."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assist.bench import corpus
from assist.bench.corpus import (
    GAP_MAX_S,
    OVERLAP_MAX_S,
    SAME_SPEAKER_GAP_MIN_S,
    Turn,
    layout_monologue,
    layout_turns,
    parse_long_turns,
    plan_calls,
    voice_pairs,
)
from assist.bench.dataset import load_calls
from assist.bench.voices import ENGINE_BINARIES, RATE_HZ, VOICES, Voice, engine_available, synthesize, voice

REPO_ROOT = Path(__file__).resolve().parents[3]
EPS = 1e-9


def check_layout(durations: list[float], originals: list[Turn], placed: list[tuple[float, float]]) -> None:
    assert len(placed) == len(originals)
    for dur, (start, end) in zip(durations, placed, strict=True):
        assert end - start == pytest.approx(dur)
    starts = [s for s, _ in placed]
    assert starts == sorted(starts)  # the reference order holds
    for i, j in itertools.combinations(range(len(placed)), 2):
        (s1, e1), (s2, e2) = placed[i], placed[j]
        overlap = min(e1, e2) - max(s1, s2)
        if originals[i].speaker == originals[j].speaker:
            assert overlap <= -SAME_SPEAKER_GAP_MIN_S + EPS  # a speaker's turns stay apart
        else:
            assert overlap <= OVERLAP_MAX_S + EPS
    for k in range(1, len(placed)):
        assert placed[k][0] - max(e for _, e in placed[:k]) <= GAP_MAX_S + EPS


def test_layout_keeps_original_gaps_within_the_limits() -> None:
    originals = [
        Turn("agent", 3.7, 6.3),
        Turn("agent", 6.9, 8.2),  # 0.6 s, same speaker: kept
        Turn("customer", 13.2, 13.5),  # 5 s: clamped to 2 s
        Turn("customer", 13.55, 15.0),  # 0.05 s, same speaker: raised to 0.15 s
        Turn("agent", 14.0, 16.0),  # 1 s overlap: cut to 0.5 s
        Turn("customer", 16.3, 17.0),  # 0.3 s after the agent: kept
    ]
    durations = [2.0, 1.0, 0.5, 1.5, 2.5, 1.0]
    placed = layout_turns(durations, originals)
    check_layout(durations, originals, placed)
    starts = [round(s, 6) for s, _ in placed]
    assert starts == [2.0, 4.6, 7.6, 8.25, 9.25, 12.05]  # lead-in clamped to 2 s


def test_layout_a_short_turn_overlapped_keeps_order_and_the_speakers_own_gap() -> None:
    originals = [Turn("customer", 1.0, 5.0), Turn("agent", 4.2, 4.5), Turn("customer", 4.55, 6.0)]
    durations = [4.0, 0.2, 1.0]
    placed = layout_turns(durations, originals)
    check_layout(durations, originals, placed)
    assert placed[1][0] == pytest.approx(4.5)  # 0.5 s before the customer ends, not 0.8
    assert placed[2][0] == pytest.approx(5.15)  # after the customer's own turn, not just the agent's
    short = [Turn("agent", 1.0, 1.2), Turn("customer", 0.7, 2.0)]
    assert layout_turns([0.2, 1.0], short)[1][0] == pytest.approx(1.0)  # never before the turn it follows


def test_layout_random_dialogues() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        originals, at = [], float(rng.uniform(0, 5))
        for _ in range(n):
            start = at + float(rng.uniform(-1.5, 4.0))
            end = start + float(rng.uniform(0.2, 6.0))
            originals.append(Turn(str(rng.choice(["customer", "agent"])), start, end))
            at = end
        durations = [float(d) for d in rng.uniform(0.1, 8.0, n)]
        check_layout(durations, originals, layout_turns(durations, originals))
    with pytest.raises(ValueError):
        layout_turns([1.0], [])


def test_voice_table() -> None:
    names = [v.name for v in VOICES]
    assert len(VOICES) >= 7 and len(set(names)) == len(names)
    assert sum(v.gender == "female" for v in VOICES) >= 3 and sum(v.gender == "male" for v in VOICES) >= 3
    assert 2 <= sum(v.held_out for v in VOICES) <= 3
    assert {v.engine for v in VOICES} == {"espeak-ng", "flite", "festival"}
    manifest = REPO_ROOT.parent / "shared" / "data" / "calls" / "MANIFEST.json"
    shared = set(json.loads(manifest.read_text())["voices"].values()) if manifest.exists() else set()
    for v in VOICES:  # none of the voices everything was tuned on
        assert v.label not in shared and "slt" not in v.voice_id and "joe" not in v.voice_id


@pytest.mark.parametrize("n", range(2, 8))
def test_voice_pairs_cover_each_pair_once(n: int) -> None:
    voices = [Voice(f"v{i}", "flite", "x", "male", "", False) for i in range(n)]
    pairs = voice_pairs(voices)
    assert all(a != b for a, b in pairs)
    assert sorted(tuple(sorted((a.name, b.name))) for a, b in pairs) == sorted(
        tuple(sorted((a.name, b.name))) for a, b in itertools.combinations(voices, 2)
    )


def test_plan_calls_rotates_voices_and_keeps_held_out_apart() -> None:
    plans = plan_calls(25, VOICES, per_pair=3)
    tuning = [v for v in VOICES if not v.held_out]
    held = [v for v in VOICES if v.held_out]
    assert len(plans) == 3 * (len(voice_pairs(tuning)) + len(voice_pairs(held)))
    for plan in plans:
        assert plan.customer != plan.agent
        assert plan.customer.held_out == plan.agent.held_out == plan.held_out  # no mixed pairs
    for v in VOICES:  # every voice speaks both roles
        assert any(p.customer == v for p in plans) and any(p.agent == v for p in plans)
    by_pair: dict[frozenset[str], list[int]] = {}
    for p in plans:
        by_pair.setdefault(frozenset((p.customer.name, p.agent.name)), []).append(p.source_index)
    assert all(len(set(calls)) == 3 for calls in by_pair.values())  # a pair hears different dialogues
    assert len({frozenset(calls) for calls in by_pair.values()}) == len(by_pair)
    assert all(0 <= p.source_index < 25 for p in plans)
    assert all(0 <= p.source_index < 2 for p in plan_calls(2, VOICES, per_pair=2))


def test_long_turn_texts() -> None:
    monologues = parse_long_turns(corpus.LONG_TURNS_FILE.read_text())
    assert len(monologues) >= 6 and len({m.id for m in monologues}) == len(monologues)
    kb_intents = {
        line.split(":", 1)[1].strip()
        for path in (REPO_ROOT / "kb").glob("*/articles/*.md")
        for line in path.read_text().splitlines()
        if line.startswith("intent:")
    }
    for m in monologues:
        assert 6 <= len(m.sentences) <= 10, m.id
        assert m.domain in ("bank", "telecom")
        if kb_intents:
            assert m.intent in kb_intents, m.intent
        for s in m.sentences:
            assert re.fullmatch(r"[a-z' ]+", s), s  # lower case, numbers spelled out, no punctuation
    with pytest.raises(ValueError):
        parse_long_turns("a sentence before any header\n")


def test_monologue_pauses_stay_under_the_endpointer_silence() -> None:
    placed = layout_monologue([3.0] * 9, np.random.default_rng(0))
    pauses = [b[0] - a[1] for a, b in itertools.pairwise(placed)]
    assert all(corpus.LONG_PAUSE_S[0] <= p <= corpus.LONG_PAUSE_S[1] for p in pauses)


def fake_synthesize(v: Voice, text: str) -> np.ndarray:
    """A tone per word, pitched by voice: no TTS needed to test the corpus's bookkeeping."""
    t = np.arange(int(0.25 * RATE_HZ * len(text.split()))) / RATE_HZ
    return (0.1 * np.sin(2 * np.pi * (100 + 10 * len(v.name)) * t)).astype(np.float32)


def write_source_call(directory: Path, sid: str) -> None:
    segments = [
        {"speaker": "agent", "start_s": 1.0, "end_s": 2.5, "text": "how can i help"},
        {"speaker": "customer", "start_s": 3.0, "end_s": 5.0, "text": "i lost my card"},
        {"speaker": "agent", "start_s": 4.8, "end_s": 6.0, "text": "sorry to hear that"},
    ]
    (directory / f"{sid}.json").write_text(
        json.dumps({"sid": sid, "task_types": ["replace card"], "segments": segments})
    )
    sf.write(directory / f"{sid}.flac", np.zeros((RATE_HZ * 7, 2), dtype=np.float32), RATE_HZ)


def test_build_writes_loadable_folders_and_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "synthesize", fake_synthesize)
    source = tmp_path / "source"
    source.mkdir()
    for sid in ("c1", "c2"):
        write_source_call(source, sid)
    voices = [v for v in VOICES if v.name in ("us-f5", "rms", "kal", "awb", "ked")]
    out = tmp_path / "corpus"
    summary = corpus.build(out, source_dir=source, per_pair=2, voices=voices)
    for sub, held in (
        ("tuning", False),
        ("held_out", True),
        ("long_turns/tuning", False),
        ("long_turns/held_out", True),
    ):
        manifest = json.loads((out / sub / "MANIFEST.json").read_text())
        recordings = load_calls(directory=out / sub)
        assert len(recordings) == manifest["n_calls"] > 0
        for rec, entry in zip(recordings, manifest["calls"], strict=True):
            annotation = json.loads((out / sub / entry["annotation"]).read_text())
            assert annotation["held_out"] is held and rec.name == annotation["sid"]
            assert rec.audio16.shape[1] == 2 and rec.duration_s == pytest.approx(annotation["duration_s"], abs=1e-3)
            names = annotation["voice_names"].values()
            assert all(voice(n).held_out == held for n in names)
            if "long_turns" in sub:
                customer = [r for r in rec.references if r.speaker == "customer"]
                assert len(customer) >= corpus.LONG_MIN_SENTENCES
                assert [r.speaker for r in rec.references][-1] == "agent"
            else:
                assert [r.text for r in rec.references] == ["how can i help", "i lost my card", "sorry to hear that"]
                assert rec.references[1].start_s > rec.references[0].end_s
                # the speech is where the reference says: loud inside a turn, the floor outside
                ref = rec.references[1]
                inside = rec.audio16[int(ref.start_s * RATE_HZ) + 80 : int(ref.end_s * RATE_HZ) - 80, 0]
                before = rec.audio16[: int(ref.start_s * RATE_HZ) - 80, 0]
                assert np.sqrt(np.mean(inside**2)) > 0.05 and np.sqrt(np.mean(before**2)) < 0.01
    report = json.loads((out / "CORPUS.json").read_text())
    assert set(report["folders"]) == {"tuning", "held_out", "long_turns/tuning", "long_turns/held_out"}
    assert sum(f.rendered for f in summary.folders) > 0
    audio = next((out / "tuning").glob("*.flac"))
    stamp = audio.stat().st_mtime_ns
    again = corpus.build(out, source_dir=source, per_pair=2, voices=voices)
    assert sum(f.rendered for f in again.folders) == 0 and audio.stat().st_mtime_ns == stamp  # cached


def test_synthesize_reports_a_missing_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from assist.bench import voices

    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(voices.MissingEngineError, match="flite"):
        voices.synthesize(voices.voice("rms"), "hello")


ENGINES = sorted({v.engine for v in VOICES})


@pytest.mark.tts
@pytest.mark.skipif(not any(shutil.which(b) for b in ENGINE_BINARIES.values()), reason="no TTS engine installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_speaks(engine: str) -> None:
    if not engine_available(engine):  # type: ignore[arg-type]
        pytest.skip(f"{engine} not installed")
    v = next(v for v in VOICES if v.engine == engine)
    audio = synthesize(v, "please check my balance")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.5 < len(audio) / RATE_HZ < 5.0  # 16 kHz samples of a short sentence, silence trimmed
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert -24 < rms_db < -17 and np.max(np.abs(audio)) <= 1.0
