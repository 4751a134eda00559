"""Changing the embedding model re-embeds what is stored, without re-ingesting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.kb import reembed as reembed_module
from bot.kb.chunking import chunk_document
from bot.kb.embedding import EmbeddingError
from bot.kb.reembed import reembed_in_background
from bot.kb.service import KnowledgeBase
from bot.kb.store_base import DocRecord
from bot.kb.store_sqlite import SqliteStore
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


DOCS = [Document(doc_id=f"d{i}", title=f"Doc {i}", url=f"u{i}", text=f"text number {i}")
        for i in range(7)]


class FailingEmbedder(CountingEmbedder):
    """Embeds `budget` texts, then fails like an endpoint that went down."""

    def __init__(self, name: str, dim: int, budget: int) -> None:
        super().__init__(name, dim)
        self.budget = budget

    async def embed(self, texts: list[str]) -> np.ndarray:
        if self.texts + len(texts) > self.budget:
            raise EmbeddingError("embeddings endpoint answered 503")
        return await super().embed(texts)


class GatedEmbedder(CountingEmbedder):
    """Holds every batch holding a stored document's text until `gate` is set."""

    def __init__(self, name: str, dim: int) -> None:
        super().__init__(name, dim)
        self.gate, self.queries = asyncio.Event(), 0

    async def embed(self, texts: list[str]) -> np.ndarray:
        self.queries += sum(text.startswith("q:") for text in texts)
        if any("Doc " in text for text in texts):
            await self.gate.wait()
        return await super().embed(texts)


@pytest.fixture
def batches_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reembed_module, "BATCH", 2)


async def _stored(settings: Settings, name: str = "model-a") -> None:
    kb = await KnowledgeBase.open(settings, embedder=CountingEmbedder(name, 4))
    await kb.upsert(DOCS)
    await kb.close()


async def _reopened(settings: Settings, name: str, dim: int
                    ) -> tuple[int, dict[str, str | None]]:
    """Open with a new counting embedder: how many texts it embedded, and the store's meta."""
    embedder = CountingEmbedder(name, dim)
    kb = await KnowledgeBase.open(settings, embedder=embedder)
    try:
        return embedder.texts, {k: kb.store.get_meta(k) for k in ("embedder", "reembed_to")}
    finally:
        await kb.close()


@pytest.mark.usefixtures("batches_of_two")
async def test_an_interrupted_reembed_resumes_after_the_last_batch_written(
        settings: Settings) -> None:
    await _stored(settings)
    with pytest.raises(EmbeddingError):
        await KnowledgeBase.open(settings, embedder=FailingEmbedder("model-b", 8, budget=4))
    resumed = CountingEmbedder("model-b", 8)
    kb = await KnowledgeBase.open(settings, embedder=resumed)
    try:
        assert resumed.texts == 3  # two batches of two were written before the failure
        assert kb.store.get_meta("embedder") == "model-b" and not kb.reembedding
        hits = await kb.search("text number 5", k=2)
        assert hits and hits[0].doc_id == "d5"
    finally:
        await kb.close()


@pytest.mark.usefixtures("batches_of_two")
async def test_going_back_to_the_old_embedder_mid_reembed_embeds_everything_again(
        settings: Settings) -> None:
    await _stored(settings, "model-a")
    with pytest.raises(EmbeddingError):  # same size: half the vectors are model-b's now
        await KnowledgeBase.open(settings, embedder=FailingEmbedder("model-b", 4, budget=4))
    texts, meta = await _reopened(settings, "model-a", 4)
    assert texts == len(DOCS) and meta == {"embedder": "model-a", "reembed_to": ""}


async def test_a_background_reembed_searches_by_keywords_until_it_ends(
        settings: Settings) -> None:
    await _stored(settings)
    new = GatedEmbedder("model-b", 8)
    kb = await KnowledgeBase.open(settings, embedder=new, background=True)
    try:
        assert kb.reembedding
        hits = await kb.search("q: text number 3", k=2)
        assert hits and hits[0].doc_id == "d3" and new.queries == 0  # no dense side
        # A document written mid-pass gets the new vectors, but the store keeps naming
        # the old embedder until every chunk is done.
        added = Document(doc_id="late", title="Late", url="u", text="a late arrival")
        await kb.upsert([added])
        assert kb.store.get_meta("embedder") == "model-a" and kb.reembedding
        new.gate.set()
        assert kb._reembed_task is not None
        await asyncio.wait_for(kb._reembed_task, 10)
        assert not kb.reembedding and kb.store.get_meta("embedder") == "model-b"
        hits = await kb.search("q: text number 3", k=2)
        assert hits and new.queries == 1  # the dense side is back
    finally:
        await kb.close()


async def test_a_reembed_for_a_new_window_or_precision_of_the_same_model_keeps_vectors_in_search(
        settings: Settings) -> None:
    await _stored(settings, "st:all-MiniLM-L6-v2:128:bf16")  # the old default's name
    new = GatedEmbedder("st:all-MiniLM-L6-v2:112:int8", 4)
    kb = await KnowledgeBase.open(settings, embedder=new, background=True)
    try:
        assert kb.reembedding and kb.vectors_mid_pass
        hits = await kb.search("q: text number 3", k=2)
        assert {h.doc_id for h in hits} >= {"d3"} and new.queries == 1  # the dense side ran
        new.gate.set()
        assert kb._reembed_task is not None
        await asyncio.wait_for(kb._reembed_task, 10)
        assert kb.store.get_meta("embedder") == "st:all-MiniLM-L6-v2:112:int8"
    finally:
        await kb.close()


@pytest.mark.parametrize(("stored", "pending", "comparable"), [
    ("st:all-MiniLM-L6-v2:128:bf16", "", True),
    ("st:all-MiniLM-L6-v2:128", "st:all-MiniLM-L6-v2:112:int8", True),  # resumed pass
    ("st:/models/other:112:int8", "", False),  # another model
    ("st:all-MiniLM-L6-v2:112:int8+tails", "", False),  # tail vectors are extra rows
    ("http:all-MiniLM-L6-v2:128", "", False),  # an endpoint may serve anything by that name
    ("st:all-MiniLM-L6-v2:128:bf16", "st:/models/other:112", False),  # a pass half done
])
def test_only_vectors_of_the_same_local_model_count_as_comparable_mid_pass(
        tmp_path: Path, stored: str, pending: str, comparable: bool) -> None:
    store = SqliteStore(tmp_path / "kb.sqlite")
    store.open()
    try:
        store.set_meta("embedder", stored)
        store.set_meta(reembed_module.TARGET, pending)
        assert reembed_module.vectors_comparable(store, "st:all-MiniLM-L6-v2:112:int8") \
            is comparable
    finally:
        store.close()


@pytest.mark.usefixtures("batches_of_two")
async def test_a_background_reembed_retries_a_failing_embedder_until_it_ends(
        settings: Settings) -> None:
    await _stored(settings)
    flaky = FailingEmbedder("model-b", 8, budget=2)
    kb = KnowledgeBase(SqliteStore(settings.tandem_data_dir / "kb.sqlite"), flaky)
    await asyncio.to_thread(kb.store.open)
    kb.reembedding = True
    try:
        task = asyncio.create_task(reembed_in_background(kb, first_retry=0.01))
        await asyncio.sleep(0.1)
        assert not task.done() and kb.reembedding
        flaky.budget = 100  # the endpoint is back
        await asyncio.wait_for(task, 10)
        assert not kb.reembedding and kb.store.get_meta("embedder") == "model-b"
        assert flaky.texts == len(DOCS)  # the failed batch again, nothing twice
    finally:
        await kb.close()


async def test_closing_mid_reembed_pauses_it_for_the_next_start(settings: Settings) -> None:
    await _stored(settings)
    kb = await KnowledgeBase.open(settings, embedder=GatedEmbedder("model-b", 8),
                                  background=True)
    await asyncio.sleep(0.05)
    await kb.close()
    assert kb._reembed_task is not None and kb._reembed_task.cancelled()
    texts, meta = await _reopened(settings, "model-b", 8)
    assert texts == len(DOCS) and meta == {"embedder": "model-b", "reembed_to": ""}


def test_vectors_of_a_chunk_rewritten_since_it_was_read_are_not_written(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "kb.sqlite")
    store.open()
    try:
        old = [DocRecord(doc=d, hash=d.doc_id, chunks=chunk_document(d),
                         vectors=np.full((1, 4), 0.5, np.float32)) for d in DOCS[:3]]
        store.write_documents(old)
        rows = store.chunk_texts(0, 10)
        # The last chunk is rewritten: SQLite gives the new row the same rowid.
        changed = replace(DOCS[2], text="brand new words")
        store.write_documents([DocRecord(doc=changed, hash="new", chunks=chunk_document(changed),
                                         vectors=np.full((1, 4), 0.5, np.float32))])
        assert store.chunk_texts(0, 10)[2][0] == rows[2][0]
        fresh = np.eye(4, dtype=np.float32)[:3]
        assert store.put_embeddings(rows, fresh, [], np.zeros((0, 4), np.float32)) == 2
        rowids, matrix = store._vectors()[1], store._vectors()[0]
        by_row = dict(zip(rowids.tolist(), matrix.tolist(), strict=True))
        assert by_row[rows[0][0]] == [1, 0, 0, 0] and by_row[rows[2][0]] == [0.5] * 4
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.usefixtures("batches_of_two")
async def test_postgres_resumes_an_interrupted_reembed_and_skips_rewritten_chunks(
        pg_url: str, tmp_path: Path) -> None:
    settings = Settings(tandem_db_url=pg_url, tandem_data_dir=tmp_path)
    kb = await KnowledgeBase.open(settings, embedder=CountingEmbedder("model-a", 4))
    await kb.delete(list(await kb.hashes()))
    await kb.upsert(DOCS)
    rows = kb.store.chunk_texts(0, 2)
    await kb.upsert([replace(DOCS[1], text="brand new words")])
    assert kb.store.put_embeddings(rows, np.eye(4, dtype=np.float32)[:2], [],
                                   np.zeros((0, 4), np.float32)) == 1
    await kb.close()
    with pytest.raises(EmbeddingError):
        await KnowledgeBase.open(settings, embedder=FailingEmbedder("model-b", 8, budget=4))
    resumed = CountingEmbedder("model-b", 8)
    kb = await KnowledgeBase.open(settings, embedder=resumed)
    try:
        assert resumed.texts == 3 and kb.store.get_meta("embedder") == "model-b"
        hits = await kb.search("text number 5", k=2)
        assert hits and hits[0].doc_id == "d5"
    finally:
        await kb.delete(list(await kb.hashes()))
        await kb.close()


@pytest.fixture
async def two_processes(settings: Settings
                        ) -> AsyncIterator[list[tuple[KnowledgeBase, CountingEmbedder]]]:
    """A store of model-a vectors, opened twice with model-b, each with its own connection
    as two bot processes have."""
    await _stored(settings)
    pairs = []
    for _ in range(2):
        embedder = CountingEmbedder("model-b", 8)
        kb = KnowledgeBase(SqliteStore(settings.tandem_data_dir / "kb.sqlite"), embedder)
        await asyncio.to_thread(kb.store.open)
        kb.reembedding = True
        pairs.append((kb, embedder))
    yield pairs
    for kb, _ in pairs:
        await kb.close()


@pytest.mark.usefixtures("batches_of_two")
async def test_two_processes_reembedding_one_store_embed_each_chunk_once(
        two_processes: list[tuple[KnowledgeBase, CountingEmbedder]]) -> None:
    (a, first), (b, second) = two_processes
    written = await asyncio.wait_for(asyncio.gather(
        reembed_module.reembed(a, wait=0.01), reembed_module.reembed(b, wait=0.01)), 10)
    assert sorted(written) == [0, len(DOCS)]
    assert first.texts + second.texts == len(DOCS)  # not twice over
    assert not a.reembedding and not b.reembedding  # the waiting one searches by vector
    assert a.store.get_meta("embedder") == "model-b"
    hits = await b.search("text number 5", k=2)
    assert hits and hits[0].doc_id == "d5"


@pytest.mark.usefixtures("batches_of_two")
async def test_a_reembed_waits_for_a_live_lease_and_takes_over_one_whose_holder_died(
        two_processes: list[tuple[KnowledgeBase, CountingEmbedder]]) -> None:
    (a, first), _ = two_processes
    assert a.store.lease(reembed_module.LEASE, "other-host:1:dead", 0.3)
    assert not a.store.lease(reembed_module.LEASE, "third-host:2:x", 60)
    task = asyncio.create_task(reembed_module.reembed(a, wait=0.01))
    await asyncio.sleep(0.1)
    assert not task.done() and first.texts == 0  # the lease is still live
    assert await asyncio.wait_for(task, 10) == len(DOCS)  # then it ran out
    assert a.store.get_meta("embedder") == "model-b" and not a.reembedding
    # The pass let go of the lease when it ended: the next process need not wait.
    assert a.store.lease(reembed_module.LEASE, "third-host:2:x", 60)


def test_a_released_lease_is_free_to_another_holder_at_the_same_instant() -> None:
    from bot.kb.store_base import lease_value

    held = lease_value(None, "a", 60, now=100.0004)
    assert held == "160.000 a" and lease_value(held, "b", 60, now=100.0005) is None
    released = lease_value(held, "a", 0, now=100.0006)  # "100.001 a" would still hold it
    assert lease_value(released, "b", 60, now=100.0007) == "160.001 b"
