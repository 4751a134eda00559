"""Tail vectors: text past a chunk's first model window is still found by meaning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.kb.chunking import chunk_document
from bot.kb.embedding import LocalEmbedder
from bot.kb.ranking import RankParams
from bot.kb.service import KnowledgeBase
from bot.kb.tails import MAX_TAILS, tail_starts
from bot.kb.types import Document
from bot.settings import Settings

# One chunk (under 1,200 characters) whose last lines, about 170 tokens in, are the
# only place it says anything about coffee.
GARDEN = Document(
    doc_id="garden", title="Roof garden", url="https://wiki.example/garden",
    text="The roof garden has twelve raised beds of tomatoes, beans, courgettes and herbs. "
         "Volunteers water them each morning before nine, and the rota hangs by the lift "
         "on the fourth floor. Compost from the kitchen goes into the two green bins by "
         "the east wall; please keep meat and dairy out of them. Seedlings are started "
         "indoors in March under the grow lights in the print room, then hardened off on "
         "the terrace for a week before planting. Slugs are kept down with copper tape, "
         "never pellets, because of the bees from the hive on the neighbouring roof. The "
         "harvest is shared on Fridays from a basket in the lobby. Tools live in the shed, "
         "whose code is given at induction. Anyone may join the garden club's monthly "
         "meeting. Separately, facilities asked us to note here that the espresso machine "
         "on the third floor is descaled every Monday by Priya from facilities, so it is "
         "out of use until ten.",
    kind="markdown")
PARKING = Document(
    doc_id="parking", title="Parking", url="https://wiki.example/parking",
    text="Bikes go in the basement rack; car spaces are booked a day ahead on the parking "
         "sheet by the front desk.", kind="markdown")
QUESTION = "who cleans the coffee machine and on which day?"
DENSE_ONLY = replace(RankParams(), bm25_weight=0.0, proximity_weight=0.0, window_weight=0.0,
                     relevance_gate=False)


@pytest.fixture
async def open_kb() -> AsyncIterator[list[KnowledgeBase]]:
    opened: list[KnowledgeBase] = []
    yield opened
    for kb in opened:
        await kb.close()


async def _kb(opened: list[KnowledgeBase], path: Path, tails: bool) -> KnowledgeBase:
    kb = await KnowledgeBase.open(Settings(tandem_data_dir=path),
                                  embedder=LocalEmbedder(max_seq_length=112, precision="fp32",
                                                         tails=tails))
    kb.params = DENSE_ONLY
    opened.append(kb)
    return kb


def _tail_rows(kb: KnowledgeBase) -> int:
    return int(kb.store._db.execute("SELECT count(*) FROM chunk_tails").fetchone()[0])  # type: ignore[attr-defined]


def test_tail_windows_start_before_the_first_window_ends_and_reach_the_end() -> None:
    offsets = [(i * 5, i * 5 + 4) for i in range(300)]  # 300 tokens of 4 characters

    starts = tail_starts(offsets, seen=110, window=128)

    assert starts == [offsets[90][0]][:MAX_TAILS]  # 20 tokens of overlap with what was seen
    assert tail_starts(offsets[:110], seen=110, window=128) == []
    assert tail_starts(offsets[:120], seen=110, window=128) == [offsets[90][0]]
    many = [(i * 5, i * 5 + 4) for i in range(5000)]
    assert len(tail_starts(many, seen=110, window=128)) == MAX_TAILS


async def test_a_fact_past_the_first_window_is_found_by_meaning_only_with_tail_vectors(
        tmp_path: Path, open_kb: list[KnowledgeBase]) -> None:
    assert len(chunk_document(GARDEN)) == 1
    with_tails = await _kb(open_kb, tmp_path / "on", True)
    without = await _kb(open_kb, tmp_path / "off", False)
    for kb in (with_tails, without):
        await kb.upsert([GARDEN, PARKING])

    assert _tail_rows(with_tails) >= 1 and _tail_rows(without) == 0
    assert [h.doc_id for h in await with_tails.search(QUESTION, k=2)][0] == "garden"
    assert [h.doc_id for h in await without.search(QUESTION, k=2)][0] == "parking"


async def test_tail_vectors_follow_their_chunks_through_rewrites_deletes_and_a_toggle(
        tmp_path: Path, open_kb: list[KnowledgeBase]) -> None:
    kb = await _kb(open_kb, tmp_path, True)
    await kb.upsert([GARDEN, PARKING])
    first = _tail_rows(kb)
    await kb.upsert([GARDEN])  # rewritten: its tails are replaced, not added to
    assert _tail_rows(kb) == first
    await kb.close()
    open_kb.remove(kb)

    off = await _kb(open_kb, tmp_path, False)  # re-embeds without tails
    assert _tail_rows(off) == 0
    await off.close()
    open_kb.remove(off)

    on = await _kb(open_kb, tmp_path, True)  # and with them again
    assert _tail_rows(on) == first
    assert [h.doc_id for h in await on.search(QUESTION, k=2)][0] == "garden"
    await on.delete(["garden"])
    assert _tail_rows(on) == 0


@pytest.mark.postgres
async def test_postgres_finds_a_fact_past_the_first_window_and_drops_its_tails_with_it(
        pg_url: str, tmp_path: Path) -> None:
    kb = await KnowledgeBase.open(Settings(tandem_db_url=pg_url, tandem_data_dir=tmp_path),
                                  embedder=LocalEmbedder(max_seq_length=112, precision="fp32",
                                                         tails=True))
    try:
        kb.params = DENSE_ONLY
        await kb.delete(list(await kb.hashes()))
        await kb.upsert([GARDEN, PARKING])
        assert [h.doc_id for h in await kb.search(QUESTION, k=2)][0] == "garden"
        await kb.delete(["garden"])
        rows = kb.store._query("SELECT count(*) FROM kb_chunk_tails")  # type: ignore[attr-defined]
        assert rows[0][0] == 0
        assert [h.doc_id for h in await kb.search(QUESTION, k=2)] == ["parking"]
    finally:
        await kb.delete(list(await kb.hashes()))
        await kb.close()
