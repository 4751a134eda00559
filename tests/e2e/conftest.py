"""Fixtures for end-to-end tests: fake LLM + sandbox + the real Tandem bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    llm = FakeLLM(reply=lambda _body: "Here is a short draft for you. It has two sentences.")
    await llm.start()
    yield llm
    await llm.stop()


@pytest.fixture
async def tandem(request: pytest.FixtureRequest, tmp_path: Path,
                 fake_llm: FakeLLM) -> AsyncIterator[Harness]:
    """Socket Mode by default; `@pytest.mark.harness(mode="http", ...)` changes it."""
    marker = request.node.get_closest_marker("harness")
    options = dict(marker.kwargs) if marker else {}
    harness = Harness(tmp=tmp_path, llm_url=fake_llm.base_url, **options)
    await harness.start()
    yield harness
    await harness.stop()
