"""The local embedder's fast paths agree with sentence-transformers' own encode()."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from bot.kb import embedding
from bot.kb.embedding import EmbeddingError, LocalEmbedder, auto_precision, auto_window

TEXTS = [
    "How do I reset my password?",
    "Employees accrue twenty days of paid time off per year; book leave in the HR portal.",
    "Receipts for travel, meals and hotels are reimbursed when filed before month end. " * 8,
    "x",
    "连接办公室内网需要安装 VPN 客户端。",
    "¿Cómo pido un reembolso de gastos de viaje?",
]


@functools.cache
def _fp32_model(window: int) -> Any:
    """sentence-transformers' own fp32 model, loaded apart from any embedder's copies."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(embedding.default_model_path(), device="cpu")
    model.max_seq_length = window
    return model


def _reference(texts: list[str], window: int | None = None) -> np.ndarray:
    """fp32 vectors of `texts`' first `window` tokens (default: the embedders' default
    window on this CPU)."""
    return np.asarray(_fp32_model(window or auto_window()).encode(
        texts, normalize_embeddings=True, convert_to_numpy=True))


# How close the bulk path comes to fp32, by precision (int8: "x", one token, is the worst).
BULK_COSINE = {"fp32": 0.9999, "bf16": 0.99, "int8": 0.97}


async def test_bulk_and_query_paths_match_sentence_transformers_encode(
        embedder: LocalEmbedder) -> None:
    bulk = await embedder.embed(TEXTS)  # more than the query batch: the bulk path
    reference = _reference(TEXTS)
    cosines = (bulk * reference).sum(axis=1)
    assert cosines.min() > BULK_COSINE[embedder._precision], cosines
    for text, row in zip(TEXTS, reference, strict=True):
        alone = (await embedder.embed([text]))[0]  # the query path
        assert float(alone @ row) > 0.9999
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-3)


async def test_bulk_results_come_back_in_input_order_despite_length_sorting(
        embedder: LocalEmbedder) -> None:
    shuffled = TEXTS[::-1] + TEXTS
    vectors = await embedder.embed(shuffled)
    alone = np.stack([(await embedder.embed([t]))[0] for t in shuffled])
    # Another text's vector would be far off (these texts' cosines are -0.1 to 0.3).
    assert ((vectors * alone).sum(axis=1) > BULK_COSINE[embedder._precision]).all()


def test_precision_and_window_are_part_of_the_embedder_name_so_a_change_forces_a_re_embed(
        ) -> None:
    assert LocalEmbedder(max_seq_length=112, precision="fp32").name == "st:all-MiniLM-L6-v2:112"
    assert LocalEmbedder(max_seq_length=112, precision="bf16").name == \
        "st:all-MiniLM-L6-v2:112:bf16"
    assert LocalEmbedder(max_seq_length=64, precision="int8", tails=True).name == \
        "st:all-MiniLM-L6-v2:64:int8+tails"
    assert LocalEmbedder(max_seq_length=128, precision="fp32").name == "st:all-MiniLM-L6-v2:128"
    auto = LocalEmbedder(precision="auto").name
    assert auto == LocalEmbedder(max_seq_length=auto_window(), precision=auto_precision()).name
    with pytest.raises(ValueError, match="precision"):
        LocalEmbedder(precision="int4")


async def test_bf16_embedder_ranks_like_fp32() -> None:
    bf16 = LocalEmbedder(precision="bf16")
    docs = await bf16.embed(TEXTS)
    fp32 = _reference(TEXTS)
    query = (await bf16.embed(["can I get my travel dinner paid back"]))[0]
    assert int(np.argmax(docs @ query)) == int(np.argmax(fp32 @ query)) == 2
    assert ((docs * fp32).sum(axis=1) > 0.99).all()


async def test_queries_run_through_onnx_and_match_sentence_transformers_in_padded_batches(
        embedder: LocalEmbedder) -> None:
    await embedder.dimension()
    assert embedder._onnx_query is not None  # the fast query path is in use
    if embedder._precision == "bf16":  # so torch keeps no fp32 copy beside the bf16 one
        assert embedder._model is embedder._query_model
    batch = TEXTS[:3]  # three lengths: two of them are padded
    vectors = await embedder.embed(batch)
    reference = _reference(batch)
    assert ((vectors * reference).sum(axis=1) > 0.9999).all()


async def test_int8_embedder_ranks_like_fp32() -> None:
    int8 = LocalEmbedder(precision="int8")
    docs = await int8.embed(TEXTS)
    assert int8._onnx_bulk is not None
    fp32 = _reference(TEXTS)
    query = (await int8.embed(["can I get my travel dinner paid back"]))[0]
    assert int(np.argmax(docs @ query)) == int(np.argmax(fp32 @ query)) == 2
    cosines = (docs * fp32).sum(axis=1)
    assert (cosines > BULK_COSINE["int8"]).all() and not np.allclose(docs, fp32, atol=1e-4), \
        cosines


async def test_embedder_falls_back_to_torch_when_the_onnx_export_fails(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(_path: str) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(embedding, "prepare_onnx", broken)
    fallback = LocalEmbedder(precision="fp32")
    vectors = await fallback.embed(TEXTS[:2])
    assert fallback._onnx_query is None
    assert ((vectors * _reference(TEXTS[:2])).sum(axis=1) > 0.9999).all()
    assert any("onnx" in r.getMessage() for r in caplog.records)
    strict = LocalEmbedder(precision="int8")
    with pytest.raises(EmbeddingError, match="int8 embedding needs the ONNX export"):
        await strict.embed(TEXTS[:2])


async def test_int8_chosen_by_auto_gives_way_to_torch_when_the_onnx_export_fails(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(_path: str) -> None:
        raise OSError("read-only file system: ~/.cache/tandem")

    monkeypatch.setattr(embedding, "prepare_onnx", broken)
    # The AMD host's flags, whatever this one has: `auto` picks int8.
    monkeypatch.setattr(embedding, "_cpu_flags", lambda: "flags : avx512_bf16 avx512_vnni\n")
    monkeypatch.setattr(embedding, "_onnx_installed", lambda: True)
    chosen = LocalEmbedder()
    vectors = await chosen.embed(TEXTS)  # the bulk path, through torch
    assert chosen._onnx_bulk is None and chosen._precision in ("bf16", "fp32")
    assert chosen.name.endswith(":int8")  # what the store was told it holds
    assert ((vectors * _reference(TEXTS, chosen._max_seq_length)).sum(axis=1)
            > BULK_COSINE["bf16"]).all()
    warning = next(r for r in caplog.records if "onnx" in r.getMessage())
    assert "read-only" in warning.error  # type: ignore[attr-defined]


@pytest.mark.parametrize(("flags", "onnx", "expected", "window"), [
    ("avx512f avx512_bf16 avx512_vnni", True, "int8", 112),  # the AMD host: int8 is fastest
    ("avx2 avx_vnni", True, "int8", 112),
    ("fp asimd asimddp", True, "int8", 112),  # Arm with dot products
    ("avx512_bf16 avx512_vnni amx_bf16 amx_int8", True, "bf16", 112),  # AMX multiplies bf16
    ("avx512f avx512_bf16 avx512_vnni", False, "bf16", 112),  # no ONNX Runtime: torch in bf16
    ("avx512f avx512_bf16", False, "bf16", 112),  # native bf16 without int8 dot products
    # AVX2 alone: int8 through ONNX Runtime still beats fp32 (57-62 chunks/s against
    # 39-45), and 64 tokens keep ingest above 100 chunks/s.
    ("avx2 fma", True, "int8", 64),
    ("avx2 fma", False, "fp32", 64),
])
def test_auto_precision_and_window_follow_what_the_cpu_multiplies_fast(
        monkeypatch: pytest.MonkeyPatch, flags: str, onnx: bool, expected: str,
        window: int) -> None:
    monkeypatch.setattr(embedding, "_cpu_flags", lambda: f"flags\t\t: fpu {flags} end\n")
    monkeypatch.setattr(embedding, "_onnx_installed", lambda: onnx)
    assert embedding.auto_precision() == expected
    assert embedding.auto_window() == window
    suffix = "" if expected == "fp32" else f":{expected}"
    assert LocalEmbedder().name == f"st:all-MiniLM-L6-v2:{window}{suffix}"
