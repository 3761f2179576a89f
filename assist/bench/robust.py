"""``python -m assist.bench.robust`` (``make bench-robust``): the speech core on voices, lines and
turns it was not tuned on.

The corpus (``python -m assist.bench.corpus``, rendered on first use into bench-results/) holds
the shared calls re-voiced with other synthetic voices (tuning voices and held-out voices, never
tuned on), and long turns (one speaker, 20-40 s, pauses under 0.3 s). Each call is played
through the speech core under each telephone condition (assist/bench/conditions.py: µ-law,
band limit, noise, packet loss, levels), one call at a time, faster than real time: a final's
latency is the endpointer's delay (stream time) plus the time its decode really took, which is
the latency of one call on a quiet machine. Against it: the same model offline on the same
degraded audio (the accuracy ceiling). Also the shared real-speech clips.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from assist.bench import corpus as corpus_mod
from assist.bench.conditions import CONDITIONS, CONDITIONS_BY_NAME, Condition, apply
from assist.bench.dataset import REPO_ROOT, Recording, load_calls, wire_roundtrip
from assist.bench.docfile import replace_section
from assist.bench.scoring import percentile, score_utterances, settled_finals, wer, words_in_silence
from assist.bench.stt import clip_latencies, environment, fmt_s, hypothesis_texts, load_clips, stream_recording
from assist.events import FinalTranscript, TranscriptEvent
from assist.stt.cpu import describe_cpu
from assist.stt.engine import OFFLINE_METHOD, default_workers
from assist.stt.transcriber import SttService, SttSettings

DOC_BEGIN, DOC_END = "<!-- bench-robust:begin -->", "<!-- bench-robust:end -->"
CORPUS_DIR = REPO_ROOT / "bench-results" / "robust-corpus"


def progress(message: str) -> None:
    print(f"[bench-robust {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def degrade(rec: Recording, condition: Condition) -> Recording:
    """The recording as the server would hear it over this line (audio domain; the wire codec
    is applied when it is streamed)."""
    if condition.name == "clean":
        return rec
    audio = apply(condition, rec.audio16, corpus_mod.seed_for(rec.name))
    return replace(rec, audio16=audio, digest=f"{rec.digest}:{condition.name}")


def offline_texts(
    service: SttService, rec: Recording, condition: Condition, cache: dict[str, dict[str, str]]
) -> dict[str, str]:
    engine = service.engine(service.settings.english_model)
    key = f"{engine.name}:{OFFLINE_METHOD}:{rec.name}:{rec.digest}:{condition.codec}:{condition.rate_hz}"
    if key not in cache:
        audio = wire_roundtrip(rec.audio16, condition.codec, condition.rate_hz)
        cache[key] = {sp: engine.transcribe_offline(audio[:, ch]) for ch, sp in enumerate(rec.speakers)}
    return cache[key]


async def run_set(
    service: SttService,
    recordings: list[Recording],
    condition: Condition,
    cache: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """Every recording of a set under one condition: accuracy, latency, cost."""
    refs: list[str] = []
    hyps: list[str] = []
    offs: list[str] = []
    latencies: list[float] = []
    lost = total = silence_words = finals = revisions = 0
    cpu_s = audio_s = 0.0
    stats0 = service.scheduler.stats.interims_done
    for rec in recordings:
        heard = degrade(rec, condition)
        offline = offline_texts(service, heard, condition, cache)
        cpu0 = time.process_time()
        events: list[TranscriptEvent] = await stream_recording(
            service, heard, realtime=False, codec=condition.codec, rate_hz=condition.rate_hz
        )
        cpu_s += time.process_time() - cpu0
        audio_s += rec.duration_s
        texts = hypothesis_texts(heard, events)
        for sp in rec.speakers:
            if rec.texts[sp].strip():
                refs.append(rec.texts[sp])
                hyps.append(texts[sp])
                offs.append(offline[sp])
        if rec.timed:
            scores = score_utterances(rec.references, events)
            lost += sum(1 for s in scores if s.final_latency_s is None)
            total += len(scores)
            latencies += [s.final_latency_s for s in scores if s.final_latency_s is not None]
            silence_words += words_in_silence(rec.references, events)
        else:
            latencies += clip_latencies(events)
        finals += len(settled_finals(events))
        revisions += sum(1 for e in events if isinstance(e, FinalTranscript) and e.revision > 0)
    return {
        "recordings": len(recordings),
        "audio_s": round(audio_s, 1),
        "wer_streaming": wer(refs, hyps),
        "wer_offline": wer(refs, offs),
        "wer_streaming_digits": wer(refs, hyps, split_digits=True),
        "wer_offline_digits": wer(refs, offs, split_digits=True),
        "final_p50_s": percentile(latencies, 50),
        "final_p95_s": percentile(latencies, 95),
        "utterances": total,
        "lost_utterances": lost,
        "words_in_silence": silence_words,
        "finals": finals,
        "revisions": revisions,
        "interims": service.scheduler.stats.interims_done - stats0,
        "cpu_core_s_per_call_s": cpu_s / audio_s if audio_s else None,
    }


def pick(recordings: list[Recording], n: int | None) -> list[Recording]:
    return recordings if n is None else recordings[:n]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    if not (args.corpus / "CORPUS.json").exists():
        progress(f"rendering the corpus into {args.corpus} (about a minute)")
        corpus_mod.main(["--out", str(args.corpus), "--quiet"])
    sets: dict[str, list[Recording]] = {
        "tuning voices": pick(load_calls(directory=args.corpus / "tuning"), args.calls),
        "held-out voices": pick(load_calls(directory=args.corpus / "held_out"), args.calls),
        "long turns": pick(
            load_calls(directory=args.corpus / "long_turns" / "tuning")
            + load_calls(directory=args.corpus / "long_turns" / "held_out"),
            args.long_turns,
        ),
    }
    if args.clips:
        sets["real speech clips"] = load_clips()
    conditions = [CONDITIONS_BY_NAME[name] for name in args.conditions]
    settings = SttSettings(english_model=args.model, workers=default_workers("cpu", 1))  # as the server
    if args.revise_turns is not None:
        settings = dataclasses.replace(settings, revise_turns=tuple(args.revise_turns))
    if args.revise_long_turns is not None:
        settings = dataclasses.replace(settings, revise_long_turns=tuple(args.revise_long_turns))
    if args.revise_windows is not None:
        settings = dataclasses.replace(settings, revise_windows=tuple(args.revise_windows))
    if args.revision_beam is not None:
        settings = dataclasses.replace(settings, turn_beam_size=args.revision_beam)
    service = SttService(dataclasses.replace(settings, workers=args.workers) if args.workers else settings)
    cache_path = args.out / "offline-cache.json"
    args.out.mkdir(parents=True, exist_ok=True)
    cache: dict[str, dict[str, str]] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        for condition in conditions:
            for name, recordings in sets.items():
                if name in ("long turns", "real speech clips") and condition.name not in args.long_turn_conditions:
                    continue
                row = {"condition": condition.name, "set": name, **await run_set(service, recordings, condition, cache)}
                rows.append(row)
                cache_path.write_text(json.dumps(cache))
                progress(
                    f"{condition.name} / {name}: WER {row['wer_streaming'] * 100:.1f} % vs offline "
                    f"{row['wer_offline'] * 100:.1f} %, final p95 {row['final_p95_s'] or 0:.2f} s"
                )
    finally:
        service.close()
    env = environment(service.settings)
    return {
        "environment": {**env, "cpu_info": describe_cpu().as_dict()},
        "settings": service.describe(),
        "elapsed_s": time.perf_counter() - started,
        "rows": rows,
    }


def fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def markdown(results: dict[str, Any], command: str) -> str:
    env = results["environment"]
    cpu = env["cpu_info"]
    lines = [
        DOC_BEGIN,
        "## Robustness: voices, lines and long turns it was not tuned on (`make bench-robust`)",
        "",
        f"Command: `{command}`. Machine: {cpu['kind']} ({cpu['cores']} cores; AVX-512 {cpu['avx512']}, "
        f"VNNI {cpu['vnni']}); model {env['model']}; commit {env['commit']}; {env['date']}; "
        f"{results['elapsed_s'] / 60:.0f} min.",
        "",
        "One call at a time, faster than real time; a final's latency is the endpointer's delay plus the time "
        "its decode took (one call on a quiet machine). Offline = the same model on the same degraded audio, "
        "whole channel at once, beam 5, temperature 0, Silero VAD (the accuracy ceiling, the same every run). Held-out voices were never used to choose a setting.",
        "WER after Whisper's English normaliser; *digits one by one*: the same with every digit a word of its own, "
        'so that an account number heard right but grouped otherwise ("715 1 3" for "seven one five one '
        'three") is not scored as errors (assist/bench/scoring.py, `digits_one_by_one`).',
        "",
        "| condition | set | audio | WER streaming | WER offline | distance | distance, digits one by one "
        "| final p50 | final p95 | lost | words outside speech | revisions | CPU core-s per call-s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        distance = (row["wer_streaming"] - row["wer_offline"]) * 100
        digits = row.get("wer_streaming_digits")
        by_digit = f"{(digits - row['wer_offline_digits']) * 100:+.1f}" if digits is not None else "n/a"
        lost = f"{row['lost_utterances']} of {row['utterances']}" if row["utterances"] else "n/a"
        lines.append(
            f"| {row['condition']} | {row['set']} | {row['audio_s'] / 60:.1f} min | {fmt_pct(row['wer_streaming'])} | "
            f"{fmt_pct(row['wer_offline'])} | {distance:+.1f} | {by_digit} | {fmt_s(row['final_p50_s'])} | "
            f"{fmt_s(row['final_p95_s'])} | "
            f"{lost} | {row['words_in_silence']} | {row['revisions']} of {row['finals']} | "
            f"{row['cpu_core_s_per_call_s']:.3f} |"
        )
    lines += ["", DOC_END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results" / "robust")
    parser.add_argument("--doc", type=Path, default=None, help="markdown file whose robust section is replaced")
    parser.add_argument("--calls", type=int, default=6, help="re-voiced calls per set (tuning, held-out)")
    parser.add_argument("--long-turns", type=int, default=None, help="long-turn recordings (default all)")
    parser.add_argument(
        "--conditions",
        type=lambda s: s.split(","),
        default=[c.name for c in CONDITIONS],
        help="comma-separated: " + ",".join(c.name for c in CONDITIONS),
    )
    parser.add_argument(
        "--long-turn-conditions",
        type=lambda s: s.split(","),
        default=["clean", "telephone"],
        help="conditions under which long turns and the real clips are also run",
    )
    parser.add_argument("--no-clips", dest="clips", action="store_false")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--model", default="tiny.en", help="Whisper for English: tiny.en or base")
    parser.add_argument(
        "--revise-turns",
        type=lambda s: [x for x in s.split(",") if x],
        default=None,
        help="languages whose turns are decoded again together (default: the server's, zh); '' for none",
    )
    parser.add_argument(
        "--revise-long-turns",
        type=lambda s: [x for x in s.split(",") if x],
        default=None,
        help="languages whose long turns only are (default: the server's, en); '' for none",
    )
    parser.add_argument(
        "--revise-windows",
        type=lambda s: [x for x in s.split(",") if x],
        default=None,
        help="languages whose finals are decoded again in windows across turns (default: the server's)",
    )
    parser.add_argument("--revision-beam", type=int, default=None, help="beam size of revision decodes")
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args))
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    command = "python -m assist.bench.robust " + " ".join(argv if argv is not None else sys.argv[1:])
    text = markdown(results, command.strip())
    (args.out / "summary.md").write_text(text + "\n")
    if args.doc is not None:
        replace_section(args.doc, text, DOC_BEGIN, DOC_END)
    print(text)
    print(f"results: {os.path.relpath(args.out / 'results.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
