"""How much of an answer its sources hold (`bot.kb.grounding`)."""

from __future__ import annotations

from bot.kb.citations import answer_part
from bot.kb.grounding import MIN_WORDS, grounding

SOURCES = [
    {"n": 1, "title": "On-call handbook", "heading": "On-call handbook > Escalation",
     "text": "After 15 minutes without an acknowledgement the page escalates to the "
             "secondary on-call engineer, and after 30 minutes to the engineering manager."},
    {"n": 2, "title": "Expense policy", "heading": "",
     "text": "Meals while travelling are reimbursed up to 40 euros a day, with receipts."},
]
QUESTION = "what happens when the primary on-call doesn't acknowledge a page?"


def test_an_answer_in_the_sources_words_is_not_flagged_though_it_inflects_them() -> None:
    found = grounding("Unacknowledged for 15 minutes, a page escalates to the secondary "
                      "engineer [1]; after 30 minutes it escalates to the manager [1].",
                      SOURCES, QUESTION)
    assert not found.flagged
    assert found.unheld == ("unacknowledged",)


def test_a_story_the_sources_do_not_hold_is_flagged_with_its_words() -> None:
    story = ("Alice has been on her pager since midnight. Her supervisor said he would "
             "wait until the next day, and his phone number was disconnected.")
    found = grounding(story, SOURCES, QUESTION)
    assert found.flagged and found.share_unheld > 0.8
    assert found.unheld[:3] == ("alice", "pager", "since")


def test_words_of_the_question_and_thread_count_as_held() -> None:
    answer = ("The primary on-call who does not acknowledge a page within 15 minutes is "
              "skipped: it escalates to the secondary [1].")
    assert grounding(answer, SOURCES, QUESTION).unheld == ("within", "skipped")
    assert grounding(answer, SOURCES, "").share_unheld > grounding(answer, SOURCES,
                                                                    QUESTION).share_unheld


def test_a_short_answer_is_not_judged_and_citation_markers_are_no_words() -> None:
    short = grounding("I don't know; ask the platform team [1] [2].", SOURCES, QUESTION)
    assert short.words < MIN_WORDS and not short.flagged
    assert "1" not in short.unheld and "2" not in short.unheld


def test_the_sources_block_is_not_part_of_the_answer() -> None:
    answer = "Meals: up to 40 euros a day [2]."
    assert answer_part(answer + "\n\n*Sources*\n[2] Expense policy `/docs/x.md`") == answer
    assert answer_part(answer + "\n\n**Sources**\n[2] Expense policy (`x.md`)") == answer
    assert answer_part(answer) == answer
