"""The sentence shown beside an answer as the best match of its question in the sources."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.kb.evidence import (
    MAX_CHARS,
    best_passage,
    best_sentence,
    plain,
    quoted_answer,
    sentences,
    shortlist,
)
from bot.kb.ingest import ingest_paths
from bot.kb.service import KnowledgeBase
from bot.review import blocks as B
from tests.support.hash_seeds import outputs_under_hash_seeds

HANDBOOK = """# Expense policy

## Meals
Meals while travelling are reimbursed up to 40 euros a day,
with receipts. Hotels are booked by the travel desk.

- Taxis need a receipt too.
- Trains are booked in second class
  unless the trip is longer than four hours.
"""


def test_sentences_join_soft_wrapped_lines_and_leave_out_headings() -> None:
    assert sentences(HANDBOOK) == [
        "Meals while travelling are reimbursed up to 40 euros a day, with receipts.",
        "Hotels are booked by the travel desk.",
        "Taxis need a receipt too.",
        "Trains are booked in second class unless the trip is longer than four hours.",
    ]


def test_a_very_long_sentence_is_cut_and_marked() -> None:
    (long,) = sentences("word " * 200)
    assert len(long) == MAX_CHARS and long.endswith("…")


def test_the_sentence_holding_the_questions_rarer_words_is_chosen() -> None:
    sources = [{"n": 1, "title": "Travel", "text": "Booking travel: all travel is booked "
                "through the travel desk, which answers travel questions."},
               {"n": 2, "title": "Expenses", "text": HANDBOOK}]
    # "travel" is in most sentences; "meals" and "reimbursed" in one.
    assert best_sentence("how much are travel meals reimbursed?", sources) == (
        2, "Meals while travelling are reimbursed up to 40 euros a day, with receipts.")


VPN = """The office VPN uses WireGuard. Download your personal profile from the IT portal
and import it into the WireGuard app.
"""
EQUIPMENT = "Each employee has a home-office budget of 500 euros every two years for a chair."


def test_a_lone_rare_word_in_a_lower_source_does_not_outweigh_the_subject_in_the_first() -> None:
    sources = [{"n": 1, "text": VPN, "heading": "VPN and access > Connecting to the VPN"},
               {"n": 2, "text": EQUIPMENT, "heading": "Expense policy > Equipment"}]
    # "home" is in one sentence, "vpn" in one and in its section's heading.
    assert best_sentence("how do I connect to the VPN from home?", sources) == (
        1, "The office VPN uses WireGuard.")


def test_a_section_heading_speaks_for_the_sentences_under_it() -> None:
    sources = [{"n": 1, "text": "Run the script before each release.",
                "heading": "Operations > Changelog"},
               {"n": 1, "text": "Run the script once a week.",
                "heading": "Operations > Backups"}]
    assert best_sentence("how often do I run the backups script?", sources) == (
        1, "Run the script once a week.")


def test_question_words_match_their_inflections() -> None:
    found = best_sentence("when is a train trip booked in second class?",
                          [{"n": 1, "text": HANDBOOK}])
    assert found is not None and found[1].startswith("Trains are booked in second class")


def test_no_sentence_is_chosen_when_none_holds_a_word_of_the_question() -> None:
    assert best_sentence("who won the football world cup?", [{"n": 1, "text": HANDBOOK}]) is None
    assert best_sentence("how much are meals reimbursed?", []) is None


def test_evidence_line_names_the_source_and_cannot_ping_or_link() -> None:
    line = B.evidence_line(2, "Ask <!channel> & <https://x.example|here>",
                           [{"n": 2, "title": "*Expenses* <b>"}])
    assert line.startswith(":mag: Best match in [2] Expenses &lt;b&gt;: “Ask ")
    assert "<" not in line and "&amp;" in line


def test_evidence_line_shows_a_sentences_markdown_links_and_emphasis_as_words() -> None:
    line = B.evidence_line(1, "Claim **meals** within [the expense form](https://x.example/f "
                           "\"Form\") or ![a scan](scan.png), by __Friday__.", [{"n": 1}])
    assert line.endswith("“Claim meals within the expense form or a scan, by Friday.”")
    assert plain("2 ** 3 and a*b*c stay as written") == "2 ** 3 and a*b*c stay as written"


def test_chinese_and_japanese_sentences_match_by_neighbouring_characters() -> None:
    zh = "出差期间的餐费每天最多报销40欧元。酒店由差旅部门预订。"
    assert best_sentence("餐费可以报销多少？", [{"n": 1, "text": zh}]) == \
        (1, "出差期间的餐费每天最多报销40欧元。")
    ja = "出張中の食事代は一日40ユーロまで精算できます。ホテルは旅行課が予約します。"
    assert best_sentence("ホテルは誰が予約しますか？", [{"n": 1, "text": ja}]) == \
        (1, "ホテルは旅行課が予約します。")


def test_the_quoted_answer_cites_its_page_and_cannot_ping_or_link() -> None:
    sources = [{"n": 1, "title": "On-call handbook", "url": "/docs/on-call.md",
                "text": "Pages escalate after 15 minutes. Tell <!channel> & **ping** "
                        "[the lead](https://x.example) when a page escalates."},
               {"n": 2, "title": "Expense policy", "url": "/docs/expenses.md",
                "text": "Meals are reimbursed up to 40 euros a day."}]
    quote = quoted_answer("who do I tell when a page escalates?", sources)
    assert quote == ("“Tell &lt;!channel&gt; &amp; ping the lead when a page escalates.” [1]"
                     "\n\n*Sources*\n[1] On-call handbook `/docs/on-call.md`")
    assert quoted_answer("who won the football world cup?", sources) is None


def test_the_quoted_passage_goes_on_to_the_end_of_its_paragraph_within_its_budget() -> None:
    page = ("The office VPN uses WireGuard. Download your personal profile from the IT "
            "portal and import it into the WireGuard app. Profiles expire after 90 days.\n\n"
            "Production databases are reachable only through the bastion host.")
    sources = [{"n": 1, "text": page, "title": "VPN and access", "url": "/docs/vpn.md",
                "heading": "VPN and access > Connecting to the VPN"}]
    question = "how do I connect to the VPN from home?"
    # The evidence line shows the one sentence; the answer a reviewer posts says what to do.
    assert best_sentence(question, sources) == (1, "The office VPN uses WireGuard.")
    assert best_passage(question, sources) == (1, (
        "The office VPN uses WireGuard. Download your personal profile from the IT portal "
        "and import it into the WireGuard app. Profiles expire after 90 days."))
    assert best_passage(question, sources, budget=120) == (1, (
        "The office VPN uses WireGuard. Download your personal profile from the IT portal "
        "and import it into the WireGuard app."))
    quote = quoted_answer(question, sources)
    assert quote is not None and "import it into the WireGuard app" in quote
    assert "bastion" not in quote


def test_a_question_in_the_sources_is_never_the_evidence_its_answer_is() -> None:
    # An approved answer, as the knowledge base stores it, ranks first for a follow-up.
    entry = ("Q: how do I connect to the VPN from home?\n\n"
             "A: Import your WireGuard profile and switch the VPN on.")
    faq = "Can I connect to the VPN from a hotel? Yes, the VPN works from any network."
    assert best_sentence("how do I connect to the VPN from home?", [{"n": 1, "text": entry}]) \
        == (1, "Import your WireGuard profile and switch the VPN on.")
    assert best_sentence("can I connect to the VPN from a hotel?", [{"n": 1, "text": faq}]) \
        == (1, "Yes, the VPN works from any network.")
    assert sentences(entry + "\n\n" + faq) == [
        "Import your WireGuard profile and switch the VPN on.",
        "Yes, the VPN works from any network."]


def test_a_follow_up_gets_evidence_holding_its_own_words() -> None:
    sources = [{"n": 1, "text": "The office VPN uses WireGuard. Download your profile from "
                                "the IT portal.",
                "heading": "VPN and access > Connecting to the VPN"},
               {"n": 1, "text": "Install wireguard-tools and run sudo wg-quick up office.",
                "heading": "VPN and access > On Linux"}]
    searched = "and on Linux?\nhow do I connect to the VPN from home?"
    # The thread's question alone picks its own sentence; the follow-up wants Linux.
    assert best_sentence(searched, sources) == (1, "The office VPN uses WireGuard.")
    assert best_sentence(searched, sources, asked="and on Linux?") == (
        1, "Install wireguard-tools and run sudo wg-quick up office.")
    # Asked on its own, the ask is the question: the same sentence as without it.
    question = "how do I connect to the VPN from home?"
    assert best_sentence(question, sources, asked=question) == best_sentence(question, sources)


def test_of_two_sentences_holding_equally_rare_words_the_first_wins_in_every_process() -> None:
    # The handbook of the e2e tests: "primary" and "acknowledge" are each in one sentence.
    # Summed in a set's order, which Python's hash seed sets, the two scores tied to within
    # a rounding, and the second sentence won in some processes (PYTHONHASHSEED=5).
    script = (
        "from bot.kb.evidence import best_sentence\n"
        "src = [{'n': 1, 'title': 'On-call handbook', 'heading': 'On-call handbook > "
        "Escalation', 'text': '## Escalation\\nPages go to the primary on-call engineer first."
        " After 15 minutes without an\\nacknowledgement the page escalates to the secondary "
        "on-call engineer.'}, {'n': 2, 'title': 'On-call handbook', 'heading': 'On-call "
        "handbook > Handover', 'text': '## Handover\\nThe on-call rotation hands over every "
        "Monday at 10:00.'}, {'n': 3, 'title': 'Expense policy', 'heading': 'Expense policy',"
        " 'text': '# Expense policy\\n\\nMeals while travelling are reimbursed up to 40 euros "
        "a day with receipts.'}]\n"
        "print(best_sentence('what happens when the primary on-call doesn\\'t acknowledge a "
        "page?', src)[1])\n")
    assert outputs_under_hash_seeds(script, range(1, 9)) == \
        {"Pages go to the primary on-call engineer first."}


SANDBOX_HANDBOOK = Path(__file__).resolve().parents[2] / "bot/sandbox/handbook"


def test_closeness_in_meaning_decides_between_sentences_whose_words_score_alike() -> None:
    sources = [{"n": 1, "text": "Deploys need a review. Deploys run on Mondays. "
                                "Rollbacks are instant."}]
    # By words alone the rarer word wins: "rollback" is in one sentence, "deploy" in two.
    assert best_sentence("deploy rollback", sources) == (1, "Rollbacks are instant.")
    near = {"Deploys need a review.": 0.9, "Deploys run on Mondays.": 0.0,
            "Rollbacks are instant.": 0.1}
    assert best_sentence("deploy rollback", sources, closeness=near) == (
        1, "Deploys need a review.")
    # Only the shortlist takes part: a sentence with none of the words never wins.
    assert shortlist("rollback", sources) == ["Rollbacks are instant."]
    assert best_sentence("rollback", sources, closeness=near) == (1, "Rollbacks are instant.")


async def test_a_question_about_meals_on_a_trip_is_answered_from_the_meals_sentence(
        kb: KnowledgeBase) -> None:
    # Seen in the sandbox: by words alone, "trip" (one sentence holds it, so rare) beat
    # "meals" (in the heading and three sentences), and the answer opened with the
    # handbook's sentence on booking trains.
    await ingest_paths(kb, [SANDBOX_HANDBOOK], show_progress=False)
    question = "what's the daily limit for meals on a business trip?"
    found = [{"n": h.n, "title": h.title, "url": h.url, "text": h.text, "heading": h.heading}
             for h in await kb.search(question, k=5)]
    assert best_sentence(question, found)[1].startswith("Book trains")
    near = await kb.closeness(question, found)
    assert near is not None and set(near) == set(shortlist(question, found))
    assert best_sentence(question, found, closeness=near)[1] == (
        "Meals while travelling are reimbursed up to 40 euros a day, with receipts.")
    assert quoted_answer(question, found, closeness=near).startswith(  # type: ignore[union-attr]
        "“Meals while travelling are reimbursed up to 40 euros a day")


async def test_closeness_is_left_to_the_words_for_a_language_the_embedder_does_not_read(
        kb: KnowledgeBase) -> None:
    sources = [{"n": 1, "text": "Mahlzeiten auf Reisen werden bis 40 Euro erstattet."}]
    assert await kb.closeness("Wie viel wird für Mahlzeiten auf Reisen erstattet?",
                              sources) is None
    assert await kb.closeness("meals on trips", sources) is None  # no sentence shortlisted


@pytest.mark.timeout(20)
@pytest.mark.parametrize("outage", ["fails", "hangs"])
async def test_closeness_gives_way_to_the_words_when_the_embedder_fails_or_hangs(
        kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, outage: str) -> None:
    async def embed(_texts: list[str]) -> None:
        if outage == "hangs":
            await asyncio.Event().wait()  # never set
        raise ConnectionError("embedding endpoint down")

    monkeypatch.setattr(kb.embedder, "embed", embed)
    monkeypatch.setattr("bot.kb.service.CLOSENESS_TIMEOUT", 0.2)
    sources = [{"n": 1, "text": "Deploys need a review. Rollbacks are instant."}]
    assert await kb.closeness("deploy rollback", sources) is None
