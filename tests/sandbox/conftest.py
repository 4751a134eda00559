"""Fixtures for sandbox tests: a real Sandbox on a free port and a control client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox.server import Sandbox, SandboxConfig
from tests.support.sandbox_client import SandboxClient


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    # Limits stay on (as in production) but scaled so tests are not throttled.
    sb = Sandbox(SandboxConfig(rate_scale=100, ack_timeout=1.0))
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sandbox: Sandbox, http: aiohttp.ClientSession) -> SandboxClient:
    return SandboxClient(sandbox.url, http)
