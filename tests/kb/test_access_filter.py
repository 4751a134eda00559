"""Access filters on the SQLite store: a channel allowed a small collection, or one
private channel, still gets its matches when other chunks match the query better."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.kb.chunking import chunk_document
from bot.kb.ranking import fts_query
from bot.kb.store_base import DocRecord, Filters
from bot.kb.store_sqlite import SqliteStore
from bot.kb.types import Document

NEAR, FAR = np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.6, 0.8, 0.0, 0.0])


def _record(doc: Document, vector: np.ndarray) -> DocRecord:
    chunks = chunk_document(doc)
    return DocRecord(doc=doc, hash=doc.doc_id, chunks=chunks,
                     vectors=np.tile(vector.astype(np.float32), (len(chunks), 1)))


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "kb.sqlite")
    store.open()
    # 300 short pages of one private channel that match "deploy" better than anything.
    store.write_documents([_record(Document(doc_id=f"e{i}", title="Deploys", url="u",
                                            text=f"Deploy, deploy, deploy: step {i}.",
                                            collection="eng", private_channel="CBIG"), NEAR)
                           for i in range(300)])
    hr = "Holiday requests go to your manager two weeks ahead; do not deploy on holidays."
    store.write_documents([
        _record(Document(doc_id="hr", title="Holidays", url="u", text=hr, collection="hr"),
                FAR),
        _record(Document(doc_id="own", title="Holidays", url="u", text=hr, collection="eng",
                         private_channel="CTEAM"), FAR)])
    return store


def _docs(store: SqliteStore, found: list[tuple[int, float]]) -> list[str]:
    rows = store.fetch([r for r, _ in found])
    return sorted(rows[r].doc_id for r, _ in found)


def test_sqlite_keyword_search_finds_a_small_allowed_collection_behind_better_matches(
        store: SqliteStore) -> None:
    found = store.bm25(fts_query("deploy"), 10, Filters(collections=("hr",), channel_id="CBIG"))
    assert _docs(store, found) == ["hr"]


def test_sqlite_vector_search_finds_a_small_allowed_collection_behind_nearer_chunks(
        store: SqliteStore) -> None:
    found = store.knn(NEAR, 10, Filters(collections=("hr",), channel_id="CBIG"))
    assert _docs(store, found) == ["hr"]


def test_sqlite_search_finds_what_a_channel_may_see_behind_another_channels_private_pages(
        store: SqliteStore) -> None:
    mine = Filters(channel_id="CTEAM")
    assert _docs(store, store.bm25(fts_query("deploy"), 10, mine)) == ["hr", "own"]
    assert _docs(store, store.knn(NEAR, 10, mine)) == ["hr", "own"]
    assert "own" not in _docs(store, store.bm25(fts_query("deploy"), 10, Filters()))


def test_sqlite_vector_search_looks_further_before_reading_every_chunk_a_channel_may_see(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqliteStore(tmp_path / "kb.sqlite")
    store.open()
    store.write_documents([_record(Document(doc_id=f"p{i}", title="Deploys", url="u",
                                            text=f"Private step {i}.", private_channel="CBIG"),
                                   NEAR) for i in range(40)])
    store.write_documents([_record(Document(doc_id=f"o{i}", title="Deploys", url="u",
                                            text=f"Open step {i}."),
                                   FAR + np.array([0, 0, i / 1000, 0])) for i in range(100)])
    everything = []
    read = store._allowed
    monkeypatch.setattr(store, "_allowed", lambda rowids, filters: (
        everything.append(rowids is None), read(rowids, filters))[1])
    found = store.knn(NEAR, 5, Filters(channel_id="CTEAM"))
    assert _docs(store, found) == sorted(f"o{i}" for i in range(5))  # the nearest open ones
    assert not any(everything)  # the 40 private pages did not cost a read of all 100
