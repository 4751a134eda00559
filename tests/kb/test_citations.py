"""Citations: markers must point at retrieved sources; the Sources block links what is cited."""

from __future__ import annotations

from bot.kb.citations import (
    answer_basis,
    check_citations,
    cited_numbers,
    cited_sources,
    sources_block,
    sources_markdown,
)
from bot.kb.types import Source


def _source(n: int, url: str, title: str = "") -> Source:
    return Source(n=n, title=title or f"Doc {n}", url=url, text="t", heading="",
                  collection="default", score=1.0, doc_id=f"d{n}", chunk_id=f"c{n}")


SOURCES = [_source(1, "https://wiki.example/a", "Deploy guide"),
           _source(2, "/srv/docs/oncall.md", "On-call")]


def test_check_citations_strips_numbers_without_source() -> None:
    answer = "Use helm [1]. Page the lead [7]. Both apply [1, 9]."
    assert check_citations(answer, SOURCES) == "Use helm [1]. Page the lead. Both apply [1]."


def test_check_citations_keeps_valid_answer_unchanged() -> None:
    answer = "Roll back with helm [1][2]."
    assert check_citations(answer, SOURCES) == answer
    assert cited_numbers(answer) == [1, 2]


def test_check_citations_strips_everything_when_no_sources() -> None:
    assert check_citations("It is 42 [1].", []) == "It is 42."


def test_sources_block_lists_only_cited_sources_with_links() -> None:
    block = sources_block(cited_sources("Roll back with helm [1].", SOURCES))
    assert block == "*Sources*\n[1] <https://wiki.example/a|Deploy guide>"
    assert sources_markdown(cited_sources("Roll back with helm [1].", SOURCES)) == \
        "**Sources**\n[1] [Deploy guide](https://wiki.example/a)"


def test_sources_block_shows_file_paths_as_code() -> None:
    assert sources_block(cited_sources("See [2].", SOURCES)).splitlines()[1] == \
        "[2] On-call `/srv/docs/oncall.md`"
    assert sources_markdown(cited_sources("See [2].", SOURCES)).splitlines()[1] == \
        "[2] On-call (`/srv/docs/oncall.md`)"


def test_an_answer_citing_several_in_one_bracket_lists_each_in_both_blocks() -> None:
    shown = cited_sources("Roll back [1, 2].", [*SOURCES, _source(3, "https://x.example")])
    assert [s.n for s in shown] == [1, 2]
    assert sources_block(shown).count("\n") == sources_markdown(shown).count("\n") == 2


def test_an_answer_citing_nothing_lists_every_source() -> None:
    assert cited_sources("I could not find this.", SOURCES) == SOURCES
    assert sources_block([]) == sources_markdown([]) == ""


def test_sources_block_escapes_title_markup() -> None:
    shown = [_source(1, "https://x.example", "a <b> | c [d]")]
    assert sources_block(shown).endswith("<https://x.example|a &lt;b&gt; / c [d]>")
    assert sources_markdown(shown).endswith("[a <b> | c (d)](https://x.example)")


def test_an_answer_rests_on_the_sources_it_cites_or_on_all_when_it_cites_none() -> None:
    sources = [{"n": 1, "doc_id": "a", "doc_hash": "ha"}, {"n": 2, "doc_id": "b"},
               {"n": 3, "doc_id": "a", "doc_hash": "ha"}]
    assert answer_basis("Use WireGuard [2].", sources) == {"b": None}
    assert answer_basis("Both [1, 3] and [2].", sources) == {"a": "ha", "b": None}
    assert answer_basis("An edit that dropped the markers.", sources) == {"a": "ha", "b": None}
    assert answer_basis("No sources [1].", []) == {}
