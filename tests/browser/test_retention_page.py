"""The retention worklist in Chromium: customers at risk ranked by risk × value, the reasons with
their evidence, the call timeline, and the outcome saved; axe-core finds nothing serious."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import axe_violations, screenshot
from tests.conftest import LiveServer
from tests.integration.test_retention_api import HAPPY, LEAVING, store_call

pytestmark = [pytest.mark.browser, pytest.mark.model]


async def test_the_worklist_page(browser: Any, live_server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
    vip, standard = f"+1666{tag}01", f"+1666{tag}02"
    now = time.time()

    def fill(store: Any) -> None:
        store_call(store, standard, {"name": f"Dana {tag}", "segment": "standard"}, LEAVING, now)
        store_call(store, vip, {"name": f"Vera {tag}", "segment": "vip"}, HAPPY, now - 86400)
        store_call(store, vip, {"name": f"Vera {tag}", "segment": "vip"}, LEAVING, now)

    assert await asyncio.to_thread(live_server.services.recorder.wait_ready, 60)  # type: ignore[attr-defined]
    await live_server.services.recorder.read(fill)  # type: ignore[attr-defined]
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{live_server.http}/retention#token={live_server.qa_token}")
    await page.get_by_test_id("search").fill(tag)
    await page.get_by_test_id("filters").locator("button[type=submit]").click()
    rows = page.get_by_test_id("customer-row")
    await expect(rows).to_have_count(2, timeout=30_000)
    await expect(rows.nth(0)).to_contain_text(f"Vera {tag}")  # the VIP first at equal risk
    await expect(rows.nth(0).get_by_test_id("why")).to_contain_text("spoke of leaving")
    assert await axe_violations(page) == []

    await rows.nth(0).click()
    await expect(page.get_by_test_id("customer")).to_be_visible()
    await expect(page.get_by_test_id("reason").first).to_contain_text("spoke of leaving")
    await expect(page.get_by_test_id("reasons")).to_contain_text("cancel my account")
    await expect(page.get_by_test_id("timeline-row")).to_have_count(2)
    outcome = page.get_by_test_id("outcome")
    await outcome.locator("select[name=status]").select_option("retained")
    await outcome.locator("input[name=note]").fill("kept with the loyalty discount")
    await outcome.locator("button[type=submit]").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("retained")
    await screenshot(page, "retention-customer")
    assert await axe_violations(page) == []

    entry = await live_server.services.recorder.read(lambda store: store.worklist_entry(vip))  # type: ignore[attr-defined]
    assert entry["status"] == "retained" and entry["note"] == "kept with the loyalty discount"
    await page.close()
