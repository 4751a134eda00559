"""Changing the embedding model re-embeds what is stored, without re-ingesting."""

from __future__ import annotations

import numpy as np

from bot.kb.service import KnowledgeBase
from bot.kb.types import Document
from bot.settings import Settings


class CountingEmbedder:
    """A tiny deterministic embedder: letter counts over `dim` buckets."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self._dim, self.texts = name, dim, 0

    async def dimension(self) -> int:
        return self._dim

    async def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        out = np.ones((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                out[i, ord(ch) % self._dim] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


async def test_new_embedder_name_forces_reembed(settings: Settings) -> None:
    docs = [Document(doc_id=f"d{i}", title=f"Doc {i}", url=f"u{i}", text=f"text number {i}")
            for i in range(5)]
    first = CountingEmbedder("model-a", 4)
    kb = await KnowledgeBase.open(settings, embedder=first)
    await kb.upsert(docs)
    await kb.close()

    same = CountingEmbedder("model-a", 4)
    kb = await KnowledgeBase.open(settings, embedder=same)
    await kb.close()
    assert same.texts == 0

    second = CountingEmbedder("model-b", 8)
    kb = await KnowledgeBase.open(settings, embedder=second)
    try:
        assert second.texts == 5
        assert kb.store.get_meta("embedder") == "model-b" and kb.store.get_meta("dim") == "8"
        hits = await kb.search("text number 3", k=2)
        assert hits and hits[0].doc_id == "d3"
    finally:
        await kb.close()


async def test_a_new_embedder_of_the_same_size_replaces_every_vector(settings: Settings) -> None:
    docs = [Document(doc_id=f"d{i}", title=f"Doc {i}", url=f"u{i}", text=f"text number {i}")
            for i in range(5)]
    kb = await KnowledgeBase.open(settings, embedder=CountingEmbedder("model-a", 8))
    await kb.upsert(docs)
    await kb.close()

    second = CountingEmbedder("model-a:bf16", 8)  # same size, as a precision change is
    kb = await KnowledgeBase.open(settings, embedder=second)
    try:
        assert second.texts == 5 and kb.store.get_meta("embedder") == "model-a:bf16"
        assert len(kb.store._vectors()[1]) == 5  # type: ignore[attr-defined]
        hits = await kb.search("text number 3", k=2)
        assert hits and hits[0].doc_id == "d3"
    finally:
        await kb.close()
