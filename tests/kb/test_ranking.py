"""Best-window rescoring: the light stemmer, window scores, IDF from the index, and search."""

from __future__ import annotations

import math

import pytest

from bot.kb.ranking import (
    RankParams,
    bm25_idf,
    collapse_duplicates,
    diversify,
    matching_words,
    query_terms,
    rescore,
    stem,
    window_scores,
)
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore
from bot.kb.types import Document

FILLER = " ".join(["The committee met again and discussed the annual budget plans."] * 6)


def test_stem_conflates_inflections_of_one_word() -> None:
    for group in (("infected", "infects", "infect"), ("viruses", "virus"),
                  ("studies", "studied", "study"), ("transmitted", "transmit"),
                  ("replication", "replicating")):
        assert len({stem(w) for w in group}) == 1, group


def test_window_scores_prefer_query_words_close_together() -> None:
    together = f"{FILLER} Children infected with measles recovered. {FILLER}"
    scattered = f"Children {FILLER} infected {FILLER} measles."
    weights = {"children": 1.0, "infected": 1.0, "measles": 2.0}
    near, far = window_scores(["children", "infected", "measles"], [together, scattered],
                              weights, width=250)
    assert near > far > 0


def test_window_scores_zero_when_no_query_word_occurs() -> None:
    assert window_scores(["measles"], [FILLER, ""], {"measles": 1.0}, 250) == [0.0, 0.0]


def test_rescore_lets_a_strong_window_overtake_a_higher_bm25() -> None:
    assert rescore([10.0, 9.0], [1.0, 4.0], weight=2.0) == [1, 0]
    assert rescore([10.0, 9.0], [1.0, 4.0], weight=0.1) == [0, 1]


async def test_term_weights_give_rare_words_more_weight(kb: KnowledgeBase) -> None:
    docs = [Document(doc_id=f"d{i}", title=f"note {i}", url=f"u{i}",
                     text="The virus spreads in winter." + (" Measles too." if i == 0 else ""))
            for i in range(5)]
    await kb.upsert(docs)
    assert isinstance(kb.store, SqliteStore)
    weights = kb.store.term_weights(["spreading", "measles", "zebra"])
    assert weights["measles"] > weights["spreading"] > 0
    assert weights["zebra"] == 0.0


async def test_search_ranks_the_passage_that_holds_the_question_words_first(
        kb: KnowledgeBase) -> None:
    # The decoy repeats every query word (so plain BM25 prefers it) but never together.
    gap = " The committee met and discussed the annual budget plans for the next year. "
    answer = f"{gap * 3}Infected ferrets shed the strain for nine days.{gap * 3}"
    decoy = gap.join(["Ferrets", "infected", "strain", "shed", "ferrets", "infected",
                      "strain", "shed"])
    await kb.upsert([Document(doc_id="answer", title="Report A", url="a", text=answer),
                     Document(doc_id="decoy", title="Report B", url="b", text=decoy)])
    query = "How long do infected ferrets shed the strain?"
    kb.params = RankParams(window_weight=0.0, dense_weight=0.0, proximity_weight=0.0)
    assert (await kb.search(query, k=2))[0].doc_id == "decoy"
    kb.params = RankParams(dense_weight=0.0, proximity_weight=0.0, window=60)
    assert (await kb.search(query, k=2))[0].doc_id == "answer"


def test_diversify_lets_a_second_document_pass_a_long_documents_third_chunk() -> None:
    ranked = [(1, 1.0), (2, 0.95), (3, 0.9), (4, 0.85)]
    doc_of = {1: "long", 2: "long", 3: "long", 4: "other"}
    # "long"'s second chunk counts 0.95 * 0.9 = 0.855 > 0.85, its third 0.9 * 0.81 < 0.85.
    assert [r for r, _ in diversify(ranked, doc_of, 0.9)] == [1, 2, 4, 3]
    # Each keeps the score it was placed by: what `tandem kb search` shows goes down.
    assert [round(s, 4) for _, s in diversify(ranked, doc_of, 0.9)] == [1.0, 0.855, 0.85, 0.729]


def test_diversify_with_decay_one_keeps_the_fused_order() -> None:
    ranked = [(5, 0.9), (6, 0.9), (7, 0.4), (8, 0.1)]
    doc_of = {5: "a", 6: "a", 7: "a", 8: "b"}
    assert diversify(ranked, doc_of, 1.0) == ranked


def test_diversify_keeps_every_chunk_with_scores_going_down_the_ranks() -> None:
    ranked = [(i, 1.0 - i / 10) for i in range(8)]
    doc_of = {i: "ab"[i % 2] for i in range(8)}
    out = diversify(ranked, doc_of, 0.5)
    assert sorted(r for r, _ in out) == list(range(8))
    assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)


PASSAGE = ("Use fs.watch to be told when a file or directory changes; the listener gets the "
           "event type and the file name, and on Linux it relies on inotify so it stays cheap "
           "even for large trees of files.")


def test_collapse_drops_another_documents_copy_of_a_listed_passage() -> None:
    ranked = [(1, 0.9), (2, 0.8), (3, 0.7)]
    text_of = {1: PASSAGE, 2: "## fs.watch\n" + PASSAGE.replace(";", ","), 3: "Unrelated text "
               "about timers: setTimeout runs a callback once after a delay in milliseconds."}
    doc_of = {1: "fs.md", 2: "fs.html", 3: "timers.md"}
    assert collapse_duplicates(ranked, text_of, doc_of, 0.5) == [(1, 0.9), (3, 0.7)]


def test_collapse_keeps_a_documents_own_overlapping_chunks() -> None:
    ranked = [(1, 0.9), (2, 0.8)]
    assert collapse_duplicates(ranked, {1: PASSAGE, 2: PASSAGE}, {1: "fs.md", 2: "fs.md"},
                               0.5) == ranked


def test_collapse_keeps_a_short_entry_quoted_inside_a_long_one() -> None:
    short = "Community spread means people have been infected in an area without knowing how."
    long = " ".join([PASSAGE, short, PASSAGE.upper().replace("FS", "os"), "More words here."])
    ranked = [(1, 0.9), (2, 0.8)]
    assert collapse_duplicates(ranked, {1: long, 2: short}, {1: "a", 2: "b"}, 0.5) == ranked


def test_collapse_with_share_above_one_keeps_everything() -> None:
    ranked = [(1, 0.9), (2, 0.8)]
    assert collapse_duplicates(ranked, {1: PASSAGE, 2: PASSAGE}, {1: "a", 2: "b"}, 2.0) == ranked


def test_bm25_idf_is_fts5s_and_stays_above_zero_for_words_in_most_chunks() -> None:
    assert bm25_idf(1, 100) == pytest.approx(math.log(99.5 / 1.5))
    assert bm25_idf(10, 100) > bm25_idf(50, 100) > 0
    assert bm25_idf(90, 100) == pytest.approx(1e-6)


def test_matching_words_takes_the_rarest_within_the_budget_and_always_one() -> None:
    counts = [(3.0, "rollback"), (500.0, "deploy"), (1800.0, "service")]
    assert matching_words(counts, 2000) == ["rollback", "deploy"]
    assert matching_words(counts, 10) == ["rollback"]
    assert matching_words([(5000.0, "the")], 2000) == ["the"]


def test_query_words_split_at_apostrophes_as_the_index_splits_them() -> None:
    # Joined, "obriens" matched no chunk (the index holds "o" and "brien") and "doesnt"
    # counted as a content word that relevant chunks lack.
    assert query_terms("Does the company's policy cover O'Brien's trip? It doesn't say") == [
        "company", "policy", "cover", "brien", "trip", "say"]
    assert query_terms("post-mortem for the e-mail outage") == ["post", "mortem", "mail",
                                                                "outage"]


async def test_a_name_with_an_apostrophe_finds_the_chunk_holding_it(
        tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    store = SqliteStore(tmp_path / "kb.sqlite")
    store.open()
    kb = KnowledgeBase(store, embedder)
    try:
        # Five notes alike but for the name: only the name tells them apart.
        await kb.upsert([
            Document(doc_id=name[-5:].lower(), title="Offsite notes", url=f"https://wiki/{name}",
                     text=f"{name} approved the {city} offsite budget in {month}.")
            for name, city, month in (("O'Brien", "Lisbon", "March"), ("Nguyen", "Porto", "May"),
                                      ("Schmidt", "Berlin", "June"), ("Rossi", "Rome", "July"),
                                      ("Dubois", "Lyon", "April"))])
        hits = await kb.search("which offsite budget did O'Brien's team approve?", k=1)
        assert [h.doc_id for h in hits] == ["brien"]
    finally:
        await kb.close()
