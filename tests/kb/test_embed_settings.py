"""TANDEM_EMBED_PRECISION reaches the local embedder (and so its name and the re-embed check)."""

from __future__ import annotations

import pytest

from bot.kb.config import build_embedder
from bot.kb.embedding import auto_window
from bot.settings import Settings


@pytest.mark.parametrize(("value", "suffix"), [("fp32", ""), ("bf16", ":bf16")])
def test_embed_precision_setting_picks_the_local_embedders_precision(
        monkeypatch: pytest.MonkeyPatch, value: str, suffix: str) -> None:
    monkeypatch.setenv("TANDEM_EMBED_PRECISION", value)
    monkeypatch.setenv("TANDEM_EMBED_MAX_SEQ_LENGTH", "96")
    embedder, session = build_embedder(Settings())
    assert session is None
    assert embedder.name == "st:all-MiniLM-L6-v2:96" + suffix


def test_without_a_window_setting_the_local_embedder_takes_the_cpus_default() -> None:
    embedder, _ = build_embedder(Settings())
    assert embedder.name.startswith(f"st:all-MiniLM-L6-v2:{auto_window()}")


def test_tail_vectors_can_be_turned_on_and_that_is_part_of_the_embedders_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_EMBED_PRECISION", "fp32")
    monkeypatch.setenv("TANDEM_EMBED_TAIL_VECTORS", "1")
    embedder, _ = build_embedder(Settings())
    assert embedder.name == f"st:all-MiniLM-L6-v2:{auto_window()}+tails"


def test_unknown_embed_precision_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_EMBED_PRECISION", "int4")
    with pytest.raises(ValueError, match="tandem_embed_precision"):
        Settings()
