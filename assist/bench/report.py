"""Writing a benchmark out: results.json (with the environment), summary.md, plots/*.png, and the
marked section of docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

from assist.bench import plots
from assist.bench.dataset import REPO_ROOT
from assist.bench.docfile import replace_section
from assist.bench.reference import cpu_model

DOC_BEGIN, DOC_END = "<!-- bench:begin -->", "<!-- bench:end -->"
SCHEMA = 1


# -- environment -------------------------------------------------------------------------------


def _run(*command: str) -> str:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def gpu() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    out = _run("nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader")
    return out.splitlines()[0] if out else None


def environment(results: dict[str, Any]) -> dict[str, Any]:
    import ctranslate2
    import faster_whisper
    import onnxruntime

    model = results.get("reference", {}).get("model", {})
    commit = _run("git", "rev-parse", "--short", "HEAD")
    dirty = bool(_run("git", "status", "--porcelain", "--untracked-files=no"))
    server_stt = results.get("server", {}).get("stt") or {}
    cpu = server_stt.get("cpu") or {}
    return {
        "cpu": cpu_model(),
        # What the server's decoder runs on: ISA path (AVX2 / AVX-512 / VNNI) and matrix backend.
        "cpu_kind": cpu.get("kind"),
        "interim_interval_ms": server_stt.get("interim_interval_ms"),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": gpu(),
        "python": platform.python_version(),
        "ctranslate2": ctranslate2.__version__,
        "faster_whisper": faster_whisper.__version__,
        "onnxruntime": onnxruntime.__version__,
        "commit": commit + ("+changes" if dirty else ""),
        "model": model_line(model, results.get("server", {}).get("stt") or {}),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def model_line(reference_model: dict[str, Any], server_stt: dict[str, Any]) -> str:
    """'tiny.en int8 (cpu, 2 workers × 1 thread)': the server's own account when it gave one."""
    m = server_stt or reference_model
    threads = m.get("cpu_threads")
    models = m.get("models") or [m.get("model")]  # every loaded one: tiny.en for English, base for the rest
    line = f"{' + '.join(str(name) for name in models)} {m.get('compute_type')} ({m.get('device')}, "
    if server_stt.get("workers"):
        line += f"{server_stt['workers']} decode workers × "
    return line + f"{threads} thread{'s' if threads != 1 else ''})"


# -- JSON --------------------------------------------------------------------------------------------


def clean(value: Any) -> Any:
    """JSON-safe and compact: non-finite floats become null, floats keep 5 significant digits
    (per-frame stage times are microseconds: fixed decimals would erase them)."""
    if isinstance(value, float):
        return float(f"{value:.5g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


# -- markdown ------------------------------------------------------------------------------------


def s(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} s"


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    milli = value * 1000
    if abs(milli) < 0.1:
        return f"{milli * 1000:.0f} µs"
    return f"{milli:.2f} ms" if milli < 1 else f"{milli:.1f} ms" if milli < 10 else f"{milli:.0f} ms"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f} %"


def _row(label: str, st: dict[str, Any], fmt: Any = s, extra: str = "") -> str:
    return (
        f"| {label} | {st.get('n', 0)} | {fmt(st.get('p50'))} | {fmt(st.get('p95'))} | {fmt(st.get('max'))} | {extra} |"
    )


STAGES = (
    ("audio_decode", "audio decode (wire codec → PCM), per frame", "histogram"),
    ("audio_resample", "resample to 16 kHz, per frame", "histogram"),
    ("audio_vad", "VAD + endpointing, per speaker chunk", "histogram"),
    ("endpoint", "endpoint: end of speech → utterance closed (call audio time)", "final"),
    ("queue", "recognition queue wait", "final"),
    ("recognition", "recognition (Whisper encode + decode + word times)", "final"),
    ("server_total", "server total: end of speech → final emitted", "final"),
    ("match", "knowledge match (per card)", "card"),
    ("guidance_wait", "guidance queue wait (transcript out → guidance starts)", "histogram"),
    ("guidance", "guidance step (match, offers, signals; every transcript)", "histogram"),
    ("push", "push: published → received on the agent's sidebar", "message"),
)


def _main_section(results: dict[str, Any]) -> list[str]:
    main = results["main"]
    ref = results["reference"]
    opts = results["options"]
    lat = main["latency"]
    floor = main["floor"]
    floor_final = floor["final_latency_s"]
    compute = floor["compute_s"]
    pace = "real time" if opts["speed"] == 1 else f"{opts['speed']:g}× real time"
    lines = [
        f"### Main run: {main['calls']} calls ({main['audio_s']:.0f} s of audio), {opts['protocol']} ({ref['wire']}), "
        f"{main['concurrency']} at once, starts staggered by {main['stagger_s']:g} s, {pace}",
        "",
        "Latency at the client (the figure an agent sees), and the reference line: the floor is the "
        f"endpointer's closing silence ({ref['endpoint_silence_s']:.2f} s) plus the model's compute time for the same "
        "utterance decoded alone.",
        "",
        "| measure | n | p50 | p95 | max | reference |",
        "|---|---|---|---|---|---|",
        _row(
            f"end of utterance → its final ({main['lost']} of {main['utterances']} lost)",
            lat["final_s"],
            extra=f"floor p50 {s(floor_final['p50'])}, p95 {s(floor_final['p95'])}; "
            f"distance p50 {_dist(lat['final_s']['p50'], floor_final['p50'])}",
        ),
        *(
            [
                _row(
                    f"… the same without the {main['merged']} merged into the speaker's next utterance",
                    lat["final_unmerged_s"],
                    extra="merged: the pause before the next one was too short to end an utterance, "
                    "so the final came after that one",
                )
            ]
            if main.get("merged")
            else []
        ),
        _row("start of utterance → first text", lat["first_text_s"]),
        _row("audio sent → the interim showing it", lat["interim_lag_s"]),
        _row(
            "end of the customer's intent utterance → right card on the sidebar",
            lat["card_s"],
            extra="below 0: the card came from an interim, before the customer finished",
        ),
        "",
        "Per stage, from the server's own timestamps (per-frame stages from its /metrics histograms, "
        "so their percentiles are bucket estimates):",
        "",
        "| stage | n | p50 | p95 | max | reference |",
        "|---|---|---|---|---|---|",
    ]
    for key, label, _ in STAGES:
        st = main["stages"].get(key)
        if not st:
            continue
        extra = ""
        if key == "recognition":
            extra = f"compute alone p50 {ms(compute['p50'])}, p95 {ms(compute['p95'])}"
        elif key == "endpoint":
            extra = f"configured silence {ms(ref['endpoint_silence_s'])}"
        elif key.startswith("audio_") or key.startswith("guidance"):
            extra = f"mean {ms(st.get('mean'))}"
        lines.append(_row(label, st, ms, extra))
    wer_s, wer_o = main["wer"]["streaming"], main["wer"]["offline"]
    unit = main.get("wer_unit", "WER")
    how = "characters, simplified, numbers as digits" if unit == "CER" else "Whisper normaliser"
    lines += [
        "",
        f"| {unit} ({how}) | streaming | offline, same model (ceiling) | distance |",
        "|---|---|---|---|",
    ]
    for speaker in [k for k in wer_s if k != "overall"] + ["overall"]:
        lines.append(
            f"| {speaker} | {pct(wer_s.get(speaker))} | {pct(wer_o.get(speaker))} | "
            f"{_pts(wer_s.get(speaker), wer_o.get(speaker))} |"
        )
    cards = main["cards"]
    res = main["resources"]
    errors = main["errors"]
    dropped = main["dropped"]
    lines += [
        "",
        f"Knowledge cards: the right article reached the agent on **{cards['right']} of {cards['calls']}** calls; "
        f"{cards['unrelated_per_call']:.2f} unrelated cards per call ({cards['unrelated_total']} in all)."
        if cards["unrelated_per_call"] is not None
        else "Knowledge cards: none measured.",
        *_agent_screen(main),
        "",
        f"Server: {_f(res.get('server_cores_busy'))} cores busy on average, "
        f"{_f(res.get('server_cpu_s_per_call_s'), 3)} CPU core-s per second of call audio, RSS "
        f"{_f(res.get('rss_start_mb'), 0)} → peak {_f(res.get('rss_peak_mb'), 0)} MB; the harness itself used "
        f"{_f(res.get('client_cores_busy'))} cores"
        + (
            f"; GPU {_f(res.get('gpu_util_mean'), 0)} % busy, {_f(res.get('gpu_mem_peak_mb'), 0)} MB peak"
            if res.get("gpu_util_mean") is not None
            else ""
        )
        + f". Errors: {errors['calls_with_errors']} calls with errors, "
        f"{errors['refused_calls']} refused, server {errors.get('server') or 'none'}. Dropped: "
        f"{dropped['sidebar_finals_missing']} finals missing on the sidebar, {dropped.get('sidebar_overflows', 0):.0f} "
        f"sidebar overflows, {dropped.get('interims_thinned', 0):.0f} interims thinned under load (not decoded), "
        f"{dropped.get('sidebar_interims_coalesced', 0):.0f} replaced by a newer one before a sidebar took them.",
    ]
    return lines + _per_call_table(main)


def _per_call_table(main: dict[str, Any]) -> list[str]:
    calls = main.get("per_call") or []
    if not calls:
        return []
    unit = main.get("wer_unit", "WER")
    lines = [
        "",
        "<details><summary>Per call</summary>",
        "",
        f"| call | intent | length | utterances | lost | final p50 | p95 | max | {unit} customer (offline) | "
        f"{unit} agent (offline) | right card after | unrelated cards | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in calls:
        final, wer = c["final_latency_s"], c["wer"]

        def w(speaker: str, wer: dict[str, Any] = wer) -> str:
            entry = wer.get(speaker) or {}
            return f"{pct(entry.get('streaming'))} ({pct(entry.get('offline'))})"

        card = s(c["card_latency_s"]) if c["right_card"] else "missed"
        lines.append(
            f"| {c['call']} | {', '.join(c['intents'])} | {c['duration_s']:.0f} s | {c['utterances']} | {c['lost']} | "
            f"{s(final['p50'])} | {s(final['p95'])} | {s(final['max'])} | {w('customer')} | {w('agent')} | {card} | "
            f"{c['unrelated_cards']} | {len(c['errors'])} |"
        )
    return [*lines, "", "</details>"]


def _f(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _dist(value: float | None, limit: float | None) -> str:
    return "n/a" if value is None or limit is None else f"{value - limit:+.2f} s"


def _pts(value: float | None, limit: float | None) -> str:
    return "n/a" if value is None or limit is None else f"{(value - limit) * 100:+.2f} pts"


def _sweep_section(results: dict[str, Any]) -> list[str]:
    sweep = results.get("sweep")
    if not sweep:
        return []
    device = results["options"]["device"]
    lines = [
        "",
        f"### Capacity: simultaneous calls until p95 final latency passes {sweep['limit_s']:g} s ({device.upper()})",
        "",
        f"Each level: N calls cut to {sweep['window_s']:g} s, starts staggered by "
        + (f"{sweep['stagger_s']:g} s. " if sweep["stagger_s"] is not None else "min(1 s, window / 4N). ")
        + f"Rule: {sweep['rule']}.",
        "",
        "| calls at once | utterances | final p50 | final p95 | max | lost | first text p50 | recognition p95 | "
        "queue p95 | server cores busy | CPU core-s / call-s | peak RSS | interims thinned | windows shed | |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in sweep["levels"]:
        lat, st, res = level["latency"], level["stages"], level["resources"]
        lines.append(
            f"| {level['calls_at_once']} | {level['utterances']} | {s(lat['final_s']['p50'])} | "
            f"{s(lat['final_s']['p95'])} | {s(lat['final_s']['max'])} | {level['lost']} | "
            f"{s(lat['first_text_s']['p50'])} | {ms(st['recognition']['p95'])} | {ms(st['queue']['p95'])} | "
            f"{_f(res.get('server_cores_busy'))} | {_f(res.get('server_cpu_s_per_call_s'), 3)} | "
            f"{_f(res.get('rss_peak_mb'), 0)} MB | {level['dropped'].get('interims_thinned', 0):.0f} | "
            f"{_f((level.get('server_counters') or {}).get('revisions_shed'), 0)} | "
            f"{'✓' if level['passed'] else '✗'} |"
        )
    if not any(level["passed"] for level in sweep["levels"]):
        verdict = f"**No level tried stayed under {sweep['limit_s']:g} s** ({device}); try lower `--sweep-levels`."
    elif sweep.get("limit_reached", True):
        verdict = (
            f"**Highest sustainable: {sweep['sustainable_calls']} simultaneous calls** with p95 final latency ≤ "
            f"{sweep['limit_s']:g} s on this machine ({device})."
        )
    else:
        verdict = (
            f"**At least {sweep['sustainable_calls']} simultaneous calls** with p95 final latency ≤ "
            f"{sweep['limit_s']:g} s ({device}): every level tried stayed under the limit; try higher `--sweep-levels`."
        )
    lines += ["", verdict]
    return lines


def markdown(results: dict[str, Any], *, command: str, link_prefix: str, raw_path: str) -> str:
    env = results["environment"]
    machine = f"{env.get('cpu_kind') or env['cpu']}, {env['cores']} cores, {env['memory_gb']} GB" + (
        f", GPU {env['gpu']}" if env["gpu"] else ""
    )
    if env.get("interim_interval_ms"):
        machine += f" (interims every {env['interim_interval_ms']} ms, calibrated at start)"
    lines = [
        DOC_BEGIN,
        "## End to end through the server (`make bench`)",
        "",
        f"Command: `{command}`. Machine: {machine}; model {env['model']}; commit {env['commit']}; {env['date']}; "
        f"the whole benchmark took {results['duration_s'] / 60:.1f} min. Raw results: `{raw_path}`.",
        "",
        "The server runs in its own process, started by the harness (`python -m assist.bench`); calls are replayed "
        "into it over websockets as a platform would send them while each call's agent sidebar is watched on its own "
        "socket. A latency is measured from the moment the audio it is about left the client to the moment the event "
        "arrived (same machine, one clock).",
        "",
        *_main_section(results),
        *_sweep_section(results),
    ]
    images = results.get("plots", [])
    if images:
        lines.append("")
        lines += [f"![{Path(p).stem}]({link_prefix}{p})" for p in images]
    lines += ["", DOC_END]
    return "\n".join(lines)


def write(
    results: dict[str, Any], out: Path, *, command: str, doc: Path | None = None, record: Path | None = None
) -> str:
    """results.json, plots/, summary.md under ``out``; with ``doc``, its section and a copy of
    the JSON and plots under ``record`` for the record. Returns the markdown section."""
    out.mkdir(parents=True, exist_ok=True)
    results["schema"] = SCHEMA
    results["command"] = command
    results.setdefault("environment", environment(results))
    results.update(clean(results))  # the report shows exactly what the JSON holds
    results["plots"] = plots.draw(results, out / "plots")
    (out / "results.json").write_text(json.dumps(results, indent=1, allow_nan=False))
    section = markdown(results, command=command, link_prefix="", raw_path="results.json")
    (out / "summary.md").write_text(section + "\n")
    if doc is not None:
        record = record or doc.parent / "bench" / "harness"
        if record.exists():
            shutil.rmtree(record / "plots", ignore_errors=True)
        (record / "plots").mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / "results.json", record / "results.json")
        for image in results["plots"]:
            shutil.copy2(out / image, record / image)
        prefix = os.path.relpath(record, doc.parent) + "/"
        section = markdown(results, command=command, link_prefix=prefix, raw_path=prefix + "results.json")
        replace_section(doc, section, DOC_BEGIN, DOC_END)
    return section


def _agent_screen(main: dict[str, Any]) -> list[str]:
    """The pinned answer and the proposed wrap-up code (older results lack them)."""
    pinned, disposition = main.get("pinned"), main.get("disposition")
    if not pinned or not disposition:
        return []
    latency = pinned["latency_s"]
    return [
        "",
        f"Pinned answer: the right article was pinned on **{pinned['right']} of {pinned['calls']}** calls, "
        f"**{pinned['right_within_1s']}** within 1 s of the end of the intent utterance (p50 "
        f"{_f(latency.get('p50'))} s, p95 {_f(latency.get('p95'))} s), and stayed pinned to the end on "
        f"**{pinned['right_and_stayed']}**. Wrap-up code proposed correctly on **{disposition['right']} of "
        f"{disposition['judged']}** calls.",
    ]
