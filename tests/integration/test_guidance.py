"""Guidance with the real encoders and knowledge bases: cards, offers and alerts reach the agent
(sidebar, native client, AudioHook agentassist), Chinese matching, reload without restart."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from assist.bench.clients import AudioHookClient, StreamResult
from assist.guidance.engine import GuidanceService
from assist.knowledge.corpus import KnowledgeError
from tests.conftest import ARTIFACTS, AUDIOHOOK_KEY, REPO_ROOT, LiveServer, stream_watched

pytestmark = pytest.mark.model
PATRICIA = "+12025550143"  # gold, frequent traveller, in kb/bank/customers.csv


@pytest.fixture(scope="module")
def lost_card_call(shared_data: Path) -> np.ndarray:
    audio, _ = sf.read(shared_data / "calls" / "0002f70f7386445b.flac", dtype="float32")
    return audio[: 16000 * 24]  # "... I lost my debit card. Can you send me a new one?"


async def test_card_offer_and_profile_reach_the_sidebar(live_server: LiveServer, lost_card_call: np.ndarray) -> None:
    result, sidebar = await stream_watched(
        live_server, lost_card_call, agent_id="agent-g", call_id="guid-1", caller_number=PATRICIA, speed=2.0
    )
    started = sidebar.of_type("call_started")[0]
    assert started["caller"]["name"] == "Patricia Brown" and started["caller"]["segment"] == "gold"
    cards = sidebar.of_type("suggestion")
    assert cards and cards[0]["intent"] == "replace card", [c["intent"] for c in cards]
    card = cards[0]
    assert {"card_id", "title", "answer", "confidence", "source", "trigger"} <= card.keys()
    assert "debit card" in card["trigger"]["text"].lower()
    offers = sidebar.of_type("offer")
    assert offers and all(o["card_id"].startswith("offer:") for o in offers)
    # The native client got the same guidance on its own socket.
    assert [c["card_id"] for c in result.of_type("suggestion")] == [c["card_id"] for c in cards]


async def test_audiohook_gets_agentassist_entities(live_server: LiveServer, lost_card_call: np.ndarray) -> None:
    client = AudioHookClient(f"{live_server.ws}/audiohook", api_key=AUDIOHOOK_KEY)

    def card_sent(result: StreamResult) -> bool:  # a busy machine decodes late: the line stays open till then
        return any(e["type"] == "agentassist" for m in result.of_type("event") for e in m["parameters"]["entities"])

    result = await client.stream(lost_card_call, ani=PATRICIA, speed=2.0, hold_until=card_sent, hold_max_s=120)
    entities = [e for m in result.of_type("event") for e in m["parameters"]["entities"]]
    assist = [e["data"] for e in entities if e["type"] == "agentassist"]
    assert assist, [e["type"] for e in entities]
    suggestion = assist[0]["suggestions"][0]
    assert suggestion["type"] == "article" and suggestion["id"] == "replace-card"
    assert {"confidence", "title", "excerpts", "documentUri"} <= suggestion.keys()


async def test_churn_and_escalation_alerts(live_server: LiveServer, guidance_service: GuidanceService) -> None:
    call = guidance_service.new_call(language="en", caller_number=PATRICIA)
    messages = call.on_transcript(
        {
            "type": "final",
            "speaker": "customer",
            "utterance_id": 1,
            "start_s": 1.0,
            "end_s": 4.0,
            "text": "This is ridiculous, I want to close my account and move my money to another bank.",
        }
    )
    kinds = {(m["type"], m.get("kind")) for m in messages}
    assert ("signal", "churn") in kinds
    assert any(m["type"] == "offer" and m["trigger"] == "churn" for m in messages)  # retention offer


def test_chinese_matching_on_the_telecom_knowledge_base(guidance_service: GuidanceService) -> None:
    telecom = GuidanceService(REPO_ROOT / "kb" / "telecom", ARTIFACTS / "kb-cache", encoders=guidance_service.encoders)
    hits = telecom.matcher.match("我下个月要去泰国出差，手机怎么开通国际漫游", language="zh")
    assert hits and hits[0].article.id == "activate-roaming-zh"
    hits = telecom.matcher.match("my bill shows the same charge twice this month", language="en")
    assert hits and hits[0].article.intent == "double charge"
    assert telecom.matcher.match("what's the weather like in paris tomorrow", language="en") == []
    # What the after-call risk reads a customer's first request with (assist/retention/signs.py).
    assert telecom.intent_of("I want to end my service with you,", "en") == "cancel service"
    assert telecom.intent_of("I'm here.", "en") is None
    call = telecom.new_call(language="zh", caller_number=None)
    out = call.on_transcript(
        {
            "type": "final",
            "speaker": "customer",
            "utterance_id": 0,
            "start_s": 0.0,
            "end_s": 3.0,
            "text": "你们再这样乱扣费，我就携号转网了，我要投诉",
        }
    )
    assert {m.get("kind") for m in out if m["type"] == "signal"} >= {"churn", "escalation"}


def test_reload_keeps_the_old_knowledge_base_on_a_mistake(tmp_path: Path, guidance_service: GuidanceService) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(REPO_ROOT / "kb" / "bank", kb)
    service = GuidanceService(kb, tmp_path / "cache", encoders=guidance_service.encoders)
    before = service.status()["content_hash"]
    article = kb / "articles" / "order-checks.md"
    article.write_text(article.read_text().replace("answer:", "answr:", 1))
    assert service.changed_on_disk()
    with pytest.raises(KnowledgeError) as error:
        service.reload()
    assert any(p.startswith("articles/order-checks.md:") for p in error.value.problems)
    assert service.status()["content_hash"] == before  # still serving the previous version
    article.write_text(
        article.read_text()
        .replace("answr:", "answer:", 1)
        .replace("phrasings:", 'phrasings:\n  - "my checkbook is almost empty"', 1)
    )
    assert service.reload()["content_hash"] != before


async def test_reload_endpoint(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.http, timeout=60) as http:
        assert (await http.post("/api/kb/reload")).status_code == 401
        response = await http.post("/api/kb/reload", headers=live_server.headers(live_server.supervisor_token))
        assert response.status_code == 200 and response.json()["reloaded"] is True
        status = (await http.get("/api/kb", headers=live_server.headers(live_server.supervisor_token))).json()
        assert status["articles"] >= 25 and status["customers"] > 0
