"""SQLite backend: documents and chunks in tables, FTS5 for BM25, sqlite-vec for vectors.

One connection guarded by a lock, used from worker threads only (the knowledge
base wraps every call in `asyncio.to_thread`). Every write of a document is one
transaction, so an interrupted ingest leaves each document either old or new,
never half-written, and a re-run resumes by content hash.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bot.kb.ranking import lexical
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
from bot.kb.threads import single_thread

__all__ = ["SqliteStore"]

# FTS5 column weights (title, heading, body): a query word in a title or heading
# says more about the chunk than the same word deep in its body.
DEFAULT_FIELD_WEIGHTS = (2.0, 1.5, 1.0)
TOKENIZER = "porter unicode61 remove_diacritics 2"
_CHUNK_TEXTS = ("SELECT c.id, d.title, c.heading, c.text FROM chunks c "
                "JOIN docs d ON d.doc_id=c.doc_id")


def _connect(path: str) -> Any:
    import sqlite3

    module: Any = sqlite3
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        # Some Python builds (pyenv's default) ship sqlite3 without extension loading.
        import pysqlite3

        module = pysqlite3
    db = module.connect(path, check_same_thread=False, isolation_level=None)
    db.enable_load_extension(True)
    import sqlite_vec

    sqlite_vec.load(db)
    db.enable_load_extension(False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


_HALF_SAFE = 8.0  # unit vectors' entries are within ±1; float16 holds up to 65504


def _scanner(matrix: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Cosine scores of one query against every row.

    The scan is memory-bound (100k × 384 float32 is 150 MB a query). When the local
    embedder has loaded torch, a float16 copy halves the bytes and runs in torch, where
    numpy's BLAS threads would fight the model's for the two cores. Otherwise numpy on
    float32.

    float16, not bfloat16: torch's float16 matrix-vector kernel accumulates in float32
    and needs no AMX, while its bfloat16 kernels are slow without it. Measured for 100k
    rows on one core of an AMD host with AVX512-BF16: 3.7 ms, against 8.4 ms for the
    best bfloat16 layout (a transposed table times a 1 × d query) and 12 ms for float32.
    Its 10-bit mantissa is also closer to float32 than bfloat16's 7 bits (largest error
    on unit vectors 1e-4, against 2e-3). Vectors are unit length, far inside float16's
    range; a matrix that is not falls back to float32. It runs on one thread: see
    `bot.kb.threads`.
    """
    torch = sys.modules.get("torch")
    if torch is None or not len(matrix) or max(matrix.max(), -matrix.min()) > _HALF_SAFE:
        return lambda vector: matrix @ vector
    table = torch.from_numpy(matrix.astype(np.float16))  # a writable copy, half the bytes

    def scan(vector: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), single_thread(torch):
            query = torch.from_numpy(np.array(vector, np.float16))  # a writable copy
            scores: np.ndarray = (table @ query).float().numpy()
        return scores

    return scan


_WIDER = 24  # how much further `knn` looks before it reads every allowed chunk


def _nearest(scores: np.ndarray, rowids: np.ndarray, chunks: int) -> list[tuple[int, float]]:
    """Up to `chunks` chunks by their best score, best first. A chunk may hold several of
    the best vectors (its own and its tails'): take enough vectors to find that many."""
    want = min(len(scores), chunks * 2)
    if want == 0:
        return []
    order = np.argpartition(-scores, want - 1)[:want]
    order = order[np.argsort(-scores[order])]
    best: dict[int, float] = {}
    for i in order:
        best.setdefault(int(rowids[i]), float(scores[i]))
    return list(best.items())[:chunks]


class SqliteStore:
    parallel_reads = False  # one connection: queries take turns

    def __init__(self, path: str | Path, *, field_weights: Sequence[float] = DEFAULT_FIELD_WEIGHTS
                 ) -> None:
        self._path = str(path)
        self._lock = threading.RLock()
        self._db: Any = None
        self._dim: int | None = None
        self._version: int | None = None  # PRAGMA data_version when the caches were made
        self.field_weights = tuple(field_weights)
        # In-memory copy of the vectors for exact search: a float32 matmul over 100k
        # rows takes milliseconds where vec0's scan takes hundreds. Rebuilt lazily
        # after any write; sqlite-vec stays the durable store.
        self._matrix: np.ndarray | None = None
        self._scan: Callable[[np.ndarray], np.ndarray] = _scanner(np.zeros((0, 0), np.float32))
        self._rowids: np.ndarray | None = None
        self._n_chunks: int | None = None  # for IDF; reset by every write
        self._idf: dict[str, float] = {}  # word → IDF, valid while _n_chunks is set
        self._stemmer: Any = None  # in-memory FTS5 with the index's tokenizer

    def open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._db = _connect(self._path)
        self._db.executescript(f"""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS docs (
                doc_id TEXT PRIMARY KEY, collection TEXT NOT NULL, title TEXT NOT NULL,
                url TEXT NOT NULL, hash TEXT NOT NULL, updated_at REAL NOT NULL,
                private_channel TEXT);
            CREATE INDEX IF NOT EXISTS docs_collection ON docs(collection);
            CREATE TABLE IF NOT EXISTS chunks (
                id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL,
                ordinal INTEGER NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL,
                start INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
            CREATE TABLE IF NOT EXISTS chunk_tails (
                id INTEGER PRIMARY KEY, chunk INTEGER NOT NULL, embedding BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS chunk_tails_chunk ON chunk_tails(chunk);
            CREATE VIRTUAL TABLE IF NOT EXISTS chunk_fts USING fts5(
                title, heading, body, tokenize='{TOKENIZER}');
            CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunk_terms
                USING fts5vocab(main, chunk_fts, 'row');
        """)
        dim = self.get_meta("dim")
        self._dim = int(dim) if dim else None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            if self._stemmer is not None:
                self._stemmer.close()
                self._stemmer = None

    # -- meta ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def get_metas(self, keys: Sequence[str]) -> dict[str, str]:
        """The values of those `keys` that are set, in one query."""
        if not keys:
            return {}
        with self._lock:
            return dict(self._db.execute(
                f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(keys))})",
                list(keys)).fetchall())

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def delete_metas(self, keys: Sequence[str]) -> None:
        if keys:
            with self._lock:
                self._db.execute(f"DELETE FROM meta WHERE key IN ({','.join('?' * len(keys))})",
                                 list(keys))

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction; the caller holds `self._lock`. It takes SQLite's write
        lock first (IMMEDIATE), waiting for another process's: begun DEFERRED, its first
        read pinned a snapshot that another process's commit made stale, and the write
        then failed at once with "database is locked". Rolled back on any error."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def lease(self, key: str, holder: str, seconds: float) -> bool:
        """Hold the lease `key` for `seconds` when it is free, expired or `holder`'s
        already (see `store_base.lease_value`); other processes see it at once."""
        with self._lock:
            with self._writing():  # no other process reads between
                row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
                value = lease_value(row[0] if row else None, holder, seconds, time.time())
                if value is not None:
                    self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        return value is not None

    def _sync(self) -> None:
        """Forget what this connection cached (the vectors, the word counts, the vector
        size) when another connection, another process, committed since: a `tandem kb
        ingest` beside the running bot, or another process's re-embed. Before, the bot
        kept searching the vectors it had read at start, whose rowids SQLite may since
        have given to other chunks. Caller holds the lock."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._version = version
            self._matrix = self._n_chunks = None
            dim = self._db.execute("SELECT value FROM meta WHERE key='dim'").fetchone()
            self._dim = int(dim[0]) if dim else None

    def ensure_vectors(self, dim: int) -> None:
        """Create the vector table on first write, when the embedder's size is known."""
        with self._lock:
            self._sync()  # another process may have made it in this size already
            if self._dim == dim:
                return
            self._db.execute("DROP TABLE IF EXISTS chunk_vec")
            self._db.execute("DELETE FROM chunk_tails")
            self._db.execute(f"CREATE VIRTUAL TABLE chunk_vec USING vec0("
                             f"embedding float[{int(dim)}] distance_metric=cosine)")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('dim', ?)", (str(dim),))
            self._dim = dim

    def chunk_texts(self, after: int = 0, limit: int = 256) -> list[ChunkText]:
        """Up to `limit` chunks past rowid `after`, in rowid order: a re-embed walks the
        store in such batches."""
        with self._lock:
            rows = self._db.execute(_CHUNK_TEXTS + " WHERE c.id > ? ORDER BY c.id LIMIT ?",
                                    (int(after), int(limit))).fetchall()
        return [chunk_text(r) for r in rows]

    def rewrite_words(self, rows: Sequence[ChunkText]) -> None:
        """Index those chunks' words again, as `lexical` reads them now."""
        with self._lock, self._writing():
            for rowid, title, heading, text in rows:
                self._db.execute("DELETE FROM chunk_fts WHERE rowid=?", (rowid,))
                self._db.execute("INSERT INTO chunk_fts (rowid, title, heading, body) "
                                 "VALUES (?,?,?,?)", (rowid, lexical(title), lexical(heading),
                                                      lexical(text)))

    def stored_vectors(self, doc_ids: Sequence[str]) -> dict[tuple[str, str, str], np.ndarray]:
        """The stored vector of each chunk of those documents, by what it was embedded
        from: (title, heading, text)."""
        out: dict[tuple[str, str, str], np.ndarray] = {}
        with self._lock:
            if self._dim is None:
                return out
            for i in range(0, len(doc_ids), 500):
                part = list(doc_ids[i:i + 500])
                for title, heading, text, blob in self._db.execute(
                        "SELECT d.title, c.heading, c.text, v.embedding FROM chunks c "
                        "JOIN docs d ON d.doc_id=c.doc_id JOIN chunk_vec v ON v.rowid=c.id "
                        f"WHERE c.doc_id IN ({','.join('?' * len(part))})", part):
                    out[(title, heading, text)] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_embeddings(self, rows: Sequence[ChunkText], vectors: np.ndarray,
                       owners: Sequence[int], tails: np.ndarray) -> int:
        """Replace the vectors of chunks re-embedded from `rows` (as `chunk_texts` gave
        them) and their tail vectors (`tails`, of the chunks at `owners` in `rows`), in
        one transaction. A chunk deleted or rewritten since it was read is left alone:
        its writer stored its own vectors. Returns how many chunks were written."""
        with self._lock:
            self._matrix = self._n_chunks = None
            with self._writing():
                current: list[Any] = []
                rowids = [r[0] for r in rows]
                for i in range(0, len(rowids), 500):
                    part = rowids[i:i + 500]
                    current += self._db.execute(
                        _CHUNK_TEXTS + f" WHERE c.id IN ({','.join('?' * len(part))})", part)
                keep, mine = unchanged(rows, current, owners)
                ids = [rows[i][0] for i in keep]
                # vec0 tables do not honour OR REPLACE: delete, then insert.
                self._db.executemany("DELETE FROM chunk_vec WHERE rowid = ?",
                                     [(r,) for r in ids])
                self._db.executemany(
                    "INSERT INTO chunk_vec (rowid, embedding) VALUES (?, ?)",
                    [(rows[i][0], np.asarray(vectors[i], dtype=np.float32).tobytes())
                     for i in keep])
                self._delete_tails(ids)
                self._insert_tails([rows[owners[j]][0] for j in mine], tails[mine])
        return len(keep)

    def _delete_tails(self, rowids: list[int]) -> None:
        for i in range(0, len(rowids), 500):
            part = rowids[i:i + 500]
            marks = ",".join("?" * len(part))
            self._db.execute(f"DELETE FROM chunk_tails WHERE chunk IN ({marks})", part)

    def _insert_tails(self, owners: Sequence[int], vectors: np.ndarray | None) -> None:
        if vectors is not None and len(owners):
            self._db.executemany(
                "INSERT INTO chunk_tails (chunk, embedding) VALUES (?, ?)",
                [(int(r), np.asarray(v, dtype=np.float32).tobytes())
                 for r, v in zip(owners, vectors, strict=True)])

    # -- documents ----------------------------------------------------------
    def doc_hashes(self, *, collection: str | None = None, prefix: str | None = None,
                   ids: Sequence[str] | None = None) -> dict[str, str]:
        sql, args = "SELECT doc_id, hash FROM docs WHERE 1=1", list[Any]()
        if ids is not None:
            sql, args = sql + f" AND doc_id IN ({','.join('?' * len(ids)) or 'NULL'})", \
                [*args, *ids]
        if collection is not None:
            sql, args = sql + " AND collection=?", [*args, collection]
        if prefix is not None:
            sql, args = sql + " AND substr(doc_id, 1, ?)=?", [*args, len(prefix), prefix]
        with self._lock:
            return dict(self._db.execute(sql, args).fetchall())

    def documents(self, *, collection: str | None = None) -> list[DocInfo]:
        sql = ("SELECT d.doc_id, d.collection, d.title, d.url, d.updated_at, d.private_channel, "
               "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.doc_id) FROM docs d")
        args = [collection] if collection is not None else []
        if collection is not None:
            sql += " WHERE d.collection=?"
        with self._lock:
            return [DocInfo(*row) for row in self._db.execute(sql + " ORDER BY d.doc_id", args)]

    def tally(self, *, collection: str | None = None) -> list[KindCount]:
        where, args = ("WHERE d.collection=?", [collection]) if collection is not None \
            else ("", [])
        with self._lock:
            return [KindCount(*row) for row in self._db.execute(
                tally_sql("docs", "chunks", where), args)]

    def _delete(self, doc_id: str) -> None:
        ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]
        if ids:
            marks = ",".join("?" * len(ids))
            self._db.execute(f"DELETE FROM chunk_fts WHERE rowid IN ({marks})", ids)
            if self._dim is not None:
                self._db.execute(f"DELETE FROM chunk_vec WHERE rowid IN ({marks})", ids)
            self._db.execute(f"DELETE FROM chunk_tails WHERE chunk IN ({marks})", ids)
            self._db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", ids)
        self._db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))

    def write_documents(self, records: Sequence[DocRecord]) -> None:
        """Replace each document and its chunks in one transaction."""
        with self._lock:
            self._matrix = self._n_chunks = None
            with self._writing():
                for rec in records:
                    self._write_one(rec)

    def _write_one(self, rec: DocRecord) -> None:
        doc = rec.doc
        if len(rec.chunks):
            self.ensure_vectors(int(rec.vectors.shape[1]))
        self._delete(doc.doc_id)
        self._db.execute("INSERT INTO docs VALUES (?,?,?,?,?,?,?)",
                         (doc.doc_id, doc.collection, doc.title, doc.url, rec.hash,
                          doc.updated_at, doc.private_channel))
        rowids: list[int] = []
        for chunk, vector in zip(rec.chunks, rec.vectors, strict=True):
            cur = self._db.execute(
                "INSERT INTO chunks (chunk_id, doc_id, ordinal, heading, text, start) "
                "VALUES (?,?,?,?,?,?)",
                (chunk.chunk_id, doc.doc_id, chunk.ordinal, chunk.heading, chunk.text,
                 chunk.start))
            rowid = cur.lastrowid
            rowids.append(rowid)
            self._db.execute("INSERT INTO chunk_fts (rowid, title, heading, body) "
                             "VALUES (?,?,?,?)", (rowid, lexical(doc.title),
                                                   lexical(chunk.heading),
                                                   lexical(chunk.text)))
            self._db.execute("INSERT INTO chunk_vec (rowid, embedding) VALUES (?, ?)",
                             (rowid, np.asarray(vector, dtype=np.float32).tobytes()))
        self._insert_tails([rowids[i] for i in rec.tail_owners], rec.tail_vectors)

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        with self._lock:
            self._matrix = self._n_chunks = None
            with self._writing():
                for doc_id in doc_ids:
                    self._delete(doc_id)

    # -- search -------------------------------------------------------------
    @staticmethod
    def _access_sql(filters: Filters) -> tuple[str, list[Any]]:
        """The WHERE clause on `docs d` that keeps what `filters` lets a channel see."""
        sql, args = "(d.private_channel IS NULL OR d.private_channel=?)", [filters.channel_id or ""]
        if filters.collections is not None:
            sql += f" AND d.collection IN ({','.join('?' * len(filters.collections))})"
            args += list(filters.collections)
        return sql, args

    def _allowed(self, rowids: list[int] | None, filters: Filters) -> set[int]:
        """Which of `rowids` (None: of all chunks) `filters` let the channel see."""
        if rowids == []:
            return set()
        where, args = self._access_sql(filters)
        sql = f"SELECT c.id FROM chunks c JOIN docs d ON d.doc_id=c.doc_id WHERE {where}"
        if rowids is not None:
            sql, args = sql + f" AND c.id IN ({','.join('?' * len(rowids))})", [*args, *rowids]
        with self._lock:
            return {r[0] for r in self._db.execute(sql, args)}

    def bm25(self, match: str, limit: int, filters: Filters) -> list[tuple[int, float]]:
        """The best `limit` matches that `filters` allow. The best matches of all are
        read first and filtered; when too few of them are allowed (a channel limited
        to a small collection, behind a large one that matches better), the matches
        are ranked again among the allowed chunks only."""
        if not match:
            return []
        w = self.field_weights
        rank = f"bm25(chunk_fts, {w[0]}, {w[1]}, {w[2]})"
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, {rank} AS s FROM chunk_fts WHERE chunk_fts MATCH ? "
                f"ORDER BY s LIMIT ?", (match, limit * 3)).fetchall()
        allowed = self._allowed([r[0] for r in rows], filters)
        if len(allowed) < limit and len(rows) == limit * 3:
            where, args = self._access_sql(filters)
            with self._lock:
                rows = self._db.execute(
                    f"SELECT chunk_fts.rowid, {rank} AS s FROM chunk_fts JOIN chunks c ON "
                    f"c.id = chunk_fts.rowid JOIN docs d ON d.doc_id = c.doc_id WHERE "
                    f"chunk_fts MATCH ? AND {where} ORDER BY s LIMIT ?",
                    (match, *args, limit)).fetchall()
            allowed = {r[0] for r in rows}
        # FTS5's bm25() is negative (lower is better); flip it so higher is better.
        return [(r[0], -r[1]) for r in rows if r[0] in allowed][:limit]

    def _stems(self, words: Sequence[str]) -> list[str | None]:
        """Each word's term as the index stores it (the same Porter tokenizer)."""
        if self._stemmer is None:
            self._stemmer = _connect(":memory:")
            self._stemmer.executescript(f"""
                CREATE VIRTUAL TABLE w USING fts5(x, tokenize='{TOKENIZER}');
                CREATE VIRTUAL TABLE wv USING fts5vocab(w, 'instance');""")
        db = self._stemmer
        db.execute("BEGIN")
        db.executemany("INSERT INTO w (rowid, x) VALUES (?, ?)", list(enumerate(words, 1)))
        found = dict(db.execute("SELECT doc, term FROM wv WHERE offset=0").fetchall())
        db.execute("ROLLBACK")
        return [found.get(i) for i in range(1, len(words) + 1)]

    def term_weights(self, words: Sequence[str]) -> dict[str, float]:
        """BM25 IDF of each query word over all chunks (words absent from the index get 0).

        Cached per word until the next write: a document-frequency lookup walks the
        term's whole posting list, which for a common word at 100k chunks is not free.
        """
        with self._lock:
            self._sync()
            if self._n_chunks is None:
                self._idf = {}
                self._n_chunks = int(self._db.execute("SELECT count(*) FROM chunks")
                                     .fetchone()[0])
            todo = [w for w in dict.fromkeys(words) if w not in self._idf]
            if todo:
                stems = self._stems(todo)
                keys = sorted({s for s in stems if s})
                marks = ",".join("?" * len(keys))
                df = dict(self._db.execute(f"SELECT term, doc FROM temp.chunk_terms "
                                           f"WHERE term IN ({marks})", keys).fetchall()
                          ) if keys else {}
                n = self._n_chunks
                for w, s in zip(todo, stems, strict=True):
                    self._idf[w] = (math.log(1 + (n - df[s] + 0.5) / (df[s] + 0.5))
                                    if s in df else 0.0)
            return {w: self._idf[w] for w in words}

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every vector (chunks', then tails' scaled by `TAIL_WEIGHT`) and its chunk."""
        with self._lock:
            self._sync()
            if self._dim is None:  # nothing embedded yet: there is no vector table
                return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
            if self._matrix is None:
                rows = self._db.execute("SELECT rowid, embedding FROM chunk_vec").fetchall()
                heads = len(rows)
                rows += self._db.execute("SELECT chunk, embedding FROM chunk_tails").fetchall()
                dim = self._dim or 0
                self._rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                matrix = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                          .reshape(len(rows), dim).copy())
                matrix[heads:] *= TAIL_WEIGHT
                self._matrix = matrix
                self._scan = _scanner(self._matrix)
            assert self._rowids is not None
            return self._matrix, self._rowids

    def knn(self, vector: np.ndarray, limit: int, filters: Filters) -> list[tuple[int, float]]:
        matrix, rowids = self._vectors()
        if not len(rowids):
            return []
        scores = self._scan(np.asarray(vector, dtype=np.float32))
        found = _nearest(scores, rowids, limit * 3)
        allowed = self._allowed([r for r, _ in found], filters)
        if sum(r in allowed for r, _ in found) < limit and len(scores) > limit * 6:
            # Too few of the nearest chunks are this channel's. Look further first
            # (another channel's private pages were nearer), then among the allowed
            # chunks only (a small collection behind a large one): that reads every
            # allowed id, 78 ms at 100k chunks when most of them are.
            found = _nearest(scores, rowids, limit * _WIDER)
            allowed = self._allowed([r for r, _ in found], filters)
            beyond = len(found) == limit * _WIDER or len(scores) > limit * _WIDER * 2
            if sum(r in allowed for r, _ in found) < limit and beyond:
                allowed = self._allowed(None, filters)
                keep = np.isin(rowids, np.fromiter(allowed, dtype=np.int64,
                                                   count=len(allowed)))
                found = _nearest(scores[keep], rowids[keep], limit * 3)
        return [(r, s) for r, s in found if r in allowed][:limit]

    def fetch(self, rowids: Sequence[int]) -> dict[int, ChunkRow]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT c.id, c.chunk_id, c.doc_id, c.heading, c.text, c.start, d.title, d.url, "
                f"d.collection FROM chunks c JOIN docs d ON d.doc_id=c.doc_id "
                f"WHERE c.id IN ({marks})", list(rowids)).fetchall()
        return {r[0]: ChunkRow(*r) for r in rows}

    def count_chunks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])
