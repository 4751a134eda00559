"""Postgres backend: pgvector for vectors (HNSW, cosine), full-text search for the lexical side.

Same methods as `SqliteStore`, blocking psycopg2 calls run by the knowledge base
in worker threads. Text is ranked by BM25 with FTS5's constants, computed in SQL from
each chunk's tsvector (title, heading, body) and word counts read from the GIN index
(`PostgresStore.bm25`), so a search ranks alike on either store.
Each document write is one transaction.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from bot.errors import unreachable
from bot.kb.ranking import BM25_B, BM25_K1, bm25_idf, lexical, matching_words
from bot.kb.store_base import (
    ChunkRow,
    ChunkText,
    DocInfo,
    DocRecord,
    Filters,
    KindCount,
    chunk_text,
    lease_value,
    tally_sql,
    unchanged,
)
from bot.kb.tails import TAIL_WEIGHT

__all__ = ["PostgresStore"]

_T = TypeVar("_T")
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kb_docs (
    doc_id TEXT PRIMARY KEY, collection TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL,
    hash TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL, private_channel TEXT);
CREATE TABLE IF NOT EXISTS kb_chunks (
    id BIGSERIAL PRIMARY KEY, chunk_id TEXT NOT NULL,
    doc_id TEXT NOT NULL REFERENCES kb_docs(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL,
    tsv TSVECTOR NOT NULL, embedding vector, collection TEXT NOT NULL, private_channel TEXT);
CREATE INDEX IF NOT EXISTS kb_chunks_doc ON kb_chunks(doc_id);
CREATE INDEX IF NOT EXISTS kb_chunks_tsv ON kb_chunks USING GIN (tsv);
CREATE TABLE IF NOT EXISTS kb_chunk_tails (
    id BIGSERIAL PRIMARY KEY, chunk BIGINT NOT NULL REFERENCES kb_chunks(id) ON DELETE CASCADE,
    embedding vector);
CREATE INDEX IF NOT EXISTS kb_chunk_tails_chunk ON kb_chunk_tails(chunk);
"""
_TSV = ("setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B')"
        " || setweight(to_tsvector('english', %s), 'C')")
# Who may see a chunk is copied onto it from its document (`_ACCESS_COLUMNS`): a join
# to kb_docs on every candidate cost a search 7-19 ms at 100k chunks.
_ACCESS = "(c.private_channel IS NULL OR c.private_channel = %s)"
_ACCESS_COLUMNS = """
ALTER TABLE kb_chunks ADD COLUMN IF NOT EXISTS collection TEXT,
    ADD COLUMN IF NOT EXISTS private_channel TEXT;
UPDATE kb_chunks c SET collection = d.collection, private_channel = d.private_channel
    FROM kb_docs d WHERE d.doc_id = c.doc_id;
ALTER TABLE kb_chunks ALTER COLUMN collection SET NOT NULL;
"""
# A chunk row is stored whole, not split into the TOAST table: a row of a 384-wide
# vector (1.5 kB), its words and its text passes Postgres' 2 kB default, and every
# search then fetched candidates' vectors and words from TOAST one by one. On COVID-QA's
# 2,600 chunks, search p50/p95 went from 34/49 ms to 21/34; at 100k synthetic chunks,
# 21.5/32.8 to 19.7/32.0 (the table grows about 10%).
_INLINE = "toast_tuple_target=8160"
_CHUNK_TEXTS = ("SELECT c.id, d.title, c.heading, c.text FROM kb_chunks c "
                "JOIN kb_docs d ON d.doc_id = c.doc_id")
# Lexical ranking is BM25, as FTS5 ranks on SQLite. `ts_rank`, used before, has no
# IDF: a chunk sharing two common words with a question outranked one holding its one
# rare word, and BM25-only recall@5 was 0.51 on COVID-QA's papers (now 0.85), 0.54 on
# the Node/npm docs (0.81) and 0.42 on CMake's (0.62; tests/bench/bench_kb_backends.py).
# A query's rarest words bring in up to about this many candidate chunks (see `bm25`):
# 1,000, 2,000 or no limit gave the same recall@5 on those sets, and at 100k chunks
# 1,000 kept the search p95 under 50 ms.
CANDIDATE_ROWS = 1000
_COUNTED_BELOW = 20_000  # a smaller store's chunks are counted, not estimated
_LENGTH_SAMPLE = 10_000  # chunks read for the mean chunk length
_QUOTED = re.compile(r'"([^"]+)"')
_NEAR = re.compile(r'NEAR\("([^"]+)" "([^"]+)", (\d+)\)')
# A lexeme's count in a chunk, read back from `ts_rank`. With every weight 1 and a
# one-lexeme query it returns H(n) / (pi^2/6) for n occurrences, H(n) = sum of 1/j^2
# for j <= n, and pi^2/6 - H(n) = 1 / (n + 1/2) closely enough to round back to n
# (up to the 255 positions a tsvector keeps of a lexeme).
_TF = ("round(1 / (1.6449340668 * (1 - ts_rank('{1,1,1,1}', c.tsv, %s::tsquery, 0)::float8))"
       " - 0.5)")
_STATS_TTL = 300.0  # seconds between reads of the planner's word statistics
# Searches read through their own connections, at most this many at once: a search's
# lexical and vector halves run in two threads, and on one shared connection the
# second waited for the first (query p95 72 ms at 100k chunks; see `PostgresStore._read`).
READERS = 4
SCHEMA_LOCK = 0x74616E64656D  # advisory lock key held while a process sets up the tables


class _Resized(Exception):
    """Another process resized the vector columns since this one last looked."""


def _extend_path(cur: Any, schema: str) -> None:
    """Append `schema` (already quoted) to this connection's search_path, for good."""
    cur.execute("SELECT set_config('search_path', current_setting('search_path') || ', ' || %s,"
                " false)", (schema,))


def _tsquery(lexeme: str) -> str:
    """A lexeme as a tsquery operand: quoted, as it may hold any character."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _vec(vector: Any) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def _execute(cur: Any, sql: str, args: Sequence[Any], setup: Sequence[str]
             ) -> list[tuple[Any, ...]]:
    for statement in setup:  # SET LOCAL: for this transaction only
        cur.execute(statement)
    cur.execute(sql, tuple(args))
    return list(cur.fetchall()) if cur.description else []


def _insert_tails(cur: Any, owners: Sequence[int], vectors: np.ndarray | None) -> None:
    if vectors is not None and len(owners):
        cur.executemany("INSERT INTO kb_chunk_tails (chunk, embedding) VALUES (%s, %s::vector)",
                        [(int(r), _vec(v)) for r, v in zip(owners, vectors, strict=True)])


class PostgresStore:
    parallel_reads = True  # searches read through a pool of connections

    def __init__(self, url: str) -> None:
        # A URL in SQLAlchemy's form names its driver ("postgresql+psycopg2://", as
        # TANDEM_DB_URL is written, which the store uses when TANDEM_KB_URL is unset):
        # libpq reads only "postgresql://" and refused it as an invalid DSN.
        self._url = re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)
        self._lock = threading.RLock()  # guards the writing connection
        self._conn: Any = None
        self._readers = threading.BoundedSemaphore(READERS)
        self._idle: list[Any] = []  # open read-only connections not in use
        self._dim: int | None = None
        # pgvector's schema when it is not on this store's search_path (`open`).
        self._extension_path: str | None = None
        self._iterative = False  # pgvector 0.8+: HNSW scans continue past filtered rows
        # Term statistics for BM25 (`_term_stats`): (chunks, mean distinct lexemes per
        # chunk), chunks holding each word, when they were read; each search's words
        # map to lexemes through `_lexeme_cache`.
        self._stats = (0.0, 1.0)
        self._freqs: dict[str, float] = {}
        self._stats_read = -_STATS_TTL
        self._lexeme_cache: dict[str, tuple[str, ...]] = {}
        self._counting = threading.Lock()

    def open(self) -> None:
        def schema(cur: Any) -> None:
            # One process at a time: two creating the tables at once can collide in the
            # catalog, and two upgrading an old store would both rewrite every row.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            # pgvector is installed once per database, in the first schema on the path of
            # whoever installed it. A store in another schema (two teams' stores in one
            # database) could not name its types: "type vector does not exist".
            cur.execute("SELECT quote_ident(n.nspname), n.nspname = ANY(current_schemas(false))"
                        " FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                        " WHERE e.extname = 'vector'")
            found = cur.fetchone()
            if found and not found[1]:
                self._extension_path = found[0]
                _extend_path(cur, found[0])
            cur.execute(_SCHEMA)
            cur.execute("SELECT 1 FROM information_schema.columns WHERE table_name = "
                        "'kb_chunks' AND column_name = 'collection' "
                        "AND table_schema = current_schema()")
            if not cur.fetchall():  # a store made before the access columns
                # Every chunk row is rewritten, index entries included: minutes at 100k.
                log.warning("kb.pg_upgrade: copying each document's access onto its chunks "
                            "(once)", extra={"chunks": self._estimate(cur)})
                cur.execute(_ACCESS_COLUMNS)
                log.warning("kb.pg_upgrade_done")
            self._store_rows_inline(cur)

        import psycopg2

        try:
            self._transaction(schema)
        except (psycopg2.OperationalError, psycopg2.ProgrammingError) as exc:
            # A server down, a wrong port or password, a URL libpq cannot read: one line
            # saying which setting, not a psycopg2 traceback (`tandem kb …` printed one),
            # and without the password (psycopg2's "invalid dsn" quotes the whole URL).
            if not isinstance(exc, psycopg2.OperationalError) and "dsn" not in str(exc):
                raise
            raise unreachable(self._url, exc, what="the knowledge base's Postgres",
                              fix="TANDEM_KB_URL (or TANDEM_DB_URL, which it follows when "
                                  "unset)") from exc
        dim = self.get_meta("dim")
        self._dim = int(dim) if dim else None
        version = self._query("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        self._iterative = _version(version[0][0]) >= (0, 8) if version else False

    def _store_rows_inline(self, cur: Any) -> None:
        cur.execute("SELECT relname FROM pg_class WHERE oid IN ('kb_chunks'::regclass, "
                    "'kb_chunk_tails'::regclass) AND NOT coalesce(reloptions, '{}') @> %s",
                    ([_INLINE],))
        for (table,) in cur.fetchall():
            cur.execute(f"ALTER TABLE {table} SET ({_INLINE})")
            if table == "kb_chunks":
                cur.execute("SELECT EXISTS (SELECT 1 FROM kb_chunks)")
                if cur.fetchone()[0]:  # a store made before: its rows stay as they are
                    log.warning("kb.pg_layout: new chunks are stored inline; run `VACUUM "
                                "FULL kb_chunks` off hours to move the existing ones too (it "
                                "locks the table while it runs)")

    @staticmethod
    def _estimate(cur: Any) -> int:
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'kb_chunks'::regclass")
        return max(int(cur.fetchone()[0]), 0)

    def close(self) -> None:
        self._close_idle()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _reader(self, *, fresh: bool = False) -> Iterator[tuple[Any, bool]]:
        """(a read-only connection of the pool, whether it was used before). One is
        opened when none is idle; one that failed is closed, not handed on."""

        with self._readers:
            try:
                conn, reused = (None, False) if fresh else (self._idle.pop(), True)
            except IndexError:  # list.pop is atomic: no lock needed around the pool
                conn, reused = None, False
            if conn is None:
                conn = self._connect()
                conn.set_session(readonly=True)
            try:
                yield conn, reused
            except BaseException:
                conn.close()
                raise
            self._idle.append(conn)

    def _read(self, sql: str, args: Sequence[Any] = (), *, setup: Sequence[str] = ()
              ) -> list[tuple[Any, ...]]:
        """As `_query`, for a search: on a reader connection, so that searches and the two
        halves of one search run at once, beside any write. A connection that died while
        idle (the server restarted) costs one retry on a new one, not a failed search."""
        import psycopg2

        for fresh in (False, True):
            reused = False
            try:
                with self._reader(fresh=fresh) as (conn, reused), conn, conn.cursor() as cur:
                    return _execute(cur, sql, args, setup)
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                if not reused:
                    raise
                self._close_idle()  # the other idle ones date from before the restart too
        raise AssertionError("unreachable")

    def _connect(self) -> Any:
        import psycopg2

        conn = psycopg2.connect(self._url)
        if self._extension_path:
            with conn, conn.cursor() as cur:
                _extend_path(cur, self._extension_path)
        return conn

    def _close_idle(self) -> None:
        while True:
            try:
                self._idle.pop().close()
            except IndexError:
                return

    def _transaction(self, work: Callable[[Any], _T]) -> _T:
        """`work(cursor)` in one transaction on the writing connection. Every write of
        this store is idempotent (rows are replaced, never added to), so when the server
        dropped the connection (a restart, a failover) the work runs once more on a new
        one instead of failing every write until the bot restarts."""
        import psycopg2

        with self._lock:
            for retry in (False, True):
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                try:
                    with self._conn, self._conn.cursor() as cur:
                        return work(cur)
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    if retry or not self._conn.closed:  # a live connection: a real error
                        raise
        raise AssertionError("unreachable")

    def _query(self, sql: str, args: Sequence[Any] = (), *, setup: Sequence[str] = ()
               ) -> list[tuple[Any, ...]]:
        return self._transaction(lambda cur: _execute(cur, sql, args, setup))

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM kb_meta WHERE key=%s", (key,))
        return rows[0][0] if rows else None

    def lease(self, key: str, holder: str, seconds: float) -> bool:
        """As `SqliteStore.lease`; the row lock serialises processes that race for it."""
        def take(cur: Any) -> bool:
            cur.execute("INSERT INTO kb_meta VALUES (%s, '') ON CONFLICT (key) DO NOTHING",
                        (key,))
            cur.execute("SELECT value FROM kb_meta WHERE key = %s FOR UPDATE", (key,))
            value = lease_value(cur.fetchone()[0], holder, seconds, time.time())
            if value is not None:
                cur.execute("UPDATE kb_meta SET value = %s WHERE key = %s", (value, key))
            return value is not None

        return self._transaction(take)

    def get_metas(self, keys: Sequence[str]) -> dict[str, str]:
        """As `SqliteStore.get_metas`: one round trip."""
        if not keys:
            return {}
        return {str(k): str(v) for k, v in self._query(
            "SELECT key, value FROM kb_meta WHERE key = ANY(%s)", (list(keys),))}

    def set_meta(self, key: str, value: str) -> None:
        self._query("INSERT INTO kb_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                    "SET value = EXCLUDED.value", (key, value))

    def delete_metas(self, keys: Sequence[str]) -> None:
        if keys:
            self._query("DELETE FROM kb_meta WHERE key = ANY(%s)", (list(keys),))

    def ensure_vectors(self, dim: int) -> None:
        """Size the vector columns for `dim`, dropping any vectors of another size, unless
        they are that size already: another process (whose re-embed this one waited
        for) may have resized them since this one read the size."""
        def resize(cur: Any) -> None:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cur.execute("SELECT value FROM kb_meta WHERE key = 'dim'")
            if (cur.fetchone() or ("",))[0] == str(dim):
                return
            cur.execute("DROP INDEX IF EXISTS kb_chunks_hnsw")
            cur.execute("DROP INDEX IF EXISTS kb_chunk_tails_hnsw")
            cur.execute("UPDATE kb_chunks SET embedding = NULL")
            cur.execute("DELETE FROM kb_chunk_tails")
            for table in ("kb_chunks", "kb_chunk_tails"):
                cur.execute(f"ALTER TABLE {table} ALTER COLUMN embedding "
                            f"TYPE vector({int(dim)})")
                cur.execute(f"CREATE INDEX {table}_hnsw ON {table} "
                            "USING hnsw (embedding vector_cosine_ops)")
            cur.execute("INSERT INTO kb_meta VALUES ('dim', %s) ON CONFLICT (key) "
                        "DO UPDATE SET value = EXCLUDED.value", (str(dim),))

        with self._lock:
            if self._dim != dim:
                self._transaction(resize)
                self._dim = dim

    def chunk_texts(self, after: int = 0, limit: int = 256) -> list[ChunkText]:
        rows = self._query(_CHUNK_TEXTS + " WHERE c.id > %s ORDER BY c.id LIMIT %s",
                           (int(after), int(limit)))
        return [chunk_text(r) for r in rows]

    def rewrite_words(self, rows: Sequence[ChunkText]) -> None:
        """Index those chunks' words again, as `lexical` reads them now."""
        def write(cur: Any) -> None:
            for rowid, title, heading, text in rows:
                cur.execute(f"UPDATE kb_chunks SET tsv = {_TSV} WHERE id = %s",
                            (lexical(title), lexical(heading), lexical(text), rowid))

        self._transaction(write)
        self._stats_read = -_STATS_TTL

    def stored_vectors(self, doc_ids: Sequence[str]) -> dict[tuple[str, str, str], np.ndarray]:
        """As `SqliteStore.stored_vectors`."""
        if not doc_ids:
            return {}
        rows = self._query(
            "SELECT d.title, c.heading, c.text, c.embedding::real[] FROM kb_chunks c "
            "JOIN kb_docs d ON d.doc_id = c.doc_id "
            "WHERE c.doc_id = ANY(%s) AND c.embedding IS NOT NULL", (list(doc_ids),))
        return {(str(t), str(h), str(x)): np.asarray(v, dtype=np.float32)
                for t, h, x, v in rows}

    def put_embeddings(self, rows: Sequence[ChunkText], vectors: np.ndarray,
                       owners: Sequence[int], tails: np.ndarray) -> int:
        """As `SqliteStore.put_embeddings`: chunks changed since they were read are skipped
        (their rows are locked while the batch is written)."""
        def put(cur: Any) -> int:
            self._check_size(cur, int(vectors.shape[1]))
            cur.execute(_CHUNK_TEXTS + " WHERE c.id = ANY(%s) FOR UPDATE OF c",
                        ([r[0] for r in rows],))
            keep, mine = unchanged(rows, cur.fetchall(), owners)
            cur.executemany("UPDATE kb_chunks SET embedding = %s::vector WHERE id = %s",
                            [(_vec(vectors[i]), rows[i][0]) for i in keep])
            cur.execute("DELETE FROM kb_chunk_tails WHERE chunk = ANY(%s)",
                        ([rows[i][0] for i in keep],))
            _insert_tails(cur, [rows[owners[j]][0] for j in mine], tails[mine])
            return len(keep)

        return self._sized(int(vectors.shape[1]), put)

    def _check_size(self, cur: Any, dim: int | None) -> None:
        """Raise `_Resized` unless the vector columns are `dim` wide. The shared lock
        holds off a resize (`ensure_vectors`) until this transaction ends."""
        if dim is None:
            return
        cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", (SCHEMA_LOCK,))
        cur.execute("SELECT value FROM kb_meta WHERE key = 'dim'")
        if (cur.fetchone() or ("",))[0] != str(dim):
            raise _Resized

    def _sized(self, dim: int | None, work: Callable[[Any], _T]) -> _T:
        """`work` in a transaction, with the vector columns `dim` wide. This process's
        idea of their size can be stale: another process, configured with another
        embedder, may have resized them (`deploy/README.md` §7). Its write then failed
        ("expected 8 dimensions, not 4") and the page was lost; now it resizes them
        back (that process re-embeds in its turn) and writes."""
        with self._lock:
            for _ in range(3):
                if dim is not None:
                    self.ensure_vectors(dim)
                try:
                    return self._transaction(work)
                except _Resized:
                    self._dim = None  # read the size again
        raise RuntimeError("the knowledge base's vectors keep changing size: are its "
                           "processes configured with different embedders?")

    def doc_hashes(self, *, collection: str | None = None, prefix: str | None = None,
                   ids: Sequence[str] | None = None) -> dict[str, str]:
        sql, args = "SELECT doc_id, hash FROM kb_docs WHERE TRUE", list[Any]()
        if ids is not None:
            sql, args = sql + " AND doc_id = ANY(%s)", [*args, list(ids)]
        if collection is not None:
            sql, args = sql + " AND collection = %s", [*args, collection]
        if prefix is not None:
            sql, args = sql + " AND left(doc_id, %s) = %s", [*args, len(prefix), prefix]
        return {str(r[0]): str(r[1]) for r in self._query(sql, args)}

    def documents(self, *, collection: str | None = None) -> list[DocInfo]:
        sql = ("SELECT d.doc_id, d.collection, d.title, d.url, d.updated_at, d.private_channel, "
               "(SELECT count(*) FROM kb_chunks c WHERE c.doc_id = d.doc_id) FROM kb_docs d")
        args = [collection] if collection is not None else []
        if collection is not None:
            sql += " WHERE d.collection = %s"
        sql += ' ORDER BY d.doc_id COLLATE "C"'  # byte order, as SQLite sorts
        return [DocInfo(str(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]),
                        r[5], int(r[6])) for r in self._query(sql, args)]

    def tally(self, *, collection: str | None = None) -> list[KindCount]:
        where, args = ("WHERE d.collection = %s", [collection]) if collection is not None \
            else ("", [])
        return [KindCount(str(r[0]), str(r[1]), r[2], int(r[3]), int(r[4]), float(r[5]))
                for r in self._query(tally_sql("kb_docs", "kb_chunks", where), args)]

    def write_documents(self, records: Sequence[DocRecord]) -> None:
        dims = {int(rec.vectors.shape[1]) for rec in records if len(rec.chunks)}
        if len(dims) > 1:
            raise ValueError(f"vectors of several sizes in one write: {sorted(dims)}")
        dim = dims.pop() if dims else None

        def write(cur: Any) -> None:
            self._check_size(cur, dim)
            for rec in records:
                doc = rec.doc
                cur.execute("DELETE FROM kb_docs WHERE doc_id = %s", (doc.doc_id,))
                cur.execute("INSERT INTO kb_docs VALUES (%s,%s,%s,%s,%s,%s,%s)",
                            (doc.doc_id, doc.collection, doc.title, doc.url, rec.hash,
                             doc.updated_at, doc.private_channel))
                rowids: list[int] = []
                for c, v in zip(rec.chunks, rec.vectors, strict=True):
                    cur.execute(
                        "INSERT INTO kb_chunks (chunk_id, doc_id, ordinal, heading, text, "
                        "start, tsv, embedding, collection, private_channel) VALUES "
                        f"(%s,%s,%s,%s,%s,%s,{_TSV},%s::vector,%s,%s) RETURNING id",
                        (c.chunk_id, doc.doc_id, c.ordinal, c.heading, c.text, c.start,
                         lexical(doc.title), lexical(c.heading), lexical(c.text),
                         _vec(v), doc.collection, doc.private_channel))
                    rowids.append(int(cur.fetchone()[0]))
                _insert_tails(cur, [rowids[i] for i in rec.tail_owners], rec.tail_vectors)

        self._sized(dim, write)
        self._stats_read = -_STATS_TTL  # this process's searches see its writes at once

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            self._query("DELETE FROM kb_docs WHERE doc_id = ANY(%s)", (list(doc_ids),))
            self._stats_read = -_STATS_TTL

    def _filter_sql(self, filters: Filters) -> tuple[str, list[Any]]:
        sql, args = _ACCESS, list[Any]([filters.channel_id or ""])
        if filters.collections is not None:
            sql, args = sql + " AND c.collection = ANY(%s)", [*args, list(filters.collections)]
        return sql, args

    def bm25(self, match: str, limit: int, filters: Filters) -> list[tuple[int, float]]:
        """Chunks matching the FTS5 expression `match`, best first by BM25 over its words.

        '"a" OR "b"' (`ranking.fts_query`) matches chunks holding any of the words. At
        scale that is tens of thousands of rows for a query with a common word, so only
        the rarest words bring in candidates, up to about `CANDIDATE_ROWS` chunks (always
        at least the rarest word's); every word of the query still counts in their score.
        'NEAR("a" "b", 3) OR …' (`ranking.near_query`) matches chunks holding a pair of
        the query's adjacent words at most 3 words apart, ranked by BM25 over the pairs'
        words."""
        pairs = _NEAR.findall(match)
        terms = [t for pair in pairs for t in pair[:2]] if pairs else _QUOTED.findall(match)
        lexemes = self._lexemes(terms)
        words = sorted({x for t in terms for x in lexemes[t]})
        if not words:
            return []
        rows, length, freqs = self._term_stats(words)
        present = sorted((n, w) for w, n in freqs.items() if n > 0)
        if not present:
            return []
        if pairs:
            query = " | ".join(
                f"{_tsquery(x)} <{gap}> {_tsquery(y)}"
                for a, b, distance in pairs for la in lexemes[a] for lb in lexemes[b]
                for x, y in ((la, lb), (lb, la)) for gap in range(1, int(distance) + 2))
            if not query:
                return []
        else:
            query = " | ".join(_tsquery(w) for w in matching_words(present, CANDIDATE_ROWS))
        where, args = self._filter_sql(filters)
        scored = [(w, bm25_idf(n, rows)) for n, w in present]
        values = ", ".join(f"(%s::float8, {_TF})" for _ in scored)
        sql = (f"SELECT id, sum(t.idf * t.tf * {BM25_K1 + 1} / "
               f"(t.tf + {BM25_K1} * ({1 - BM25_B} + {BM25_B} * len / %s))) AS s "
               "FROM (SELECT c.id, c.tsv, length(c.tsv) AS len FROM kb_chunks c "
               f"WHERE c.tsv @@ %s::tsquery AND {where} OFFSET 0) c, "
               f"LATERAL (VALUES {values}) AS t(idf, tf) WHERE t.tf > 0 "
               "GROUP BY id ORDER BY s DESC, id LIMIT %s")
        values_args = [x for w, idf in scored for x in (idf, _tsquery(w))]
        return [(int(r[0]), float(r[1])) for r in
                self._read(sql, [length, query, *args, *values_args, limit])]

    def _lexemes(self, terms: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each query word's lexemes, as Postgres' English configuration indexes them."""
        missing = sorted({t for t in terms if t not in self._lexeme_cache})
        if missing:
            if len(self._lexeme_cache) > 50_000:
                self._lexeme_cache.clear()
            for term, found in self._read(
                    "SELECT t, array(SELECT lexeme FROM unnest(to_tsvector('english', t))) "
                    "FROM unnest(%s::text[]) AS t", (missing,)):
                self._lexeme_cache[term] = tuple(found)
        return {t: self._lexeme_cache.get(t, ()) for t in terms}

    def _term_stats(self, words: Sequence[str]) -> tuple[float, float, dict[str, float]]:
        """(chunks, their mean number of distinct lexemes, chunks holding each word).

        The store's totals are read again every `_STATS_TTL` seconds, after this process
        writes, and as soon as a word turns out to be in more chunks than they say
        (another process filled a new store). A word among the most common (planner
        statistics, which ANALYZE keeps) takes its count from there; any other is
        counted in the GIN index, a few milliseconds for words in under
        `CANDIDATE_ROWS` chunks, and kept until the next refresh, unless absent: a word
        another process may be writing now must not stay unfindable for minutes."""
        # One count at a time: a search's keyword and proximity lists ask at once for
        # the same words, and the second then finds them counted.
        with self._counting:
            if time.monotonic() - self._stats_read > _STATS_TTL:
                self._read_totals()
            missing = [w for w in words if w not in self._freqs]
            counted = dict(self._read(
                "SELECT w, (SELECT count(*) FROM kb_chunks WHERE tsv @@ q::tsquery) "
                "FROM unnest(%s::text[], %s::text[]) AS u(w, q)",
                (missing, [_tsquery(w) for w in missing]))) if missing else {}
            self._freqs.update((w, n) for w, n in counted.items() if n > 0)
            freqs = {w: float(self._freqs.get(w, 0)) for w in words}
        if max(freqs.values(), default=0.0) > self._stats[0]:
            self._read_totals()
        chunks, length = self._stats
        return max(chunks, 1.0), length, freqs

    def _read_totals(self) -> None:
        rows = self._read(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, "
            "c.reltuples FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = "
            "'kb_chunks' AND s.attname = 'tsv' AND s.schemaname = current_schema() "
            "WHERE c.oid = 'kb_chunks'::regclass")
        common, shares, estimate = rows[0] if rows else (None, None, -1.0)
        chunks = float(estimate or 0)
        if chunks < _COUNTED_BELOW:  # never analyzed (-1), or small: count exactly
            chunks = float(self._read("SELECT count(*) FROM kb_chunks")[0][0])
        sample = self._read("SELECT avg(length(tsv)) FROM (SELECT tsv FROM kb_chunks "
                            "LIMIT %s) AS s", (_LENGTH_SAMPLE,))
        self._stats = (chunks, float(sample[0][0] or 1.0))
        # most_common_elem_freqs ends with three summary numbers past the words'.
        self._freqs = {w: share * chunks for w, share in
                       zip(common or (), shares or (), strict=False)
                       if share * chunks > CANDIDATE_ROWS}
        self._stats_read = time.monotonic()

    def knn(self, vector: np.ndarray, limit: int, filters: Filters) -> list[tuple[int, float]]:
        """Nearest chunks by their own vector or a tail's (`TAIL_WEIGHT` times its cosine),
        each chunk once with its best score.

        When the planner walks the HNSW index, pgvector returns at most `hnsw.ef_search`
        rows (40 by default) and applies the access filter after the walk: 50 candidates
        came back as 40, and a channel allowed one small collection got none of it when
        other collections' chunks were nearer. So each search widens the walk to twice
        its limit and, on pgvector 0.8+, lets it continue until enough rows pass the
        filter (`hnsw.iterative_scan`; the outer query orders them again)."""
        if self._dim is None:
            return []
        setup = [f"SET LOCAL hnsw.ef_search = {max(40, 2 * int(limit))}"]
        if self._iterative:
            setup.append("SET LOCAL hnsw.iterative_scan = relaxed_order")
        where, args = self._filter_sql(filters)
        sql = (f"SELECT id, max(sim) AS best FROM ("
               f"(SELECT c.id, 1 - (c.embedding <=> %s::vector) AS sim FROM kb_chunks c "
               f"WHERE {where} AND c.embedding IS NOT NULL "  # NULL: not embedded yet
               f"ORDER BY c.embedding <=> %s::vector LIMIT %s) UNION ALL "
               f"(SELECT t.chunk, {TAIL_WEIGHT} * (1 - (t.embedding <=> %s::vector)) "
               f"FROM kb_chunk_tails t JOIN kb_chunks c ON c.id = t.chunk WHERE {where} "
               f"ORDER BY t.embedding <=> %s::vector LIMIT %s)) AS near "
               f"GROUP BY id ORDER BY best DESC, id LIMIT %s")
        v = _vec(vector)
        return [(int(r[0]), float(r[1])) for r in
                self._read(sql, [v, *args, v, limit, v, *args, v, limit * 2, limit],
                           setup=setup)]

    def fetch(self, rowids: Sequence[int]) -> dict[int, ChunkRow]:
        if not rowids:
            return {}
        rows = self._read(
            "SELECT c.id, c.chunk_id, c.doc_id, c.heading, c.text, c.start, d.title, d.url, "
            "d.collection FROM kb_chunks c JOIN kb_docs d ON d.doc_id = c.doc_id "
            "WHERE c.id = ANY(%s)", (list(rowids),))
        return {int(r[0]): ChunkRow(*r) for r in rows}

    def count_chunks(self) -> int:
        return int(self._query("SELECT count(*) FROM kb_chunks")[0][0])
