"""Re-ingesting a changed document embeds only the chunks that changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest

from bot.kb.embedding import LocalEmbedder
from bot.kb.service import KnowledgeBase
from bot.kb.types import Document
from bot.settings import Settings


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: LocalEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.tails = inner.tails
        self.embedded: list[str] = []

    async def dimension(self) -> int:
        return await self.inner.dimension()

    async def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return await self.inner.embed(texts)

    def take(self) -> list[str]:
        taken, self.embedded = self.embedded, []
        return taken


SECTIONS = {
    "Failover": "Promote the replica with pg_ctl promote, then repoint pgbouncer at it. " * 8,
    "Backups": "Nightly base backups go to the object store and are kept for thirty days. " * 8,
    "Upgrades": "Minor versions are rolled out replica first during the Tuesday window. " * 8,
}


def runbook(**changed: str) -> Document:
    text = "\n\n".join(f"# {name}\n\n{changed.get(name, body)}"
                       for name, body in SECTIONS.items())
    return Document(doc_id="runbook", title="Database runbook", url="https://wiki/db",
                    text=text, kind="markdown")


@pytest.fixture
async def counted(settings: Settings, embedder: LocalEmbedder
                  ) -> AsyncIterator[tuple[KnowledgeBase, CountingEmbedder]]:
    counter = CountingEmbedder(embedder)
    kb = await KnowledgeBase.open(settings, embedder=counter)
    yield kb, counter
    await kb.close()


async def stored(kb: KnowledgeBase) -> dict[str, np.ndarray]:
    """Each stored chunk's vector, by its heading."""
    return {heading: v for (_, heading, _), v in kb.store.stored_vectors(["runbook"]).items()}


async def test_an_edited_section_is_the_only_chunk_embedded_again(
        counted: tuple[KnowledgeBase, CountingEmbedder]) -> None:
    kb, counter = counted
    await kb.upsert([runbook()])
    assert len(counter.take()) == 3
    before = await stored(kb)
    await kb.upsert([runbook(Backups="Backups now go to a second region every hour.")])
    assert [t.split("\n")[1] for t in counter.take()] == ["Backups"]
    after = await stored(kb)
    assert set(after) == {"Failover", "Backups", "Upgrades"}
    for heading in ("Failover", "Upgrades"):
        assert np.array_equal(after[heading], before[heading])
    assert not np.allclose(after["Backups"], before["Backups"], atol=1e-3)
    hits = await kb.search("how often are backups copied to another region", k=1)
    assert hits[0].heading == "Backups" and "second region" in hits[0].text


async def test_a_new_title_or_another_embedder_embeds_every_chunk_again(
        counted: tuple[KnowledgeBase, CountingEmbedder]) -> None:
    kb, counter = counted
    await kb.upsert([runbook()])
    counter.take()
    # The title is part of what each chunk's vector is embedded from.
    await kb.upsert([replace(runbook(), title="Postgres runbook")])
    assert len(counter.take()) == 3
    # Vectors another embedder made are not this one's to keep.
    kb.store.set_meta("embedder", "st:some-other-model:128")
    await kb.upsert([replace(runbook(Failover="Fail over with Patroni."),
                             title="Postgres runbook")])
    assert len(counter.take()) == 3


async def test_a_passage_met_twice_in_one_batch_is_embedded_once(
        counted: tuple[KnowledgeBase, CountingEmbedder]) -> None:
    kb, counter = counted
    copy = replace(runbook(), doc_id="runbook-copy", url="https://wiki/db-copy")
    await kb.upsert([runbook(), copy])
    assert len(counter.take()) == 3
    hits = await kb.search("promote the replica", k=5)
    assert {h.doc_id for h in hits} >= {"runbook"}
    assert len(kb.store.stored_vectors(["runbook-copy"])) == 3
