"""``python -m assist.bench.audiohook``: latency as a Genesys platform sees it.

Starts the server (or targets ``--url``), streams shared calls through AudioHook (PCMU 8 kHz
stereo, 200 ms frames, real-time pace, staggered starts) and measures, from the client's side,
the end of each reference utterance → the ``transcript`` event with its final text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from assist.bench.clients import AudioHookClient
from assist.bench.dataset import REPO_ROOT, Recording, load_calls
from assist.bench.launcher import AUDIOHOOK_KEY, ServerOptions, ServerProcess
from assist.bench.scoring import percentile, score_utterances
from assist.bench.stt import DOC_END
from assist.events import SPEAKERS, FinalTranscript, SttTimings
from assist.ingest.audiohook import parse_duration

DOC_BEGIN_AH, DOC_END_AH = "<!-- bench-audiohook:begin -->", "<!-- bench-audiohook:end -->"
API_KEY = AUDIOHOOK_KEY


def finals_from_events(messages: list[tuple[float, dict[str, Any]]]) -> list[FinalTranscript]:
    """AudioHook transcript entities → FinalTranscript with emitted_s = client receive time."""
    finals = []
    dummy = SttTimings(0, 0, 0, 0, 1, 0)
    for at, message in messages:
        if message.get("type") != "event":
            continue
        for entity in message["parameters"]["entities"]:
            data = entity["data"]
            if entity["type"] != "transcript" or not data["isFinal"]:
                continue
            start = parse_duration(data["offset"])
            text = data["alternatives"][0]["interpretations"][0]["transcript"]
            finals.append(
                FinalTranscript(
                    SPEAKERS[data["channelId"]],
                    0,
                    start,
                    start + parse_duration(data["duration"]),
                    text,
                    at,
                    dummy,
                    "en",
                    1.0,
                )
            )
    return finals


async def run_level(url: str, calls: list[Recording], level: int, stagger_s: float) -> dict[str, Any]:
    async def one(index: int, rec: Recording) -> list[Any]:
        await asyncio.sleep(index * stagger_s)
        result = await AudioHookClient(url, api_key=API_KEY).stream(rec.audio16, ani="+12025550143", speed=1.0)
        return score_utterances(rec.references, finals_from_events(result.messages))

    chosen = [calls[i % len(calls)] for i in range(level)]
    scores = [s for call in await asyncio.gather(*(one(i, r) for i, r in enumerate(chosen))) for s in call]
    latencies = [s.final_latency_s for s in scores]
    return {
        "calls": level,
        "utterances": len(scores),
        "lost": sum(1 for x in latencies if x is None),
        "final_p50_s": percentile(latencies, 50),
        "final_p95_s": percentile(latencies, 95),
        "final_max_s": percentile(latencies, 100),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=None, help="ws://host:port/audiohook of a running server (key: bench-audiohook-key)"
    )
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4])
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--stagger-s", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "bench" / "audiohook")
    parser.add_argument("--doc", type=Path, default=None)
    args = parser.parse_args(argv)
    calls = load_calls(args.calls)
    if args.url is not None:
        results = [asyncio.run(run_level(args.url, calls, level, args.stagger_s)) for level in args.levels]
    else:
        with tempfile.TemporaryDirectory() as tmp, ServerProcess(ServerOptions(), Path(tmp) / "server.log") as target:
            url = f"{target.ws}/audiohook"
            results = [asyncio.run(run_level(url, calls, level, args.stagger_s)) for level in args.levels]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    lines = [
        DOC_BEGIN_AH,
        "## Through AudioHook (`python -m assist.bench.audiohook`)",
        "",
        f"The server in its own process, {args.calls} shared calls streamed by an AudioHook client as Genesys does "
        "(PCMU 8 kHz stereo, 200 ms frames, pings every 5 s, real time, starts staggered by "
        f"{args.stagger_s:g} s); latency = end of each reference utterance → the final `transcript` event at the client.",
        "",
        "| simultaneous calls | utterances | final p50 | final p95 | max | lost |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['calls']} | {r['utterances']} | {r['final_p50_s']:.2f} s | {r['final_p95_s']:.2f} s | "
            f"{r['final_max_s']:.2f} s | {r['lost']} |"
        )
    lines += ["", DOC_END_AH]
    section = "\n".join(lines)
    if args.doc:
        text = args.doc.read_text() if args.doc.exists() else "# Benchmarks\n"
        if DOC_BEGIN_AH in text:
            head, rest = text.split(DOC_BEGIN_AH, 1)
            text = head + section + rest.split(DOC_END_AH, 1)[1]
        else:
            text = text.replace(DOC_END, DOC_END + "\n\n" + section, 1) if DOC_END in text else text + "\n" + section
        args.doc.write_text(text)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
