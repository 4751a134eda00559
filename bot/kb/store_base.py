"""What every storage backend shares: the rows it takes and returns, and search filters.

Backends (`SqliteStore`, `PostgresStore`) are blocking classes with the same
methods; the knowledge base runs them in worker threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np

from bot.kb.types import Chunk, Document

__all__ = ["ChunkRow", "ChunkText", "DocInfo", "DocRecord", "Filters", "KindCount", "Store",
           "chunk_text", "tally_sql", "unchanged"]

# (rowid, title, heading, text): what a chunk's vector is embedded from, as a re-embed
# reads it (`Store.chunk_texts`).
ChunkText = tuple[int, str, str, str]


@dataclass(frozen=True)
class Filters:
    """Access control for one search: allowed collections (None: all) and the asking channel."""

    collections: tuple[str, ...] | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class DocRecord:
    doc: Document
    hash: str
    chunks: list[Chunk]
    vectors: np.ndarray  # one per chunk
    # Tail vectors (`bot.kb.tails`): each row's chunk, as an index into `chunks`.
    tail_owners: tuple[int, ...] = ()
    tail_vectors: np.ndarray | None = None


class ChunkRow(NamedTuple):
    rowid: int
    chunk_id: str
    doc_id: str
    heading: str
    text: str
    start: int
    title: str
    url: str
    collection: str


class DocInfo(NamedTuple):
    """A stored document as `tandem kb list` and `remove` see it."""

    doc_id: str
    collection: str
    title: str
    url: str
    updated_at: float
    private_channel: str | None
    chunks: int


class KindCount(NamedTuple):
    """The documents of one kind, collection and visibility (`Store.tally`)."""

    collection: str
    kind: str  # as `bot.kb.inventory.kind` names it
    private_channel: str | None
    documents: int
    chunks: int
    updated_at: float


# A document's kind from its id, as `bot.kb.inventory.kind` tells it: a file's path or a
# Slack thread's key, bare in its home collection or after "<collection>:" in another;
# an approved answer's "answer:<permalink>". The same SQL on SQLite and Postgres.
_KIND_SQL = """CASE
    WHEN substr(d.doc_id, 1, 1) = '/'
      OR substr(d.doc_id, 1, length(d.collection) + 2) = d.collection || ':/' THEN 'file'
    WHEN substr(d.doc_id, 1, 6) = 'slack:'
      OR substr(d.doc_id, 1, length(d.collection) + 7) = d.collection || ':slack:'
      THEN 'Slack thread'
    WHEN substr(d.doc_id, 1, 7) = 'answer:' THEN 'approved answer'
    ELSE 'other document' END"""


def tally_sql(docs: str, chunks: str, where: str = "") -> str:
    """`Store.tally`'s query over the tables `docs` and `chunks`: one row per collection,
    kind and private channel, without reading a row per document into Python."""
    return (f"SELECT d.collection, {_KIND_SQL}, d.private_channel, count(*), "
            "coalesce(sum(c.n), 0), max(d.updated_at) "
            f"FROM {docs} d LEFT JOIN (SELECT doc_id, count(*) AS n FROM {chunks} "
            f"GROUP BY doc_id) c ON c.doc_id = d.doc_id {where} GROUP BY 1, 2, 3")


def chunk_text(row: Sequence[Any]) -> ChunkText:
    return int(row[0]), str(row[1]), str(row[2]), str(row[3])


def unchanged(rows: Sequence[ChunkText], current: Iterable[Sequence[Any]],
              owners: Sequence[int]) -> tuple[list[int], list[int]]:
    """For `Store.put_embeddings`: which of `rows` read the same in `current` (the same
    chunks read again inside the writing transaction), as indexes into `rows`, and which
    tail vectors belong to those, as indexes into `owners`. A chunk deleted or rewritten
    since is left out: its writer stored its own vectors."""
    now = {text[0]: text[1:] for text in map(chunk_text, current)}
    keep = [i for i, row in enumerate(rows) if now.get(row[0]) == tuple(row[1:])]
    kept = set(keep)
    return keep, [j for j, owner in enumerate(owners) if owner in kept]


def lease_value(current: str | None, holder: str, seconds: float, now: float) -> str | None:
    """For `Store.lease`: the meta value that gives `holder` the lease, or None when another
    holder's lease on `current` ("<expiry> <holder>") has not expired. `seconds` 0 lets
    it go: the value is then empty, not an expiry of now, which written to the
    millisecond could round up past the next caller's clock and hold it a moment more."""
    until, _, other = (current or "").partition(" ")
    if other not in ("", holder) and float(until or 0) >= now:
        return None
    return f"{now + seconds:.3f} {holder}" if seconds > 0 else ""


class Store(Protocol):
    # Whether a search's queries can run at once (a pool of connections) rather than in
    # turns on one connection.
    parallel_reads: bool

    def open(self) -> None: ...
    def close(self) -> None: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def get_metas(self, keys: Sequence[str]) -> dict[str, str]: ...
    def delete_metas(self, keys: Sequence[str]) -> None: ...
    def lease(self, key: str, holder: str, seconds: float) -> bool: ...
    def ensure_vectors(self, dim: int) -> None: ...
    def chunk_texts(self, after: int = 0, limit: int = 256) -> list[ChunkText]: ...
    def rewrite_words(self, rows: Sequence[ChunkText]) -> None: ...
    def stored_vectors(self, doc_ids: Sequence[str]) -> dict[tuple[str, str, str], np.ndarray]: ...
    def put_embeddings(self, rows: Any, vectors: np.ndarray, owners: Any,
                       tails: np.ndarray) -> int: ...
    def doc_hashes(self, *, collection: str | None = None, prefix: str | None = None,
                   ids: Sequence[str] | None = None) -> dict[str, str]: ...
    def documents(self, *, collection: str | None = None) -> list[DocInfo]: ...
    def tally(self, *, collection: str | None = None) -> list[KindCount]: ...
    def write_documents(self, records: Any) -> None: ...
    def delete_documents(self, doc_ids: Any) -> None: ...
    def bm25(self, match: str, limit: int, filters: Filters) -> list[tuple[int, float]]: ...
    def knn(self, vector: np.ndarray, limit: int, filters: Filters
            ) -> list[tuple[int, float]]: ...
    def fetch(self, rowids: Any) -> dict[int, ChunkRow]: ...
    def count_chunks(self) -> int: ...
