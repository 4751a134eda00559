"""The ONNX export of the embedding model is cached whole or rebuilt, never half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.embedding import default_model_path
from bot.kb.onnx_model import prepare_onnx
from bot.llm.model_prep import cache_is_valid

pytestmark = pytest.mark.slow


def test_a_damaged_onnx_cache_is_rebuilt_and_a_sound_one_is_reused(tmp_path: Path) -> None:
    target = tmp_path / "embed-onnx"
    assert prepare_onnx(default_model_path(), target) == target
    assert cache_is_valid(target)
    assert {p.name for p in target.glob("*.onnx")} == {"fp32.onnx", "int8.onnx"}
    built = (target / "int8.onnx").stat().st_mtime_ns

    prepare_onnx(default_model_path(), target)  # sound: reused as it is
    assert (target / "int8.onnx").stat().st_mtime_ns == built

    (target / "int8.onnx").write_bytes(b"half a file")  # an interrupted copy, say
    assert not cache_is_valid(target)
    prepare_onnx(default_model_path(), target)
    assert cache_is_valid(target)
    assert (target / "int8.onnx").stat().st_size > 1_000_000
    assert not list(tmp_path.glob("*.partial-*"))
