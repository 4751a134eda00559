"""Two processes on one SQLite store (the bot, and `tandem kb ingest` run beside it):
what one commits, the other's searches see at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.kb.chunking import chunk_document
from bot.kb.store_base import DocRecord, Filters
from bot.kb.store_sqlite import SqliteStore
from bot.kb.types import Document


def _write(store: SqliteStore, doc_id: str, text: str, vector: list[float]) -> None:
    doc = Document(doc_id=doc_id, title="", url="u", text=text)
    store.write_documents([DocRecord(doc=doc, hash=text, chunks=chunk_document(doc),
                                     vectors=np.array([vector], np.float32))])


def _two(tmp_path: Path) -> tuple[SqliteStore, SqliteStore]:
    bot, cli = SqliteStore(tmp_path / "kb.sqlite"), SqliteStore(tmp_path / "kb.sqlite")
    bot.open()
    cli.open()
    return bot, cli


def test_vector_search_sees_chunks_another_process_wrote_after_it_read_the_vectors(
        tmp_path: Path) -> None:
    bot, cli = _two(tmp_path)
    try:
        _write(cli, "old", "Old page.", [1, 0, 0, 0])
        assert [r for r, _ in bot.knn(np.array([0, 1, 0, 0]), 5, Filters())]  # cached now
        _write(cli, "new", "New page.", [0, 1, 0, 0])
        best = bot.knn(np.array([0, 1, 0, 0]), 1, Filters())
        assert bot.fetch([best[0][0]])[best[0][0]].doc_id == "new"
        # A page rewritten elsewhere: SQLite may give its chunk a freed rowid, and the
        # old vector must not answer for the new text.
        _write(cli, "old", "Old page, rewritten.", [0, 0, 1, 0])
        best = bot.knn(np.array([0, 0, 1, 0]), 1, Filters())
        assert bot.fetch([best[0][0]])[best[0][0]].doc_id == "old" and best[0][1] > 0.99
    finally:
        bot.close()
        cli.close()


def test_word_weights_count_chunks_another_process_wrote(tmp_path: Path) -> None:
    bot, cli = _two(tmp_path)
    try:
        _write(cli, "a", "Quarterly rotation of signing keys.", [1, 0, 0, 0])
        before = bot.term_weights(["rotation"])["rotation"]
        for i in range(5):
            _write(cli, f"b{i}", f"Rotation schedule {i}.", [1, 0, 0, 0])
        assert bot.term_weights(["rotation"])["rotation"] < before
    finally:
        bot.close()
        cli.close()


class _CommitsAfterFirstRead:
    """The store's connection, except that right after its first SELECT `other` runs in
    another thread (and is given a moment): another process committing mid-transaction."""

    def __init__(self, db: object, other: Callable[[], None]) -> None:
        self._db, self._other, self.thread = db, other, threading.Thread(target=other)

    def execute(self, sql: str, *args: object) -> object:
        out = self._db.execute(sql, *args)  # type: ignore[attr-defined]
        if sql.lstrip().upper().startswith("SELECT") and not self.thread.is_alive() \
                and self.thread.ident is None:
            self.thread.start()
            self.thread.join(timeout=0.5)
        return out

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


@pytest.mark.parametrize("write", ["put_embeddings", "write_documents", "delete_documents"])
def test_a_write_that_reads_first_waits_for_another_processs_commit_instead_of_failing(
        tmp_path: Path, write: str) -> None:
    bot, cli = _two(tmp_path)
    try:
        _write(bot, "page", "A page.", [1, 0, 0, 0])
        rows = bot.chunk_texts(0, 10)
        connection = _CommitsAfterFirstRead(bot._db, lambda: cli.set_meta("other", "1"))
        bot._db = connection  # type: ignore[assignment]
        # In a transaction begun DEFERRED, the read pinned a snapshot that the other
        # process's commit made stale, and the write then failed at once: "database is
        # locked" (a CI run of the two-process re-embed test, 2026-12-04).
        if write == "put_embeddings":
            assert bot.put_embeddings(rows, np.array([[0, 1, 0, 0]], np.float32), [],
                                      np.zeros((0, 4), np.float32)) == 1
        elif write == "write_documents":
            _write(bot, "page", "A page, rewritten.", [0, 1, 0, 0])
        else:
            bot.delete_documents(["page"])
        connection.thread.join(timeout=10)
        assert cli.get_meta("other") == "1"  # the other process's write landed too
    finally:
        bot.close()
        cli.close()
