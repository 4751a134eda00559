"""Why the bot has no knowledge base, in words a question draft can show."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.runner import _open_kb
from bot.settings import Settings


async def test_a_bot_without_the_kb_extra_is_told_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bot.kb.service", None)  # as if numpy etc. were absent
    kb, problem = await _open_kb(Settings(tandem_data_dir=tmp_path))
    assert kb is None and problem is not None
    assert problem.startswith("it is not installed here") and "install tandem[kb]" in problem


async def test_a_knowledge_base_that_opens_has_no_problem(tmp_path: Path) -> None:
    kb, problem = await _open_kb(Settings(tandem_data_dir=tmp_path))
    try:
        assert kb is not None and problem is None
    finally:
        await kb.close()
