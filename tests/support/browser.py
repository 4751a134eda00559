"""Debian chromium driven by Playwright, for browser tests of the sandbox UI.

Playwright's own browser download cannot run here, so tests launch the system
chromium (`apt-get install chromium`). A module-scoped fixture calls
`launch_chromium` (which skips, with the reason, when chromium is not
installed) and each test gets a fresh context from `open_page`. Every
uncaught page error and console error is recorded on `BrowserPage.errors`, so
a test can assert the page never broke.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "BrowserPage", "launch_chromium", "open_page",
           "require_chromium"]

CHROMIUM = Path("/usr/bin/chromium")
# Headless and offline: no GPU, no background fetches, no component updates.
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
)


def require_chromium() -> None:
    """Skip the calling test when the system chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")


@dataclass
class BrowserPage:
    page: Page
    errors: list[str] = field(default_factory=list)


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    """One headless chromium; launching costs seconds, so share it across a module."""
    require_chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def open_page(browser: Browser, url: str, *, width: int = 1280,
                    height: int = 800) -> AsyncIterator[BrowserPage]:
    """Open `url` in a fresh context (no shared storage) and yield it with its error log."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    try:
        page = await context.new_page()
        result = BrowserPage(page)
        page.on("pageerror", lambda exc: result.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: result.errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        await page.goto(url)
        yield result
    finally:
        await context.close()
