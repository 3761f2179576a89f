"""The agent sidebar and the supervisor page in a real browser (Debian chromium via Playwright).
Screenshots are kept in test-artifacts/ for people to look at."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from playwright.async_api import expect

from assist.bench.clients import stream_native
from tests.conftest import ARTIFACTS, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture(scope="module")
def call_audio(shared_data: Path) -> np.ndarray:
    audio, _ = sf.read(shared_data / "calls" / "0002f70f7386445b.flac", dtype="float32")
    return audio[: 16000 * 24]


async def test_sidebar_shows_live_call_and_records_feedback(
    browser, live_server: LiveServer, call_audio: np.ndarray
) -> None:  # type: ignore[no-untyped-def]
    agent = "agent-browser"
    page = await browser.new_page(viewport={"width": 380, "height": 900})  # sidebar width
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    token = live_server.agent_token(agent)
    await page.goto(f"{live_server.http}/sidebar?agent={agent}#token={token}")
    await page.wait_for_selector("[data-testid=status].online")
    # The token stays out of every URL: the address bar is cleaned, the socket opens with a ticket.
    assert token not in page.url and "token" not in page.url
    assert sockets and all("ticket=" in url and token not in url for url in sockets)
    streaming = asyncio.create_task(
        stream_native(
            f"{live_server.ws}/native",
            call_audio,
            call_id="browser-1",
            caller_number="+12025550143",
            agent_id=agent,
            speed=1.5,
        )
    )
    # The caller is shown before anyone speaks, then the two-speaker transcript fills in.
    await page.wait_for_selector("[data-testid=caller] >> text=Patricia Brown", timeout=90_000)
    await page.wait_for_selector(".line.agent.final", timeout=90_000)
    await page.wait_for_selector(".line.customer.final", timeout=120_000)
    call_id = next(
        iter(c for c in live_server.services.hub.calls.values() if c.agent_id == agent)  # type: ignore[attr-defined]
    ).call_id
    # The customer says they lost their debit card: the knowledge card for it appears; the
    # caller's profile (gold) unlocked an offer too.
    card = page.locator("[data-testid=suggestion-card][data-card-id='kb:replace-card']")
    await card.wait_for(timeout=90_000)
    await page.screenshot(path=str(ARTIFACTS / "sidebar-live-call.png"), full_page=True)
    await card.locator("button[data-action=used]").click()
    await page.wait_for_selector("[data-card-id='kb:replace-card'] button[data-action=used][aria-pressed=true]")
    async with httpx.AsyncClient(base_url=live_server.http) as http:
        detail = (
            await http.get(f"/api/live/calls/{call_id}", headers=live_server.headers(live_server.supervisor_token))
        ).json()
    assert {"card_id": "kb:replace-card", "action": "used", "source": "sidebar"}.items() <= detail["feedback"][
        0
    ].items()
    # A revised final (a slower decode that disagreed) replaces its line in place: same place, new
    # words, no second line.
    finals_before = await page.locator(".line.final").count()
    first = next(
        m
        for m in live_server.services.hub.calls[call_id].history  # type: ignore[attr-defined]
        if m.get("type") == "final" and m.get("speaker") == "agent" and m.get("text")
    )
    live_server.services.hub.publish(  # type: ignore[attr-defined]
        call_id,
        {
            **{k: v for k, v in first.items() if k != "published_at"},
            "text": f"Revised: {first['text']}",
            "revision": 1,
        },
    )
    await page.wait_for_selector(".line.agent.final >> text=Revised:", timeout=90_000)
    assert await page.locator(".line.final").count() == finals_before
    await streaming
    await page.wait_for_selector("[data-testid=caller] >> text=ended", timeout=90_000)
    await page.screenshot(path=str(ARTIFACTS / "sidebar-call-ended.png"), full_page=True)
    transcript = await page.locator("[data-testid=transcript]").inner_text()
    assert "Harper Valley" in transcript and "debit card" in transcript
    await page.close()


async def test_sidebar_reconnects_without_gaps(browser, live_server: LiveServer, call_audio: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    agent = "agent-reload"
    url = f"{live_server.http}/sidebar?agent={agent}#token={live_server.agent_token(agent)}"
    page = await browser.new_page(viewport={"width": 380, "height": 900})
    await page.goto(url)
    streaming = asyncio.create_task(
        stream_native(f"{live_server.ws}/native", call_audio, call_id="browser-2", agent_id=agent, speed=1.5)
    )
    await page.wait_for_selector(".line.customer.final", timeout=120_000)
    before = await page.locator(".line.final").count()
    await page.reload()  # the desktop reloads mid-call (the token was kept for this tab)
    await page.wait_for_selector("[data-testid=status].online")
    await expect(page.locator(".line.final").nth(before - 1)).to_be_attached(timeout=90_000)
    await streaming
    await page.close()


async def test_wrong_token_is_refused(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page()
    await page.goto(f"{live_server.http}/sidebar?agent=someone#token=forged")
    await page.wait_for_selector("[data-testid=status].offline", timeout=90_000)
    assert await page.locator(".line").count() == 0
    await page.close()


async def test_supervisor_sees_live_calls_and_follows_one(
    browser, live_server: LiveServer, call_audio: np.ndarray
) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={"width": 1100, "height": 800})
    await page.goto(f"{live_server.http}/supervisor#token={live_server.supervisor_token}")
    await page.wait_for_selector("[data-testid=status].online")
    streaming = asyncio.create_task(
        stream_native(
            f"{live_server.ws}/native",
            call_audio,
            call_id="browser-3",
            caller_number="+15550199",
            agent_id="agent-sup",
            speed=1.5,
        )
    )
    row = page.locator("[data-testid=live-call]", has_text="+15550199")
    await row.wait_for(timeout=90_000)
    await row.click()
    await page.wait_for_selector("#follow .line.final", timeout=120_000)
    await page.screenshot(path=str(ARTIFACTS / "supervisor.png"), full_page=True)
    await streaming
    await page.close()
