"""`tandem llm prepare` on an already sealed cache: reuses it and prints its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.llm.model_prep import write_marker


def test_llm_prepare_reuses_sealed_cache_and_prints_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "gemma"
    cache.mkdir()
    (cache / "config.json").write_text("{}")
    write_marker(cache)
    assert main(["llm", "prepare", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == str(cache)


def test_llm_prepare_honours_tandem_model_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "elsewhere"
    cache.mkdir()
    (cache / "config.json").write_text("{}")
    write_marker(cache)
    monkeypatch.setenv("TANDEM_MODEL_CACHE", str(cache))
    assert main(["llm", "prepare"]) == 0
    assert capsys.readouterr().out.strip() == str(cache)
