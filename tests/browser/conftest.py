"""Shared by the browser tests: Debian's chromium driven by Playwright (never a downloaded
browser), axe-core from npm for accessibility, screenshots kept in test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, REPO_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: without them Chromium keeps dialling Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make system-deps` (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


AXE = REPO_ROOT / "test-artifacts" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ARTIFACTS / "screenshots"


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG violations axe-core finds on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: run `make test` (npm install axe-core) ({AXE})")
    await page.evaluate(AXE.read_text())  # evaluated, not a <script>: the pages' CSP allows no inline script
    tags = "['wcag2a', 'wcag2aa', 'wcag21aa']"
    result = await page.evaluate(
        f"async () => (await axe.run(document, {{runOnly: {{type: 'tag', values: {tags}}}}})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


async def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path
