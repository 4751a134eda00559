"""Browser-test fixtures on the module's event loop: one chromium per module, and a
sandbox + control client sharing that loop (tests/sandbox/conftest.py's run per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from playwright.async_api import Browser

from bot.sandbox.server import Sandbox, SandboxConfig
from tests.support.browser import launch_chromium
from tests.support.sandbox_client import SandboxClient

__all__ = ["chromium", "client", "sandbox"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Browser]:
    async with launch_chromium() as browser:
        yield browser


@pytest_asyncio.fixture(loop_scope="module")
async def sandbox() -> AsyncIterator[Sandbox]:
    # Same settings as tests/sandbox/conftest.py, but on the module's event loop.
    sb = Sandbox(SandboxConfig(rate_scale=100, ack_timeout=1.0))
    await sb.start()
    yield sb
    await sb.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def client(sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    async with aiohttp.ClientSession() as http:
        yield SandboxClient(sandbox.url, http)
