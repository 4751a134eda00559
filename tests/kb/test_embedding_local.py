"""The local embedder's fast paths agree with sentence-transformers' own encode()."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from bot.kb import embedding
from bot.kb.embedding import EmbeddingError, LocalEmbedder, cpu_has_bf16

TEXTS = [
    "How do I reset my password?",
    "Employees accrue twenty days of paid time off per year; book leave in the HR portal.",
    "Receipts for travel, meals and hotels are reimbursed when filed before month end. " * 8,
    "x",
    "连接办公室内网需要安装 VPN 客户端。",
    "¿Cómo pido un reembolso de gastos de viaje?",
]


@functools.cache
def _fp32_model() -> Any:
    """sentence-transformers' own fp32 model, loaded apart from any embedder's copies."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(embedding.default_model_path(), device="cpu")
    model.max_seq_length = 128
    return model


def _reference(texts: list[str]) -> np.ndarray:
    return np.asarray(_fp32_model().encode(texts, normalize_embeddings=True,
                                           convert_to_numpy=True))


async def test_bulk_and_query_paths_match_sentence_transformers_encode(
        embedder: LocalEmbedder) -> None:
    bulk = await embedder.embed(TEXTS)  # more than the query batch: the bulk path
    reference = _reference(TEXTS)
    cosines = (bulk * reference).sum(axis=1)
    assert cosines.min() > 0.99, cosines
    for text, row in zip(TEXTS, reference, strict=True):
        alone = (await embedder.embed([text]))[0]  # the query path
        assert float(alone @ row) > 0.9999
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-3)


async def test_bulk_results_come_back_in_input_order_despite_length_sorting(
        embedder: LocalEmbedder) -> None:
    shuffled = TEXTS[::-1] + TEXTS
    vectors = await embedder.embed(shuffled)
    alone = np.stack([(await embedder.embed([t]))[0] for t in shuffled])
    assert ((vectors * alone).sum(axis=1) > 0.99).all()


def test_precision_is_part_of_the_embedder_name_so_a_change_forces_a_re_embed() -> None:
    assert LocalEmbedder(precision="fp32").name == "st:all-MiniLM-L6-v2:128"
    assert LocalEmbedder(precision="bf16").name == "st:all-MiniLM-L6-v2:128:bf16"
    assert LocalEmbedder(precision="int8", tails=True).name == "st:all-MiniLM-L6-v2:128:int8+tails"
    auto = LocalEmbedder(precision="auto").name
    assert auto.endswith(":bf16") == cpu_has_bf16()
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
    assert (cosines > 0.97).all() and not np.allclose(docs, fp32, atol=1e-4), cosines


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
