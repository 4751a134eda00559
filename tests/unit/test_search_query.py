"""What a question draft searches for: the ask, or a short follow-up with its thread's question."""

from __future__ import annotations

from bot.drafting.context import search_query

THREAD = ("Tandem: Drafting: answer from the knowledge base\n"
          "alice: How do I connect to the office VPN from my laptop?\n"
          "It keeps timing out.\n"
          "bob: same here")


def test_a_short_follow_up_is_searched_after_the_first_question_a_person_asked() -> None:
    assert search_query("and on Linux?", THREAD) == (
        "and on Linux?\nHow do I connect to the office VPN from my laptop?")


def test_a_question_with_words_of_its_own_or_outside_a_thread_is_searched_as_asked() -> None:
    ask = "which port does the staging database listen on?"
    assert search_query(ask, THREAD) == ask
    assert search_query("and on Linux?", "") == "and on Linux?"
    assert search_query("and on Linux?", "Tandem: a draft") == "and on Linux?"


def test_a_long_opening_message_adds_only_its_first_300_characters() -> None:
    query = search_query("why?", "alice: " + "word " * 200)
    assert query.startswith("why?\n") and len(query) == len("why?\n") + 300
