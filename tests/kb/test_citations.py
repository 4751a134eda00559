"""Citations: markers must point at retrieved sources; the Sources block links what is cited."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.kb.citations import (
    ListingGuard,
    answer_basis,
    check_citations,
    cited_numbers,
    cited_sources,
    sources_block,
    sources_markdown,
    starts_listing,
    unknown_citations,
    with_sources,
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


def test_a_file_path_with_backticks_or_slack_control_characters_stays_one_code_span() -> None:
    odd = [_source(1, "/srv/R&D/park`ing *rules* <x>.md", "Parking")]
    assert sources_block(odd).splitlines()[1] == \
        "[1] Parking `/srv/R&amp;D/parkˋing *rules* &lt;x&gt;.md`"
    assert sources_markdown(odd).splitlines()[1] == \
        "[1] Parking (`/srv/R&D/parkˋing *rules* <x>.md`)"
    untitled = replace(_source(1, "/a`b.md"), title="")
    assert sources_block([untitled]).splitlines()[1] == "[1] `/aˋb.md`"


def test_an_answer_citing_several_in_one_bracket_lists_each_in_both_blocks() -> None:
    shown = cited_sources("Roll back [1, 2].", [*SOURCES, _source(3, "https://x.example")])
    assert [s.n for s in shown] == [1, 2]
    assert sources_block(shown).count("\n") == sources_markdown(shown).count("\n") == 2


def test_an_answer_citing_nothing_lists_the_sources_holding_a_word_of_the_question() -> None:
    handbook = [Source(n=1, title="Expense policy", url="/docs/expenses.md", heading="Travel",
                       text="Hotels up to 150 euros a night are approved automatically.",
                       collection="default", score=1.0, doc_id="e", chunk_id="e1"),
                Source(n=2, title="VPN and access", url="/docs/vpn.md", heading="On Linux",
                       text="Install wireguard-tools and run wg-quick up office.",
                       collection="default", score=0.5, doc_id="v", chunk_id="v1")]
    answer = "Check the cost of hotels before you travel."
    assert cited_sources(answer, handbook, "how much can I spend on a hotel?") == handbook[:1]
    # None holds one (found by meaning alone): all of them, as the model was given them.
    assert cited_sources(answer, handbook, "what may a room cost?") == handbook
    assert cited_sources("I could not find this.", SOURCES) == SOURCES
    assert sources_block([]) == sources_markdown([]) == ""


def test_passages_of_one_page_share_its_line_in_the_sources_block() -> None:
    handbook = [_source(1, "/docs/on-call.md", "On-call handbook"),
                _source(2, "https://wiki.example/expenses", "Expense policy"),
                _source(3, "/docs/on-call.md", "On-call handbook"),
                _source(5, "/docs/on-call.md", "On-call handbook")]
    shown = cited_sources("No markers at all.", handbook)
    assert sources_block(shown).splitlines() == [
        "*Sources*", "[1, 3, 5] On-call handbook `/docs/on-call.md`",
        "[2] <https://wiki.example/expenses|Expense policy>"]
    assert sources_markdown(shown).splitlines()[1:] == [
        "[1, 3, 5] On-call handbook (`/docs/on-call.md`)",
        "[2] [Expense policy](https://wiki.example/expenses)"]
    # Still read as citations of each of them (labels, what an approval rests on).
    assert cited_numbers(sources_block(shown)) == [1, 3, 5, 2]


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


def _streamed(text: str, numbers: set[int], step: int) -> tuple[str, ListingGuard]:
    guard, shown = ListingGuard(numbers), ""
    for i in range(0, len(text), step):
        shown += guard.feed(text[i:i + step])
        if guard.cut:
            break
    shown += guard.finish()
    return shown, guard


# What the packaged model writes after an answer (COVID-QA, 5 sources): a source of its own.
MADE_UP = ("Hepcidin is made in the liver [1].\n\n[6] Relationship between hepcidin and "
           "oxidant status in calves\nHepcidin is secreted into the duodenum [7].\n")


def test_a_paragraph_opening_with_a_number_no_source_has_or_a_heading_starts_a_listing() -> None:
    numbers = {1, 2, 3}
    assert starts_listing("[6] Relationship between hepcidin and oxidant status", numbers)
    assert starts_listing("[7] Hepcidin is secreted into the duodenum.", numbers)
    assert starts_listing("[1] On-call handbook", numbers)  # a real number, as a heading
    assert starts_listing("[2] https://www.cdc.gov/coronavirus", numbers)
    assert starts_listing("  [3]", numbers)
    assert not starts_listing("[1] says pages escalate after 15 minutes.", numbers)
    assert not starts_listing("Pages escalate after 15 minutes [1]", numbers)
    assert not starts_listing("1. Page the primary", numbers)


@pytest.mark.parametrize("step", [1, 3, 7, 1000])
def test_a_streamed_answer_ends_where_the_model_lists_sources_of_its_own(step: int) -> None:
    shown, guard = _streamed(MADE_UP, {1, 2, 3, 4, 5}, step)
    assert guard.cut and guard.text == shown == "Hepcidin is made in the liver [1].\n\n"
    assert "[6]" not in shown  # the heading is held until its line ends, never shown


@pytest.mark.parametrize("step", [1, 4, 1000])
def test_an_answer_citing_at_line_starts_and_in_lists_streams_whole(step: int) -> None:
    answer = ("[1] says the page escalates after 15 minutes.\n\nTwo steps:\n[2] page the "
              "primary\n- then the secondary [1]\n\n  [3] and [1] agree on this.")
    shown, guard = _streamed(answer, {1, 2, 3}, step)
    assert not guard.cut and shown == guard.text == answer


def test_a_heading_as_the_last_line_is_dropped_when_the_stream_ends() -> None:
    shown, guard = _streamed("Meals: 40 euros a day [1].\n\n[2] Expense policy", {1, 2}, 5)
    assert guard.cut and shown == "Meals: 40 euros a day [1].\n\n"


def test_an_edits_unknown_citations_are_named_but_not_code_or_indexes() -> None:
    edit = ("Use helm [1] then page the lead [7]; both [1, 9]. Run `argv[3]` or items[4].\n"
            "```\nx = [5]\n```\n\n*Sources*\n[1] <https://wiki.example/a|Deploy guide>")
    assert unknown_citations(edit, {1, 2}) == [7, 9]
    assert unknown_citations("All fine [2].", {1, 2}) == []
    assert unknown_citations("Nothing to cite from [1].", set()) == [1]


def test_an_edit_citing_sources_without_the_sources_block_gets_it_back() -> None:
    recorded = [{"n": s.n, "title": s.title, "url": s.url, "text": s.text} for s in SOURCES]
    assert with_sources("Page the lead [2].", recorded) == (
        "Page the lead [2].\n\n*Sources*\n[2] On-call `/srv/docs/oncall.md`")
    kept = "Use helm [1].\n\n*Sources*\n[1] <https://wiki.example/a|Deploy guide>"
    assert with_sources(kept, recorded) == kept
    assert with_sources("No marker left.", recorded) == "No marker left."


def test_an_edit_keeping_the_drafts_sources_block_lists_what_it_cites_now() -> None:
    recorded = [{"n": s.n, "title": s.title, "url": s.url, "text": s.text} for s in SOURCES]
    both = ("\n\n*Sources*\n[1] <https://wiki.example/a|Deploy guide>\n"
            "[2] On-call `/srv/docs/oncall.md`")
    draft = "Use helm [1]. Page the lead [2]." + both
    # The sentence citing [2] was cut: its page goes from the block.
    assert with_sources("Use helm [1]." + both, recorded, draft) == (
        "Use helm [1].\n\n*Sources*\n[1] <https://wiki.example/a|Deploy guide>")
    # A citation edited in is listed.
    one = "\n\n*Sources*\n[2] On-call `/srv/docs/oncall.md`"
    assert with_sources("Use helm [1], page the lead [2]." + one, recorded,
                        "Page the lead [2]." + one) == "Use helm [1], page the lead [2]." + both
    # A block the reviewer wrote themselves is theirs.
    own = "Use helm [1].\n\n*Sources*\n[1] the deploy guide, ask Sam"
    assert with_sources(own, recorded, draft) == own
