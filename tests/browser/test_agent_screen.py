"""The agent's screen in Chromium: a pinned answer that never moves, sentiment at a glance,
after-call work, the supervisor's ranked and in-place view with a message to the agent, the QA
replay with pause and seek; axe-core finds no serious or critical violation; Chinese renders."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.async_api import expect

from assist.bench.clients import stream_native
from assist.calls.session import CallMetadata, CallSession
from assist.live.hub import LiveCall
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_pages import call_audio  # noqa: F401  (shared fixture)
from tests.conftest import LiveServer
from tests.integration.test_calllog_server import wait_stored

pytestmark = [pytest.mark.browser, pytest.mark.model]
GOLD = {
    "name": "Patricia Brown",
    "segment": "gold",
    "tenure_years": 12,
    "plan": "Premier Checking",
    "monthly_spend": 2400,
    "flags": ["frequent_traveller"],
    "account_status": "active",
    "notes": "Travels to Europe twice a year; prefers text alerts",
}


async def open_session(server: LiveServer, agent: str, number: str) -> CallSession:
    meta = CallMetadata("native", f"screen-{agent}", caller_number=number, agent_id=agent)
    return await server.on_server_async(server.services.desk.open(meta))  # type: ignore[attr-defined,no-any-return]


def publish(server: LiveServer, session: CallSession, *messages: dict[str, Any]) -> None:
    def send() -> None:
        for message in messages:
            session.publish({**message, "call_id": session.call_id})

    server.on_server(send)


def final(speaker: str, n: int, text: str) -> dict[str, Any]:
    return {
        "type": "final",
        "speaker": speaker,
        "utterance_id": n,
        "start_s": 2.0 * n,
        "end_s": 2.0 * n + 1.5,
        "text": text,
    }


def card(article: str, intent: str, title: str, confidence: float, pinned: bool) -> dict[str, Any]:
    return {
        "type": "suggestion",
        "card_id": f"kb:{article}",
        "article_id": article,
        "intent": intent,
        "title": title,
        "answer": f"How to {intent}: the steps the agent reads out.",
        "confidence": confidence,
        "trigger": {"text": "I lost my debit card", "final": True},
        "pinned": pinned,
        "at_s": 4.0,
    }


async def sidebar(browser: Any, server: LiveServer, agent: str) -> Any:
    page = await browser.new_page(viewport={"width": 420, "height": 900})
    await page.goto(f"{server.http}/sidebar?agent={agent}#token={server.agent_token(agent)}")
    await page.wait_for_selector("[data-testid=status].online")
    return page


async def test_the_pinned_answer_stays_put_while_the_call_goes_on(browser: Any, live_server: LiveServer) -> None:
    agent = "agent-layout"
    page = await sidebar(browser, live_server, agent)
    session = await open_session(live_server, agent, "+12025550143")  # Patricia Brown, gold
    await expect(page.get_by_test_id("caller")).to_contain_text("Patricia Brown", timeout=90_000)
    publish(
        live_server,
        session,
        final("customer", 1, "I lost my debit card, can you send me a new one?"),
        card("replace-card", "replace card", "Replace a lost card", 0.82, True),
        {"type": "offer", "card_id": "offer:premium", "title": "Premium card upgrade", "pitch": "Upgrade at no fee."},
    )
    pinned = page.locator("[data-testid=pinned] article")
    await expect(pinned).to_contain_text("Replace a lost card", timeout=90_000)
    await page.evaluate("""() => {
        window.shifts = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            const nodes = (e.sources || []).map((s) => s.node && (s.node.className || s.node.nodeName));
            window.shifts.push({ value: e.value, nodes });
          }
        })
          .observe({ type: "layout-shift", buffered: false });
    }""")
    before = await pinned.bounding_box()
    lines = [
        final(
            "agent" if i % 2 else "customer",
            2 + i,
            f"Line {i} of the conversation, long enough to wrap in a narrow sidebar.",
        )
        for i in range(10)
    ]
    signals = [
        {"type": "signal", "kind": k, "severity": "high", "title": t, "message": "m", "at_s": 9.0}
        for k, t in (("churn", "Churn risk"), ("dissatisfaction", "Dissatisfaction rising"))
    ]
    publish(
        live_server,
        session,
        *lines[:5],
        signals[0],
        card("card-delivery", "card delivery", "Card delivery status", 0.6, False),
        *lines[5:],
        signals[1],
    )
    await expect(page.locator(".line.final")).to_have_count(11, timeout=90_000)
    await expect(page.get_by_test_id("alert")).to_have_count(2, timeout=90_000)
    await expect(page.get_by_test_id("also-line")).to_contain_text("Card delivery status")
    after = await pinned.bounding_box()
    assert before == after, (before, after)
    shifts = await page.evaluate("window.shifts")
    assert sum(s["value"] for s in shifts) == 0, f"layout shifts: {shifts}"
    # The latest line is in view inside the fixed-height transcript pane.
    pane = await page.get_by_test_id("transcript").bounding_box()
    last = await page.locator(".line.final").last.bounding_box()
    assert pane and last and last["y"] + last["height"] <= pane["y"] + pane["height"] + 1
    publish(
        live_server,
        session,
        {
            "type": "mood",
            "level": 0.6,
            "label": "uneasy",
            "direction": 1,
            "trend": [0.1, 0.6],
            "intent": "replace card",
        },
    )
    await expect(page.get_by_test_id("mood")).to_contain_text("Uneasy")
    await expect(page.get_by_test_id("topic")).to_contain_text("Replace a lost card")
    await screenshot(page, "sidebar-mid-call")
    assert await axe_violations(page) == []
    await live_server.on_server_async(session.end("completed"))
    await page.close()


async def test_after_call_work_is_proposed_edited_and_saved(
    browser: Any,
    live_server: LiveServer,
    call_audio: np.ndarray,  # noqa: F811
) -> None:
    agent = "agent-wrapup"
    page = await sidebar(browser, live_server, agent)
    await stream_native(f"{live_server.ws}/native", call_audio, call_id="screen-wrap", agent_id=agent, speed=2.0)
    form = page.get_by_test_id("wrapup")
    await expect(form).to_be_visible(timeout=120_000)
    disposition = page.get_by_test_id("wrapup-disposition")
    assert await disposition.input_value()
    await expect(disposition.locator("option", has_text="(suggested)")).to_have_count(1)
    summary = await page.get_by_test_id("wrapup-summary").input_value()
    assert summary and "so far" not in summary
    await page.get_by_test_id("wrapup-outcome").select_option("follow_up")
    await page.locator("textarea[name=notes]").fill("Send the statement by post")
    await screenshot(page, "sidebar-after-call")
    await page.get_by_test_id("wrapup-save").click()
    await expect(page.get_by_test_id("wrapup-status")).to_have_text("Saved ✓", timeout=60_000)
    assert await axe_violations(page) == []
    async with httpx.AsyncClient(base_url=live_server.http, headers=live_server.qa_headers) as http:
        legs = (await http.get("/api/calls/by-platform-id/screen-wrap")).json()["calls"]
        stored = (await http.get(f"/api/calls/{legs[-1]['id']}")).json()["wrapup"]
    assert stored["saved"]["outcome"] == "follow_up" and stored["saved"]["notes"] == "Send the statement by post"
    assert stored["proposed"]["disposition"] == await disposition.input_value()
    await page.close()


async def test_supervisor_ranks_in_place_follows_and_messages_the_agent(browser: Any, live_server: LiveServer) -> None:
    calm, risky = (
        await open_session(live_server, "agent-calm", "+12025550178"),
        await open_session(live_server, "agent-risky", "+12025550143"),
    )
    agent_page = await sidebar(browser, live_server, "agent-calm")
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(f"{live_server.http}/supervisor#token={live_server.supervisor_token}")
    await page.wait_for_selector("[data-testid=status].online")
    rows = page.get_by_test_id("live-call")
    calm_row = page.locator(f"[data-call-id='{calm.call_id}']")
    await expect(calm_row).to_be_visible(timeout=90_000)
    handle = await calm_row.element_handle()
    assert handle is not None
    publish(
        live_server,
        risky,
        {
            "type": "signal",
            "kind": "churn",
            "severity": "high",
            "title": "Churn risk",
            "message": "leaving",
            "at_s": 3.0,
        },
        {
            "type": "mood",
            "level": 0.8,
            "label": "upset",
            "direction": 1,
            "trend": [0.2, 0.8],
            "intent": "close account",
        },
    )
    await expect(rows.first).to_have_attribute("data-call-id", risky.call_id, timeout=90_000)
    await expect(rows.first).to_contain_text("close account")
    await expect(rows.first.get_by_test_id("row-mood")).to_contain_text("Upset")
    publish(
        live_server,
        calm,
        {
            "type": "mood",
            "level": 0.1,
            "label": "calm",
            "direction": -1,
            "trend": [0.2, 0.1],
            "intent": "check balance",
        },
    )
    await expect(calm_row).to_contain_text("check balance", timeout=90_000)
    assert await handle.evaluate("(row) => row.isConnected"), "the row was updated in place, not rebuilt"
    await calm_row.click()
    await page.get_by_label("Message to the agent").fill("Offer the fee refund")
    await page.get_by_role("button", name="Send").click()
    await expect(agent_page.get_by_test_id("coaching")).to_contain_text("Offer the fee refund", timeout=90_000)
    assert await axe_violations(page) == []
    await screenshot(page, "supervisor")
    await live_server.on_server_async(calm.end("completed"))
    await expect(page.get_by_test_id("follow-ended")).to_contain_text("ended", timeout=90_000)
    await live_server.on_server_async(risky.end("completed"))
    await agent_page.close()
    await page.close()


async def test_qa_replay_moves_pauses_and_seeks(
    browser: Any,
    live_server: LiveServer,
    call_audio: np.ndarray,  # noqa: F811
) -> None:
    await stream_native(f"{live_server.ws}/native", call_audio, call_id="screen-qa", agent_id="agent-qa", speed=3.0)
    async with httpx.AsyncClient(base_url=live_server.http, headers=live_server.qa_headers) as http:
        call_id = (await wait_stored(http, "screen-qa"))["id"]
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(f"{live_server.http}/qa#token={live_server.qa_token}")
    await page.evaluate(f"location.hash = {json.dumps('call=' + call_id)}")
    await expect(page.get_by_test_id("summary")).not_to_contain_text("so far", timeout=90_000)
    await page.get_by_test_id("speed").select_option("2")
    await page.get_by_test_id("play").click()
    lines = page.locator("#replay-view .line.final")
    await expect(lines.first).to_be_attached(timeout=90_000)
    await page.get_by_test_id("pause").click()
    await expect(page.get_by_test_id("replay-status")).to_contain_text("paused")
    held = await page.get_by_test_id("seek").input_value()
    count = await lines.count()
    await page.wait_for_function("() => true")  # a frame later the position has not moved
    assert await page.get_by_test_id("seek").input_value() == held and float(held) > 0
    await page.get_by_test_id("seek").evaluate("(n) => { n.value = '0'; n.dispatchEvent(new Event('input')); }")
    await expect(lines).to_have_count(0)
    await page.get_by_test_id("seek").evaluate("(n) => { n.value = n.max; n.dispatchEvent(new Event('input')); }")
    await expect(lines).not_to_have_count(0)
    assert await lines.count() >= count
    await expect(page.get_by_test_id("position")).to_contain_text("/")
    assert await axe_violations(page) == []
    await screenshot(page, "qa-replay")
    await page.close()


async def test_chinese_names_and_plans_render_as_glyphs(browser: Any, live_server: LiveServer) -> None:
    """Two different Chinese names must look different: missing glyphs render as identical boxes."""
    images = []
    for n, (name, plan) in enumerate((("王芳", "无限尊享套餐"), ("李伟", "基础套餐"))):
        agent = f"agent-zh-{n}"
        page = await sidebar(browser, live_server, agent)
        call = LiveCall(
            f"zh-call-{n}",
            agent,
            "native",
            f"zh-{n}",
            "+8613800138021",
            "zh",
            caller={"name": name, "segment": "vip", "plan": plan, "tenure_years": 8},
        )
        live_server.on_server(live_server.services.live.start_call, call)  # type: ignore[attr-defined]
        name_node = page.locator(".cv-caller .name")
        await expect(name_node).to_have_text(name, timeout=90_000)
        images.append(await name_node.screenshot())
        await screenshot(page, f"sidebar-chinese-{n}")
        live_server.on_server(live_server.services.live.end_call, call.call_id, "completed")  # type: ignore[attr-defined]
        await page.close()
    assert images[0] != images[1], "the Chinese names render as identical boxes: no CJK font"


async def test_a_chinese_call_on_the_sidebar(browser: Any, telecom_server: LiveServer) -> None:
    """王芳, a VIP who travels, calls in Mandarin about roaming: her profile before anyone speaks,
    the Chinese roaming article pinned, the roaming pack offer, and the transcript, in Chinese."""
    from tests.integration.test_mandarin import script, zh_call_audio

    agent = "agent-zh-sidebar"
    page = await sidebar(browser, telecom_server, agent)
    call = script("zh-t01-roaming")
    streaming = asyncio.create_task(
        stream_native(
            f"{telecom_server.ws}/native",
            zh_call_audio(call.id),
            call_id=f"{call.id}-browser",
            caller_number=call.caller,
            agent_id=agent,
            language="zh",
            speed=2.0,
        )
    )
    await expect(page.get_by_test_id("caller")).to_contain_text("王芳", timeout=90_000)
    await expect(page.get_by_test_id("caller")).to_contain_text("无限尊享套餐")
    await expect(page.get_by_test_id("pinned")).to_contain_text("漫游", timeout=120_000)
    await expect(page.get_by_test_id("offer-slot")).to_contain_text("漫游", timeout=120_000)
    await expect(page.get_by_test_id("final-line").first).to_be_visible(timeout=90_000)
    transcript = await page.get_by_test_id("transcript").inner_text()
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in transcript) > 20, transcript
    await screenshot(page, "sidebar-chinese-call")
    assert await axe_violations(page) == []
    await streaming
    await page.close()
