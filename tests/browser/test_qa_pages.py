"""The QA pages in a real browser: find a call, read its scorecard, summary and timeline, replay it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.async_api import expect

from assist.bench.clients import stream_native
from tests.browser.test_pages import call_audio  # noqa: F401  (shared fixture)
from tests.conftest import ARTIFACTS, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.model]


async def test_qa_finds_reads_and_replays_a_call(browser, live_server: LiveServer, call_audio: np.ndarray) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    await stream_native(
        f"{live_server.ws}/native",
        call_audio,
        call_id="QA-PAGE-1",
        caller_number="+12025550143",
        agent_id="qa-page-agent",
        speed=4.0,
    )
    page = await browser.new_page()
    try:
        await page.goto(f"{live_server.http}/qa#token={live_server.qa_token}")
        await page.get_by_test_id("call-row").first.wait_for()
        await page.fill("input[name=agent]", "qa-page-agent")
        await page.get_by_test_id("search").fill("debit")
        await page.click("form.filters button[type=submit]")
        await page.get_by_test_id("hits").first.wait_for()
        assert "debit" in (await page.get_by_test_id("hits").first.inner_text()).lower()
        rows = page.get_by_test_id("call-row")
        assert await rows.count() >= 1
        assert await page.get_by_test_id("agent-row").count() >= 1
        await page.screenshot(path=str(ARTIFACTS / "qa-list.png"), full_page=True)

        await rows.first.click()
        await page.get_by_test_id("qa-item").first.wait_for()
        assert await page.get_by_test_id("qa-item").count() >= 5
        assert await page.locator("[data-testid=qa-item][data-status=passed]").count() >= 1
        assert (await page.get_by_test_id("summary").inner_text()).strip()
        timeline = await page.get_by_test_id("timeline").inner_text()
        assert "debit card" in timeline.lower()

        await page.select_option("[data-testid=speed]", "32")
        await page.get_by_test_id("play").click()
        # Locator assertions, not wait_for_function: the pages' CSP forbids evaluating strings.
        await expect(page.get_by_test_id("replay-status")).to_have_text(re.compile(r"^finished"), timeout=90_000)
        replayed = await page.get_by_test_id("replay-transcript").inner_text()
        assert "debit card" in replayed.lower()
        await page.screenshot(path=str(ARTIFACTS / "qa-call.png"), full_page=True)
    finally:
        await page.close()


async def test_qa_page_without_the_qa_token_shows_the_refusal(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page()
    try:
        await page.goto(f"{live_server.http}/qa#token={live_server.agent_token('someone')}")
        await expect(page.get_by_test_id("status")).to_contain_text("QA token required")
        assert await page.get_by_test_id("call-row").count() == 0
    finally:
        await page.close()
