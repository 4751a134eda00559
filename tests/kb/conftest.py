"""Fixtures for knowledge-base tests: the real packaged MiniLM and a fresh SQLite KB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.kb.embedding import LocalEmbedder
from bot.kb.service import KnowledgeBase
from bot.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    # One model for the whole run: loading it costs seconds, embedding a fixture does not.
    # The product's defaults (window, precision for this CPU), as the bot runs it.
    return LocalEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tandem_data_dir=tmp_path / "data")


@pytest.fixture
async def kb(settings: Settings, embedder: LocalEmbedder) -> AsyncIterator[KnowledgeBase]:
    base = await KnowledgeBase.open(settings, embedder=embedder)
    yield base
    await base.close()
