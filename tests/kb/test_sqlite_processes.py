"""Two processes on one SQLite store (the bot, and `tandem kb ingest` run beside it):
what one commits, the other's searches see at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
