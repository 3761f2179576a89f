"""Mandarin telecom calls to develop and benchmark with: ``data/zh_calls.yaml`` spoken by the
Mandarin voices (``zh_voice.py``), in the shared calls' format.

``python -m assist.bench.zh_calls --out DIR`` writes ``DIR/tuning/`` and ``DIR/held_out/``:
stereo 16 kHz FLAC (channel 0 customer, channel 1 agent) with a JSON reference next to each
(``segments``, ``task_types`` = the call's kb/telecom intent, ``language`` zh, the
``caller_number`` whose profile the server looks up) and a MANIFEST.json per folder. Tuning
calls are spoken by the tuning voices, held-out calls by the held-out voices: never choose a
setting by those. Rendering is deterministic and cached like the English corpus.

Run the benchmark on them with the telecom knowledge base:
``python -m assist.bench --calls-dir DIR/held_out --kb-dir kb/telecom``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assist.bench.corpus import NOISE_FLOOR_DBFS, Folder, cached_annotation, mix, render_key, seed_for, write_call
from assist.bench.dataset import REPO_ROOT
from assist.bench.voices import LEVEL_DBFS, RATE_HZ
from assist.bench.zh_voice import ZH_VOICES_BY_NAME, ZhVoice, synthesize_zh

RENDER_VERSION = 1
SCRIPTS = Path(__file__).with_name("data") / "zh_calls.yaml"
DEFAULT_OUT = REPO_ROOT / "bench-results" / "zh-corpus"
KB_DIR = "kb/telecom"
LEAD_S = 1.0
TAIL_S = 1.0
# Gaps between turns, cycled: a phone conversation's rhythm, never an overlap.
GAPS_S = (0.6, 0.9, 0.5, 1.2, 0.7, 0.8)
VOICE_PAIRS = {"tuning": ("zh-f1", "zh-m1"), "held_out": ("zh-f2", "zh-m2")}


@dataclass(frozen=True)
class ScriptedCall:
    id: str
    split: str
    intent: str
    caller: str | None
    turns: tuple[tuple[str, str], ...]
    notes: str = ""


def load_scripts(path: Path = SCRIPTS) -> list[ScriptedCall]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    calls = []
    for entry in data["calls"]:
        turns = tuple((str(speaker), str(text)) for speaker, text in entry["turns"])
        if any(speaker not in ("customer", "agent") for speaker, _ in turns):
            raise ValueError(f"{entry['id']}: a turn's speaker must be customer or agent")
        calls.append(
            ScriptedCall(
                id=str(entry["id"]),
                split=str(entry["split"]),
                intent=str(entry["intent"]),
                caller=entry.get("caller"),
                turns=turns,
                notes=str(entry.get("notes") or ""),
            )
        )
    return calls


def voices_for(call: ScriptedCall, index: int) -> tuple[ZhVoice, ZhVoice]:
    """(customer, agent): the split's two voices, roles swapped on every second call."""
    first, second = (ZH_VOICES_BY_NAME[name] for name in VOICE_PAIRS[call.split])
    return (first, second) if index % 2 == 0 else (second, first)


def render(call: ScriptedCall, customer: ZhVoice, agent: ZhVoice) -> tuple[np.ndarray, dict[str, Any]]:
    speech = [synthesize_zh(customer if speaker == "customer" else agent, text) for speaker, text in call.turns]
    placements: list[tuple[int, float, np.ndarray]] = []
    segments: list[dict[str, Any]] = []
    at_s = end_s = LEAD_S
    for index, ((speaker, text), audio) in enumerate(zip(call.turns, speech, strict=True)):
        end_s = at_s + len(audio) / RATE_HZ
        placements.append((0 if speaker == "customer" else 1, at_s, audio))
        segments.append({"speaker": speaker, "start_s": round(at_s, 3), "end_s": round(end_s, 3), "text": text})
        at_s = end_s + GAPS_S[index % len(GAPS_S)]
    duration_s = end_s + TAIL_S
    audio = mix(duration_s, placements, seed_for(call.id))
    annotation = {
        "sid": call.id,
        "task_types": [call.intent],
        "domain": "telecom",
        "kb": KB_DIR,
        "language": "zh",
        "caller_number": call.caller,
        "notes": call.notes,
        "duration_s": round(len(audio) / RATE_HZ, 3),
        "sample_rate": RATE_HZ,
        "channels": {"0": "customer", "1": "agent"},
        "voices": {"customer": customer.label, "agent": agent.label},
        "voice_names": {"customer": customer.name, "agent": agent.name},
        "held_out": call.split == "held_out",
        "kind": "scripted-zh",
        "noise_floor_dbfs": NOISE_FLOOR_DBFS,
        "speech_level_dbfs": LEVEL_DBFS,
        "segments": segments,
    }
    return audio, annotation


def build(out: Path, scripts: Path = SCRIPTS, *, force: bool = False) -> dict[str, Any]:
    calls = load_scripts(scripts)
    folders = {split: Folder(out / split, "scripted-zh", split == "held_out") for split in VOICE_PAIRS}
    started = time.perf_counter()
    counters = Counter[str]()
    for index, call in enumerate(calls):
        customer, agent = voices_for(call, index)
        folder = folders[call.split]
        params = {
            "version": RENDER_VERSION,
            "turns": call.turns,
            "caller": call.caller,
            "intent": call.intent,
            "voices": [asdict(customer), asdict(agent)],
        }
        key = render_key(params)
        annotation = None if force else cached_annotation(folder.path, call.id, key)
        if annotation is None:
            audio, annotation = render(call, customer, agent)
            annotation["render"] = {"key": key}
            write_call(folder.path, call.id, audio, annotation)
            counters["rendered"] += 1
        else:
            counters["cached"] += 1
        folder.entries.append(
            {
                "sid": call.id,
                "audio": f"{call.id}.flac",
                "annotation": f"{call.id}.json",
                "voice_names": annotation["voice_names"],
                "task_types": annotation["task_types"],
                "duration_s": annotation["duration_s"],
            }
        )
    for folder in folders.values():
        manifest = {
            "kind": folder.kind,
            "held_out": folder.held_out,
            "language": "zh",
            "kb": KB_DIR,
            "n_calls": len(folder.entries),
            "total_duration_s": round(sum(e["duration_s"] for e in folder.entries), 1),
            "render_version": RENDER_VERSION,
            "calls": folder.entries,
        }
        folder.path.mkdir(parents=True, exist_ok=True)
        (folder.path / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return {
        "calls": len(calls),
        **counters,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "audio_s": {split: round(sum(e["duration_s"] for e in f.entries), 1) for split, f in folders.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--scripts", type=Path, default=SCRIPTS)
    parser.add_argument("--force", action="store_true", help="render again even when cached")
    args = parser.parse_args(argv)
    summary = build(args.out, args.scripts, force=args.force)
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
