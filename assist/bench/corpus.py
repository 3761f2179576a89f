"""The robustness corpus: the shared calls re-spoken by other voices, and long customer turns.

``python -m assist.bench.corpus --out DIR`` writes, in the shared calls' format (stereo 16 kHz FLAC,
channel 0 customer, channel 1 agent, a JSON reference next to each, a MANIFEST.json per folder):

- ``DIR/tuning/``, ``DIR/held_out/``: each shared call's dialogue, every turn re-synthesised by a
  pair of ``voices.VOICES`` and laid out in the original order with the original gaps (clamped).
  A call with a held-out voice goes to ``held_out/``: never choose a setting by those.
- ``DIR/long_turns/{tuning,held_out}/``: ``data/long_turns.txt``, one customer monologue per call,
  20-40 s with pauses under 0.3 s (shorter than an endpointer's silence), one reference segment per
  sentence so per-sentence latency can be scored.

Telephone conditions (``conditions.py``) are applied when the benchmark reads the calls, not here.
Rendering is deterministic and cached: a file whose JSON records the same parameters is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import soundfile as sf

from assist.bench.dataset import CALLS_DIR, REPO_ROOT, call_files
from assist.bench.voices import ESPEAK_WPM, LEVEL_DBFS, RATE_HZ, VOICES, Voice, synthesize, voice

RENDER_VERSION = 1  # bump when rendering changes, so cached files are rendered again
NOISE_FLOOR_DBFS = -50.0  # as the shared calls: a digital-silence gap is not what a line carries
SAME_SPEAKER_GAP_MIN_S = 0.15  # a speaker's consecutive turns stay apart (else they merge in the reference)
OVERLAP_MAX_S = 0.5  # the other speaker may start this early: crosstalk, but no talking over a whole turn
GAP_MAX_S = 2.0  # long silences in the role-play timing add nothing but benchmark time
LEAD_S = (0.5, 2.0)  # before the first turn: the original's lead-in, clamped
TAIL_S = 1.0  # after the last turn
CALLS_PER_PAIR = 3
LONG_PAUSE_S = (0.10, 0.28)  # between a monologue's sentences: under a 0.3 s endpointer silence
LONG_MAX_S = 40.0  # a monologue longer than this loses trailing sentences (never below LONG_MIN_SENTENCES)
LONG_MIN_S = 20.0
LONG_MIN_SENTENCES = 6
LONG_ACK_GAP_S = 0.6
ACKS = ("okay", "i see", "alright", "okay i see")
LONG_TURNS_FILE = Path(__file__).with_name("data") / "long_turns.txt"
DEFAULT_OUT = REPO_ROOT / "bench-results" / "robust-corpus"

Float32Array = npt.NDArray[np.float32]
Progress = Callable[[str], None]


class Timed(Protocol):
    @property
    def speaker(self) -> str: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...


@dataclass(frozen=True)
class Turn:
    speaker: str
    start_s: float
    end_s: float


def layout_turns(durations_s: Sequence[float], originals: Sequence[Timed]) -> list[tuple[float, float]]:
    """Where each re-synthesised turn goes: (start_s, end_s), in the original order, each after
    the previous one by the original gap, clamped so that a speaker's own turns stay at least
    ``SAME_SPEAKER_GAP_MIN_S`` apart, the other speaker overlaps by at most ``OVERLAP_MAX_S``, and
    no gap exceeds ``GAP_MAX_S``. Starts never go backwards, so the reference order holds."""
    if len(durations_s) != len(originals):
        raise ValueError(f"{len(durations_s)} durations for {len(originals)} turns")
    placed: list[tuple[float, float]] = []
    last_end: dict[str, float] = {}
    for i, (dur, orig) in enumerate(zip(durations_s, originals, strict=True)):
        if i == 0:
            start = min(max(orig.start_s, LEAD_S[0]), LEAD_S[1])
        else:
            prev = originals[i - 1]
            gap = orig.start_s - prev.end_s
            floor = SAME_SPEAKER_GAP_MIN_S if orig.speaker == prev.speaker else -OVERLAP_MAX_S
            start = placed[-1][1] + min(max(gap, floor), GAP_MAX_S)
            own = last_end.get(orig.speaker)
            if own is not None:
                start = max(start, own + SAME_SPEAKER_GAP_MIN_S)
            others = [end for sp, end in last_end.items() if sp != orig.speaker]
            if others:
                start = max(start, max(others) - OVERLAP_MAX_S)
            start = max(start, placed[-1][0])
        end = start + dur
        placed.append((start, end))
        last_end[orig.speaker] = max(end, last_end.get(orig.speaker, end))
    return placed


# -- plans: which voices speak which call ---------------------------------------------------------


@dataclass(frozen=True)
class CallPlan:
    source_index: int  # into the shared calls (manifest order)
    customer: Voice
    agent: Voice

    @property
    def held_out(self) -> bool:
        return self.customer.held_out or self.agent.held_out


def voice_pairs(voices: Sequence[Voice]) -> list[tuple[Voice, Voice]]:
    """Every unordered pair of ``voices`` once, as (customer, agent) in a rotation that makes each
    voice customer and agent about equally often: (v[i], v[i+k]) for k up to half the count."""
    n = len(voices)
    pairs: list[tuple[Voice, Voice]] = []
    for k in range(1, n // 2 + 1):
        for i in range(n):
            if 2 * k == n and i >= k:  # the half-way shift would list each pair twice
                break
            pairs.append((voices[i], voices[(i + k) % n]))
    return pairs


def plan_calls(n_source: int, voices: Sequence[Voice], per_pair: int = CALLS_PER_PAIR) -> list[CallPlan]:
    """``per_pair`` calls for each pair of voices, pairs formed within the tuning voices and within
    the held-out voices (a mixed pair would waste a tuning voice on a call nobody may tune on).
    Consecutive pairs take consecutive source calls, wrapping around, so pairs hear different
    dialogues; every second call of a pair swaps the roles."""
    if n_source < 1:
        raise ValueError("no source calls")
    plans: list[CallPlan] = []
    cursor = 0
    for group in ([v for v in voices if not v.held_out], [v for v in voices if v.held_out]):
        for a, b in voice_pairs(group):
            for j in range(per_pair):
                customer, agent = (b, a) if j % 2 else (a, b)
                plans.append(CallPlan(cursor % n_source, customer, agent))
                cursor += 1
    return plans


# -- rendering ------------------------------------------------------------------------------------


def seed_for(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def mix(duration_s: float, placements: Sequence[tuple[int, float, Float32Array]], seed: int) -> Float32Array:
    """A (samples, 2) call: each (channel, start_s, audio) added in place, over a white noise floor
    at ``NOISE_FLOOR_DBFS`` on both channels."""
    n = round(duration_s * RATE_HZ)
    rng = np.random.default_rng(seed)
    out = (rng.standard_normal((n, 2)) * 10 ** (NOISE_FLOOR_DBFS / 20)).astype(np.float32)
    for channel, start_s, audio in placements:
        at = round(start_s * RATE_HZ)
        take = max(0, min(len(audio), n - at))
        out[at : at + take, channel] += audio[:take]
    return np.clip(out, -1.0, 32767 / 32768)


def _channel(speaker: str) -> int:
    return 0 if speaker == "customer" else 1


def _voice_params(v: Voice) -> dict[str, Any]:
    return {"label": v.label, "wpm": ESPEAK_WPM if v.engine == "espeak-ng" else None}


def render_key(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def cached_annotation(folder: Path, name: str, key: str) -> dict[str, Any] | None:
    annotation, audio = folder / f"{name}.json", folder / f"{name}.flac"
    if not (annotation.exists() and audio.exists()):
        return None
    try:
        data: dict[str, Any] = json.loads(annotation.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if data.get("render", {}).get("key") == key else None


def write_call(folder: Path, name: str, audio: Float32Array, annotation: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp.flac"
    sf.write(tmp, audio, RATE_HZ, subtype="PCM_16", format="FLAC")
    tmp.replace(folder / f"{name}.flac")
    (folder / f"{name}.json").write_text(json.dumps(annotation, indent=1) + "\n")  # last: marks the pair complete


def _voices_json(customer: Voice, agent: Voice) -> dict[str, str]:
    return {"customer": customer.label, "agent": agent.label}


def render_call(source: dict[str, Any], plan: CallPlan, name: str) -> tuple[Float32Array, dict[str, Any]]:
    """One shared call's dialogue spoken by ``plan``'s voices: audio and its reference JSON."""
    originals = [Turn(s["speaker"], float(s["start_s"]), float(s["end_s"])) for s in source["segments"]]
    speech = [
        synthesize(plan.customer if t.speaker == "customer" else plan.agent, s["text"])
        for t, s in zip(originals, source["segments"], strict=True)
    ]
    placed = layout_turns([len(a) / RATE_HZ for a in speech], originals)
    duration_s = max(end for _, end in placed) + TAIL_S
    audio = mix(
        duration_s,
        [(_channel(t.speaker), start, a) for t, (start, _), a in zip(originals, placed, speech, strict=True)],
        seed_for(name),
    )
    segments = []
    for seg, (start, end) in zip(source["segments"], placed, strict=True):
        entry = {"speaker": seg["speaker"], "start_s": round(start, 3), "end_s": round(end, 3), "text": seg["text"]}
        entry.update({k: seg[k] for k in ("emotion", "source_index") if k in seg})
        entry.update({"source_start_s": seg["start_s"], "source_end_s": seg["end_s"]})
        segments.append(entry)
    annotation = {
        "sid": name,
        "task_types": source.get("task_types", []),
        "tasks": source.get("tasks", []),
        "domain": "bank",
        "duration_s": round(len(audio) / RATE_HZ, 3),
        "sample_rate": RATE_HZ,
        "channels": {"0": "customer", "1": "agent"},
        "voices": _voices_json(plan.customer, plan.agent),
        "voice_names": {"customer": plan.customer.name, "agent": plan.agent.name},
        "held_out": plan.held_out,
        "kind": "revoiced",
        "timeline": "relaid",
        "noise_floor_dbfs": NOISE_FLOOR_DBFS,
        "speech_level_dbfs": LEVEL_DBFS,
        "source": {
            "sid": source.get("sid"),
            "dataset": (source.get("source") or {}).get("dataset"),
            "license": (source.get("source") or {}).get("license"),
        },
        "segments": segments,
    }
    return audio, annotation


@dataclass(frozen=True)
class Monologue:
    id: str
    domain: str
    intent: str
    sentences: tuple[str, ...]


def parse_long_turns(text: str) -> list[Monologue]:
    """``data/long_turns.txt``: blocks of "[id] domain: intent" then one sentence per line."""
    monologues: list[Monologue] = []
    header: tuple[str, str, str] | None = None
    sentences: list[str] = []

    def close() -> None:
        if header is not None:
            if not sentences:
                raise ValueError(f"monologue {header[0]} has no sentences")
            monologues.append(Monologue(*header, tuple(sentences)))

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            close()
            ident, _, rest = line[1:].partition("]")
            domain, _, intent = rest.partition(":")
            header, sentences = (ident.strip(), domain.strip(), intent.strip()), []
        elif header is None:
            raise ValueError(f"sentence before any [id] header: {line!r}")
        else:
            sentences.append(line)
    close()
    return monologues


def layout_monologue(
    durations_s: Sequence[float], rng: np.random.Generator, lead_s: float = LEAD_S[0]
) -> list[tuple[float, float]]:
    """Sentences back to back with pauses drawn from ``LONG_PAUSE_S``."""
    placed: list[tuple[float, float]] = []
    at = lead_s
    for i, dur in enumerate(durations_s):
        if i:
            at += float(rng.uniform(*LONG_PAUSE_S))
        placed.append((at, at + dur))
        at += dur
    return placed


def render_long_turn(mono: Monologue, customer: Voice, agent: Voice, name: str) -> tuple[Float32Array, dict[str, Any]]:
    """The customer's monologue in one breath, then a short acknowledgement from the agent."""
    speech = [synthesize(customer, s) for s in mono.sentences]
    keep = len(speech)
    while True:  # trailing sentences go until the turn fits LONG_MAX_S (the pauses depend on the count)
        placed = layout_monologue([len(a) / RATE_HZ for a in speech[:keep]], np.random.default_rng(seed_for(name)))
        if placed[-1][1] - placed[0][0] <= LONG_MAX_S or keep <= LONG_MIN_SENTENCES:
            break
        keep -= 1
    # not the pauses' stream, so dropping a sentence does not change the acknowledgement
    rng = np.random.default_rng(seed_for(name) + 1)
    ack_text = ACKS[int(rng.integers(len(ACKS)))]
    ack = synthesize(agent, ack_text)
    ack_start = placed[-1][1] + LONG_ACK_GAP_S
    duration_s = ack_start + len(ack) / RATE_HZ + TAIL_S
    items = [(0, start, a) for (start, _), a in zip(placed, speech[:keep], strict=True)] + [(1, ack_start, ack)]
    audio = mix(duration_s, items, seed_for(name))
    segments = [
        {"speaker": "customer", "start_s": round(start, 3), "end_s": round(end, 3), "text": text, "sentence_index": i}
        for i, ((start, end), text) in enumerate(zip(placed, mono.sentences[:keep], strict=True))
    ]
    segments.append(
        {
            "speaker": "agent",
            "start_s": round(ack_start, 3),
            "end_s": round(ack_start + len(ack) / RATE_HZ, 3),
            "text": ack_text,
        }
    )
    turn_s = placed[-1][1] - placed[0][0]
    annotation = {
        "sid": name,
        "task_types": [mono.intent],
        "domain": mono.domain,
        "duration_s": round(len(audio) / RATE_HZ, 3),
        "sample_rate": RATE_HZ,
        "channels": {"0": "customer", "1": "agent"},
        "voices": _voices_json(customer, agent),
        "voice_names": {"customer": customer.name, "agent": agent.name},
        "held_out": customer.held_out or agent.held_out,
        "kind": "long_turn",
        "monologue": mono.id,
        "turn_s": round(turn_s, 3),
        "max_pause_s": round(max((b[0] - a[1] for a, b in itertools.pairwise(placed)), default=0.0), 3),
        "dropped_sentences": len(mono.sentences) - keep,
        "noise_floor_dbfs": NOISE_FLOOR_DBFS,
        "speech_level_dbfs": LEVEL_DBFS,
        "source": {"dataset": "assist long_turns.txt", "license": "Apache-2.0"},
        "segments": segments,
    }
    return audio, annotation


# -- the corpus -----------------------------------------------------------------------------------


@dataclass
class Folder:
    path: Path
    kind: str
    held_out: bool
    entries: list[dict[str, Any]] = field(default_factory=list)
    rendered: int = 0
    cached: int = 0


@dataclass
class Summary:
    out: Path
    folders: list[Folder]
    elapsed_s: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        per_voice: dict[str, Counter[str]] = {}
        for folder in self.folders:
            for e in folder.entries:
                for role, name in e["voice_names"].items():
                    per_voice.setdefault(name, Counter())[f"{folder.kind}_{role}"] += 1
        return {
            "render_version": RENDER_VERSION,
            "elapsed_s": round(self.elapsed_s, 1),
            "folders": {
                str(f.path.relative_to(self.out)): {
                    "kind": f.kind,
                    "held_out": f.held_out,
                    "calls": len(f.entries),
                    "audio_s": round(sum(e["duration_s"] for e in f.entries), 1),
                    "rendered": f.rendered,
                    "cached": f.cached,
                }
                for f in self.folders
            },
            "total_audio_s": round(sum(e["duration_s"] for f in self.folders for e in f.entries), 1),
            "calls_per_voice": {name: dict(sorted(c.items())) for name, c in sorted(per_voice.items())},
            "voices": [asdict(v) | {"label": v.label} for v in VOICES],
            "warnings": self.warnings,
            "note": "held_out/ folders: voices kept out of all tuning; measure on them, never choose settings by them",
        }


def _manifest(folder: Folder, voices: Sequence[Voice]) -> dict[str, Any]:
    used = {n for e in folder.entries for n in e["voice_names"].values()}
    return {
        "kind": folder.kind,
        "held_out": folder.held_out,
        "sample_rate": RATE_HZ,
        "channels": {"0": "customer", "1": "agent"},
        "n_calls": len(folder.entries),
        "total_duration_s": round(sum(e["duration_s"] for e in folder.entries), 1),
        "voices": [asdict(v) | {"label": v.label} for v in voices if v.name in used],
        "task_type_counts": dict(sorted(Counter(t for e in folder.entries for t in e["task_types"]).items())),
        "render_version": RENDER_VERSION,
        "calls": folder.entries,
    }


def _entry(name: str, annotation: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": name,
        "audio": f"{name}.flac",
        "annotation": f"{name}.json",
        "voices": annotation["voices"],
        "voice_names": annotation["voice_names"],
        "held_out": annotation["held_out"],
        "task_types": annotation["task_types"],
        "duration_s": annotation["duration_s"],
        "n_segments": len(annotation["segments"]),
    }


def _produce(
    folder: Folder,
    name: str,
    params: dict[str, Any],
    render: Callable[[], tuple[Float32Array, dict[str, Any]]],
    force: bool,
) -> dict[str, Any]:
    key = render_key(params)
    annotation = None if force else cached_annotation(folder.path, name, key)
    if annotation is None:
        audio, annotation = render()
        annotation["render"] = {"key": key, **params}
        write_call(folder.path, name, audio, annotation)
        folder.rendered += 1
    else:
        folder.cached += 1
    folder.entries.append(_entry(name, annotation))
    return annotation


def build(
    out: Path,
    *,
    source_dir: Path = CALLS_DIR,
    calls: int | None = None,
    per_pair: int = CALLS_PER_PAIR,
    voices: Sequence[Voice] = VOICES,
    long_turns: bool = True,
    force: bool = False,
    progress: Progress = lambda _: None,
) -> Summary:
    """Render (or keep, when cached) the whole corpus under ``out``; write each folder's
    MANIFEST.json and ``out/CORPUS.json``."""
    started = time.monotonic()
    folders = {
        ("revoiced", False): Folder(out / "tuning", "revoiced", False),
        ("revoiced", True): Folder(out / "held_out", "revoiced", True),
        ("long_turn", False): Folder(out / "long_turns" / "tuning", "long_turn", False),
        ("long_turn", True): Folder(out / "long_turns" / "held_out", "long_turn", True),
    }
    summary = Summary(out, list(folders.values()))
    sources = call_files(source_dir)[:calls]
    plans = plan_calls(len(sources), voices, per_pair)
    for i, plan in enumerate(plans):
        _, annotation_path = sources[plan.source_index]
        source = json.loads(annotation_path.read_text())
        source.setdefault("sid", annotation_path.stem)
        name = f"{source['sid']}-{plan.customer.name}-{plan.agent.name}"
        params = {
            "version": RENDER_VERSION,
            "kind": "revoiced",
            "source": hashlib.sha256(annotation_path.read_bytes()).hexdigest()[:16],
            "customer": _voice_params(plan.customer),
            "agent": _voice_params(plan.agent),
        }
        folder = folders[("revoiced", plan.held_out)]
        _produce(folder, name, params, partial(render_call, source, plan, name), force)
        progress(f"revoiced {i + 1}/{len(plans)} {folder.path.name}/{name}")
    if long_turns:
        monologues = parse_long_turns(LONG_TURNS_FILE.read_text())
        for held_out in (False, True):
            group = [v for v in voices if v.held_out == held_out]
            for i, mono in enumerate(monologues if group else []):
                customer, agent = group[i % len(group)], group[(i + 1) % len(group)]
                name = f"long-{mono.id}-{customer.name}"
                params = {
                    "version": RENDER_VERSION,
                    "kind": "long_turn",
                    "text": hashlib.sha256("\n".join(mono.sentences).encode()).hexdigest()[:16],
                    "customer": _voice_params(customer),
                    "agent": _voice_params(agent),
                }
                folder = folders[("long_turn", held_out)]
                annotation = _produce(
                    folder, name, params, partial(render_long_turn, mono, customer, agent, name), force
                )
                if (
                    annotation["turn_s"] < LONG_MIN_S
                    or annotation["turn_s"] > LONG_MAX_S
                    or annotation["dropped_sentences"]
                ):
                    summary.warnings.append(
                        f"{name}: turn {annotation['turn_s']:.1f} s, {annotation['dropped_sentences']} sentences dropped"
                    )
                progress(f"long turn {folder.path.relative_to(out)}/{name} ({annotation['turn_s']:.1f} s)")
    for folder in folders.values():
        if folder.entries:
            folder.path.mkdir(parents=True, exist_ok=True)
            (folder.path / "MANIFEST.json").write_text(json.dumps(_manifest(folder, voices), indent=1) + "\n")
    summary.folders = [f for f in folders.values() if f.entries]
    summary.elapsed_s = time.monotonic() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "CORPUS.json").write_text(json.dumps(summary.as_json(), indent=1) + "\n")
    return summary


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assist.bench.corpus", description=(__doc__ or "").splitlines()[0])
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"corpus directory (default {DEFAULT_OUT.relative_to(REPO_ROOT)})"
    )
    p.add_argument(
        "--source", type=Path, default=CALLS_DIR, help="the calls to re-voice (default ../shared/data/calls)"
    )
    p.add_argument("--calls", type=int, default=None, help="draw on the first N source calls only (default all)")
    p.add_argument(
        "--per-pair", type=int, default=CALLS_PER_PAIR, help=f"calls per voice pair (default {CALLS_PER_PAIR})"
    )
    p.add_argument(
        "--voices", nargs="+", metavar="NAME", help=f"voices to use (default all: {' '.join(v.name for v in VOICES)})"
    )
    p.add_argument("--no-long-turns", action="store_true", help="skip the long customer turns")
    p.add_argument("--force", action="store_true", help="render again even where cached")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        chosen = [voice(n) for n in args.voices] if args.voices else list(VOICES)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    summary = build(
        args.out,
        source_dir=args.source,
        calls=args.calls,
        per_pair=args.per_pair,
        voices=chosen,
        long_turns=not args.no_long_turns,
        force=args.force,
        progress=say,
    )
    report = summary.as_json()
    for path, info in report["folders"].items():
        print(
            f"{path:22s} {info['calls']:3d} calls {info['audio_s']:7.1f} s  rendered {info['rendered']}, cached {info['cached']}"
        )
    print(f"total {report['total_audio_s']:.1f} s of audio in {report['elapsed_s']:.1f} s -> {args.out}")
    for warning in summary.warnings:
        print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
