"""``python -m assist.bench.stt``: the speech core's latency, accuracy and cost (``make bench-stt``).

Phases (all in one process, as in production: one shared model, one stream per call):
1. offline reference: the same model transcribes each whole recording (the accuracy ceiling);
2. accuracy: every call and clip streamed through the core (finals do not depend on pacing,
   so this pass runs faster than real time), over 16 kHz L16 and over 8 kHz PCMU;
3. latency: calls and clips one at a time at real-time pace;
4. concurrency: 1, 2, 4, 6, 8 simultaneous two-speaker calls at real-time pace;
5. memory: one long call (default 10 minutes) streamed, RSS sampled as it goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from assist.audio.codec import AudioFormat, encode_pcm
from assist.bench.dataset import DATA, REPO_ROOT, Recording, load_calls, wire_roundtrip
from assist.bench.docfile import replace_section
from assist.bench.scoring import (
    RefSegment,
    UtteranceScore,
    percentile,
    score_utterances,
    settled_finals,
    wer,
    words_in_silence,
)
from assist.events import SPEAKERS, FinalTranscript, TranscriptEvent
from assist.stt.cpu import describe_cpu
from assist.stt.engine import OFFLINE_METHOD
from assist.stt.filestream import stream_file
from assist.stt.transcriber import SttService, SttSettings

DOC_BEGIN, DOC_END = "<!-- bench-stt:begin -->", "<!-- bench-stt:end -->"


def load_clips() -> list[Recording]:
    clips = []
    for entry in json.loads((DATA / "speech" / "MANIFEST.json").read_text()):
        audio, rate = sf.read(DATA / "speech" / entry["file"], dtype="float32", always_2d=True)
        audio = audio[:, :1]
        if rate != 16000:
            audio = soxr.resample(audio, rate, 16000).astype(np.float32).reshape(-1, 1)
        duration = len(audio) / 16000
        ref = RefSegment("customer", 0.0, duration, entry["reference"])
        clips.append(
            Recording(entry["file"], audio, ("customer",), [ref], {"customer": entry["reference"]}, timed=False)
        )
    return clips


# -- measuring -------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def stream_recording(
    service: SttService,
    rec: Recording,
    *,
    realtime: bool,
    codec: str = "l16",
    rate_hz: int = 16000,
    call_id: str | None = None,
) -> list[TranscriptEvent]:
    audio = rec.audio16 if rate_hz == 16000 else soxr.resample(rec.audio16, 16000, rate_hz).astype(np.float32)
    fmt = AudioFormat(codec, rate_hz, audio.shape[1])  # type: ignore[arg-type]
    events: list[TranscriptEvent] = []
    chunk_ms = 200 if codec == "pcmu" else 100  # AudioHook sends 200 ms frames
    await stream_file(
        service,
        audio,
        fmt,
        rec.speakers,
        realtime=realtime,
        chunk_ms=chunk_ms,
        on_event=events.append,
        call_id=call_id or rec.name,
    )
    return events


def hypothesis_texts(rec: Recording, events: list[TranscriptEvent]) -> dict[str, str]:
    return {sp: " ".join(e.text for e in settled_finals(events) if e.speaker == sp) for sp in rec.speakers}


def summarise_latency(scores: list[UtteranceScore]) -> dict[str, Any]:
    finals = [s.final_latency_s for s in scores]
    firsts = [s.first_text_latency_s for s in scores]
    return {
        "utterances": len(scores),
        "lost": sum(1 for f in finals if f is None),
        "final_p50_s": percentile(finals, 50),
        "final_p95_s": percentile(finals, 95),
        "final_max_s": percentile(finals, 100),
        "first_text_p50_s": percentile(firsts, 50),
        "first_text_p95_s": percentile(firsts, 95),
    }


def clip_latencies(events: list[TranscriptEvent]) -> list[float]:
    """Untimed clips: latency from the end of speech the core detected to the final."""
    return [e.emitted_s - e.end_s for e in events if isinstance(e, FinalTranscript) and e.text]


# -- phases -------------------------------------------------------------------------------------


def phase_offline(
    service: SttService, recordings: list[Recording], cache: Path, *, codec: str = "l16", rate_hz: int = 16000
) -> dict[str, dict[str, str]]:
    """The same model on the same audio (after the same wire path), whole recordings at once."""
    cached: dict[str, dict[str, str]] = json.loads(cache.read_text()) if cache.exists() else {}
    engine = service._engines[service.settings.english_model]
    key_prefix = f"{engine.name}:{OFFLINE_METHOD}:{codec}:{rate_hz}:"
    out = {}
    for index, rec in enumerate(recordings):
        key = key_prefix + rec.name
        if key not in cached:
            audio = wire_roundtrip(rec.audio16, codec, rate_hz)
            cached[key] = {sp: engine.transcribe_offline(audio[:, ch]) for ch, sp in enumerate(rec.speakers)}
            progress(f"offline {codec}/{rate_hz} {index + 1}/{len(recordings)}")
        out[rec.name] = cached[key]
    cache.write_text(json.dumps(cached, indent=1))
    return out


async def phase_accuracy(
    service: SttService, recordings: list[Recording], offline: dict[str, dict[str, str]], *, codec: str, rate_hz: int
) -> dict[str, Any]:
    refs: dict[str, list[str]] = {sp: [] for sp in SPEAKERS}
    hyps: dict[str, list[str]] = {sp: [] for sp in SPEAKERS}
    offs: dict[str, list[str]] = {sp: [] for sp in SPEAKERS}
    lost = total = silence_words = fallbacks = finals = 0
    per_recording = []
    for index, rec in enumerate(recordings):
        events = await stream_recording(service, rec, realtime=False, codec=codec, rate_hz=rate_hz)
        texts = hypothesis_texts(rec, events)
        for sp in rec.speakers:
            refs[sp].append(rec.texts[sp])
            hyps[sp].append(texts[sp])
            offs[sp].append(offline[rec.name][sp])
        if rec.timed:
            scores = score_utterances(rec.references, events)
            lost += sum(1 for s in scores if s.final_latency_s is None)
            total += len(scores)
            silence_words += words_in_silence(rec.references, events)
        finals += sum(1 for e in events if isinstance(e, FinalTranscript))
        fallbacks += sum(1 for e in events if isinstance(e, FinalTranscript) and e.revision > 0)
        per_recording.append({"name": rec.name, "streamed": texts, "offline": offline[rec.name]})
        progress(f"accuracy {codec}/{rate_hz} {index + 1}/{len(recordings)}")
    all_refs = [r for sp in SPEAKERS for r in refs[sp]]
    result: dict[str, Any] = {
        "wire": f"{codec} {rate_hz} Hz",
        "wer_streaming": wer(all_refs, [h for sp in SPEAKERS for h in hyps[sp]]),
        "wer_offline": wer(all_refs, [o for sp in SPEAKERS for o in offs[sp]]),
        "wer_by_speaker": {
            sp: {"streaming": wer(refs[sp], hyps[sp]), "offline": wer(refs[sp], offs[sp])}
            for sp in SPEAKERS
            if refs[sp]
        },
        "lost_utterances": lost,
        "reference_utterances": total,
        "words_in_silence": silence_words,
        "finals": finals,
        "full_window_fallbacks": fallbacks,
    }
    result["per_recording"] = per_recording
    return result


async def phase_realtime_single(service: SttService, calls: list[Recording], clips: list[Recording]) -> dict[str, Any]:
    scores: list[UtteranceScore] = []
    cpu_s = audio_s = 0.0
    for index, rec in enumerate(calls):
        cpu0 = time.process_time()
        events = await stream_recording(service, rec, realtime=True)
        cpu_s += time.process_time() - cpu0
        audio_s += rec.duration_s
        scores.extend(score_utterances(rec.references, events))
        progress(f"real-time call {index + 1}/{len(calls)}")
    clip_lat: list[float] = []
    clip_first: list[float] = []
    for rec in clips:
        events = await stream_recording(service, rec, realtime=True)
        clip_lat.extend(clip_latencies(events))
        first = min((e.emitted_s - e.start_s for e in events if e.text), default=None)
        if first is not None:
            clip_first.append(first)
    progress("real-time clips done")
    return {
        "calls": len(calls),
        "call_audio_s": audio_s,
        **summarise_latency(scores),
        "cpu_core_s_per_call_s": cpu_s / audio_s if audio_s else None,
        "clips": len(clips),
        "clip_final_after_speech_end_p50_s": percentile(clip_lat, 50),
        "clip_final_after_speech_end_p95_s": percentile(clip_lat, 95),
        "clip_first_text_p50_s": percentile(clip_first, 50),
        "final_latencies_s": [s.final_latency_s for s in scores if s.final_latency_s is not None],
        "first_text_latencies_s": [s.first_text_latency_s for s in scores if s.first_text_latency_s is not None],
    }


async def phase_concurrency(
    service: SttService, calls: list[Recording], levels: list[int], stagger_s: float
) -> list[dict[str, Any]]:
    results = []
    for level in levels:
        chosen = [calls[i % len(calls)] for i in range(level)]
        stats0 = asdict(service.scheduler.stats)
        rss0 = rss_mb()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        peak = [rss0]

        async def sample(peak: list[float] = peak) -> None:
            while True:
                peak[0] = max(peak[0], rss_mb())
                await asyncio.sleep(0.5)

        async def one(i: int, rec: Recording, level: int = level) -> list[UtteranceScore]:
            await asyncio.sleep(i * stagger_s)
            events = await stream_recording(service, rec, realtime=True, call_id=f"{rec.name}#{level}.{i}")
            return score_utterances(rec.references, events)

        sampler = asyncio.create_task(sample())
        per_call = await asyncio.gather(*(one(i, rec) for i, rec in enumerate(chosen)))
        sampler.cancel()
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        stats1 = asdict(service.scheduler.stats)
        scores = [s for call in per_call for s in call]
        audio_s = sum(rec.duration_s for rec in chosen)
        results.append(
            {
                "calls": level,
                **summarise_latency(scores),
                "cpu_core_s_per_call_s": cpu_s / audio_s,
                "cpu_cores_busy": cpu_s / wall_s,
                "rss_start_mb": rss0,
                "rss_peak_mb": peak[0],
                "interims_done": stats1["interims_done"] - stats0["interims_done"],
                "interims_thinned": (stats1["interims_superseded"] + stats1["interims_stale"])
                - (stats0["interims_superseded"] + stats0["interims_stale"]),
            }
        )
        progress(
            f"concurrency {level}: final p50 {results[-1]['final_p50_s']:.2f} s, p95 {results[-1]['final_p95_s']:.2f} s"
        )
    return results


async def phase_long_call(service: SttService, calls: list[Recording], minutes: float) -> dict[str, Any]:
    parts, total = [], 0
    target = int(minutes * 60 * 16000)
    while total < target:
        for rec in calls:
            parts.append(rec.audio16)
            total += len(rec.audio16)
            if total >= target:
                break
    audio = np.concatenate(parts)[:target]
    samples: list[tuple[float, float]] = []
    fmt = AudioFormat("l16", 16000, 2)
    call_events: list[TranscriptEvent] = []
    # Stream in slices so RSS can be sampled against audio time.
    started = rss_mb()
    step = 30 * 16000
    from assist.audio.frontend import CallAudio

    call = service.new_call("long-call")
    front = CallAudio(fmt, SPEAKERS)
    for begin in range(0, len(audio), 1600):
        for speaker, samples16 in front.decode(encode_pcm(audio[begin : begin + 1600], fmt)).items():
            await call.push(speaker, samples16)
        await call.drain()
        while not call.events.empty():
            call_events.append(call.events.get_nowait())
        if begin % step == 0:
            samples.append((begin / 16000, rss_mb()))
    await call.finish()
    samples.append((len(audio) / 16000, rss_mb()))
    after_first_minute = next((r for t, r in samples if t >= 60), samples[0][1])
    progress("long call done")
    return {
        "audio_s": len(audio) / 16000,
        "rss_before_mb": started,
        "rss_after_1min_mb": after_first_minute,
        "rss_end_mb": samples[-1][1],
        "growth_after_1min_mb": samples[-1][1] - after_first_minute,
        "finals": sum(1 for e in call_events if isinstance(e, FinalTranscript)),
        "rss_samples": samples,
    }


# -- reporting ----------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[bench-stt {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def environment(settings: SttSettings) -> dict[str, Any]:
    cpu = describe_cpu().kind
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    import ctranslate2
    import onnxruntime

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "ctranslate2": ctranslate2.__version__,
        "onnxruntime": onnxruntime.__version__,
        "commit": commit,
        "model": f"{settings.english_model} {settings.compute_type} ({settings.device}, {settings.cpu_threads} threads)",
        "settings": {k: v for k, v in asdict(settings).items() if k != "endpoint"},
        "endpoint": asdict(settings.endpoint),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def plot(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    single = results.get("realtime_single")
    if single:
        fig, ax = plt.subplots(figsize=(7, 4))
        for key, label in (
            ("final_latencies_s", "end of utterance → final"),
            ("first_text_latencies_s", "start of utterance → first text"),
        ):
            data = np.sort(np.array(single[key]))
            if len(data):
                ax.plot(data, np.arange(1, len(data) + 1) / len(data), label=label)
        ax.axvline(0.6, color="grey", linestyle=":", label="final target p50 0.6 s")
        ax.set_xlabel("seconds")
        ax.set_ylabel("fraction of utterances")
        ax.set_title("Latency, one call at real-time pace (CDF)")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "latency_cdf.png", dpi=110)
        files.append("latency_cdf.png")
        plt.close(fig)
    sweep = results.get("concurrency")
    if sweep:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        n = [r["calls"] for r in sweep]
        ax1.plot(n, [r["final_p50_s"] for r in sweep], "o-", label="final p50")
        ax1.plot(n, [r["final_p95_s"] for r in sweep], "s-", label="final p95")
        ax1.plot(n, [r["first_text_p50_s"] for r in sweep], "^-", label="first text p50")
        ax1.axhline(2.0, color="grey", linestyle=":", label="p95 limit 2 s")
        ax1.set_xlabel("simultaneous two-speaker calls")
        ax1.set_ylabel("seconds")
        ax1.legend()
        ax1.grid(alpha=0.3)
        ax2.plot(n, [r["cpu_core_s_per_call_s"] for r in sweep], "o-", label="CPU core-s per call-s")
        ax2.plot(n, [r["cpu_cores_busy"] for r in sweep], "s-", label="cores busy")
        ax2.set_xlabel("simultaneous two-speaker calls")
        ax2.legend()
        ax2.grid(alpha=0.3)
        fig.suptitle("Concurrency sweep (real-time pace)")
        fig.tight_layout()
        fig.savefig(out / "concurrency.png", dpi=110)
        files.append("concurrency.png")
        plt.close(fig)
    long_call = results.get("long_call")
    if long_call:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        t, r = zip(*long_call["rss_samples"], strict=True)
        ax.plot(np.array(t) / 60, r, "o-")
        ax.set_xlabel("call audio processed (minutes)")
        ax.set_ylabel("process RSS (MB)")
        ax.set_title("Memory over one long call")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "rss_long_call.png", dpi=110)
        files.append("rss_long_call.png")
        plt.close(fig)
    return files


def fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def markdown(results: dict[str, Any], command: str, out: Path, doc: Path) -> str:
    env = results["environment"]
    lines = [
        DOC_BEGIN,
        "## Speech core (`make bench-stt`)",
        "",
        f"Command: `{command}`. Machine: {env['cpu']}, {env['cores']} cores; model {env['model']}; "
        f"commit {env['commit']}; {env['date']}. Raw results: `{os.path.relpath(out / 'results.json', doc.parent)}`.",
        "",
    ]
    single = results.get("realtime_single")
    sweep = results.get("concurrency") or []
    four = next((r for r in sweep if r["calls"] == 4), None)
    if single:
        lines += [
            "| metric | target | measured |",
            "|---|---|---|",
            f"| final latency p50, 1 call ({single['utterances']} utterances, {single['calls']} calls) | ≤ 0.6 s | {fmt_s(single['final_p50_s'])} |",
            f"| final latency p95, 1 call | ≤ 1.2 s | {fmt_s(single['final_p95_s'])} |",
            f"| final latency p95, 4 simultaneous calls | ≤ 2.0 s | {fmt_s(four['final_p95_s']) if four else 'n/a'} |",
            f"| first text after speech starts, p50 | ≤ 1.0 s | {fmt_s(single['first_text_p50_s'])} |",
        ]
    for acc in results.get("accuracy", []):
        lines.append(
            f"| WER streaming vs offline, {acc['wire']} | ≤ offline + 1.0 | "
            f"{acc['wer_streaming'] * 100:.2f} % vs {acc['wer_offline'] * 100:.2f} % |"
        )
    acc0 = (results.get("accuracy") or [None])[0]
    if acc0:
        lines += [
            f"| lost utterances | 0 | {acc0['lost_utterances']} of {acc0['reference_utterances']} |",
            f"| words emitted during silence | 0 | {acc0['words_in_silence']} |",
        ]
    if single:
        lines.append(
            f"| CPU core-seconds per second of two-speaker call | ≤ 0.3 | {single['cpu_core_s_per_call_s']:.3f} |"
        )
    if sweep:
        one = sweep[0]
        extra = (sweep[-1]["rss_peak_mb"] - one["rss_peak_mb"]) / max(1, sweep[-1]["calls"] - one["calls"])
        lines.append(f"| process RSS (peak, 1 call) | ≤ 600 MB | {one['rss_peak_mb']:.0f} MB |")
        lines.append(f"| RSS per extra call | ≤ 20 MB | {extra:.1f} MB |")
    long_call = results.get("long_call")
    if long_call:
        lines.append(
            f"| RSS growth over a {long_call['audio_s'] / 60:.0f}-minute call (after minute 1) | none | "
            f"{long_call['growth_after_1min_mb']:+.1f} MB |"
        )
    if sweep:
        lines += [
            "",
            "Concurrency sweep (real-time pace, staggered starts):",
            "",
            "| calls | final p50 | final p95 | first text p50 | CPU core-s / call-s | cores busy | peak RSS | interims thinned |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in sweep:
            lines.append(
                f"| {r['calls']} | {fmt_s(r['final_p50_s'])} | {fmt_s(r['final_p95_s'])} | {fmt_s(r['first_text_p50_s'])} | "
                f"{r['cpu_core_s_per_call_s']:.3f} | {r['cpu_cores_busy']:.2f} | {r['rss_peak_mb']:.0f} MB | "
                f"{r['interims_thinned']} of {r['interims_done'] + r['interims_thinned']} |"
            )
    if single:
        lines += [
            "",
            f"Real human speech clips ({single['clips']}, one at a time, real time): final "
            f"{fmt_s(single['clip_final_after_speech_end_p50_s'])} p50 / {fmt_s(single['clip_final_after_speech_end_p95_s'])} p95 "
            "after the end of speech the core detected; first text "
            f"{fmt_s(single['clip_first_text_p50_s'])} p50 after speech start.",
        ]
    for acc in results.get("accuracy", []):
        by = acc["wer_by_speaker"]
        lines.append("")
        lines.append(
            f"WER by speaker over {acc['wire']}: "
            + "; ".join(
                f"{sp} {v['streaming'] * 100:.2f} % streaming / {v['offline'] * 100:.2f} % offline"
                for sp, v in by.items()
            )
            + f". Full-window re-decodes: {acc['full_window_fallbacks']} of {acc['finals']} finals."
        )
    plots = results.get("plots", [])
    if plots:
        lines.append("")
        lines += [f"![{p}]({os.path.relpath(out / p, doc.parent)})" for p in plots]
    lines += ["", DOC_END]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    settings = SttSettings()
    service = SttService(settings)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    calls = load_calls(args.calls)
    clips = load_clips() if args.clips else []
    previous = out / "results.json"
    results: dict[str, Any] = json.loads(previous.read_text()) if args.merge and previous.exists() else {}
    results["environment"] = environment(settings)
    try:
        if "accuracy" in args.phases:
            cache = out / "offline_cache.json"
            offline = phase_offline(service, calls + clips, cache)
            offline_pcmu = phase_offline(service, calls, cache, codec="pcmu", rate_hz=8000)
            results["accuracy"] = [
                await phase_accuracy(service, calls + clips, offline, codec="l16", rate_hz=16000),
                await phase_accuracy(service, calls, offline_pcmu, codec="pcmu", rate_hz=8000),
            ]
        if "realtime" in args.phases:
            results["realtime_single"] = await phase_realtime_single(service, calls[: args.realtime_calls], clips)
        if "concurrency" in args.phases:
            results["concurrency"] = await phase_concurrency(service, calls, args.levels, args.stagger_s)
        if "memory" in args.phases:
            results["long_call"] = await phase_long_call(service, calls, args.long_call_min)
    finally:
        service.close()
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results" / "stt")
    parser.add_argument("--doc", type=Path, default=None, help="markdown file to update")
    parser.add_argument("--calls", type=int, default=None, help="use the first N calls (default all)")
    parser.add_argument("--realtime-calls", type=int, default=6, help="calls streamed one at a time in real time")
    parser.add_argument("--no-clips", dest="clips", action="store_false")
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 6, 8])
    parser.add_argument("--stagger-s", type=float, default=2.0)
    parser.add_argument("--long-call-min", type=float, default=10.0)
    parser.add_argument("--phases", default="accuracy,realtime,concurrency,memory")
    parser.add_argument("--merge", action="store_true", help="keep the other phases' results from the last run")
    args = parser.parse_args(argv)
    args.phases = set(args.phases.split(","))
    if not DATA.exists():
        print(f"error: shared data not found at {DATA}", file=sys.stderr)
        return 2
    results = asyncio.run(main_async(args))
    results["plots"] = plot(results, args.out)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    command = "make bench-stt" if argv is None else "python -m assist.bench.stt " + " ".join(argv)
    section = markdown(
        results,
        "python -m assist.bench.stt " + " ".join(sys.argv[1:]) if argv is None else command,
        args.out,
        args.doc or args.out / "summary.md",
    )
    (args.out / "summary.md").write_text(section + "\n")
    if args.doc:
        replace_section(args.doc, section, DOC_BEGIN, DOC_END)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
