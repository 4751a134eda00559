"""Figures a reply gives that no one gave the model are found, and only those."""

from __future__ import annotations

import pytest

from bot.drafting.figures import figures, invented_figures


def test_order_numbers_deadlines_and_amounts_are_figures_as_written() -> None:
    # What the packaged model wrote in customer replies of the stops bench.
    text = ("We found your order 106352984. Returns are accepted within 30 days, and the "
            "fee of $250 (10%) is refunded by 9:30 on 12/05/2024; see version 1.0.7.")
    assert figures(text) == ["106352984", "30", "$250", "10%", "9:30", "12/05/2024", "1.0.7"]


def test_citations_list_numbers_words_with_digits_and_contacts_are_not_figures() -> None:
    text = ("Pages escalate [1].\n1. Open Q3's report on COVID-19.\n2) Ask the 2nd shift.\n"
            "- 3. Call +1 (555) 010-0199 or see https://status.example.com/v2/123.")
    assert figures(text) == []


@pytest.mark.parametrize(("text", "given"), [
    ("Your order 5521 ships today.", "Where is order 5521-A?"),  # within a number
    ("A refund of 1000 euros.", "I paid 1,000 euros"),  # separators
    ("We will reply in 2 weeks.", "You said two weeks ago it was fixed"),  # in words
    ("Install 1.0.8.", "npm 1.0.8 fails"),
])
def test_a_figure_the_conversation_holds_is_given(text: str, given: str) -> None:
    assert invented_figures(text, [given]) == ()


def test_a_figure_nothing_shown_holds_is_invented_once() -> None:
    given = ["Customer message: my order 5521 arrived broken"]
    text = "Order 5521 will be replaced within 3 days; within 3 days you get $40 back."
    assert invented_figures(text, given) == ("3", "$40")


def test_a_figure_in_the_prompts_system_text_is_given_but_not_one_in_its_examples() -> None:
    from bot.drafting.figures import figures_shown

    messages = [{"role": "system", "content": "Returns are accepted within 30 days."},
                {"role": "user", "content": "Customer message: where is my order?"},
                {"role": "assistant", "content": "It ships in 5 days."},  # an example
                {"role": "user", "content": "Customer message: can I return my shoes?"},
                {"role": "assistant", "content": "Hi, thanks for reaching out to us. We"}]
    text = "Hi, thanks for reaching out to us. We accept returns within 30 days, in 5 days."
    assert invented_figures(text, figures_shown(messages)) == ("5",)


def test_a_number_in_words_counting_days_or_money_is_a_figure_and_alone_it_is_not() -> None:
    # What the packaged model promised in customer replies of the stops bench.
    text = ("One of our team will refund you within two business days; twenty-four hours "
            "after that, a fee of fifty dollars applies. We have three options for you.")
    assert figures(text) == ["two business days", "twenty-four hours", "fifty dollars"]


@pytest.mark.parametrize(("text", "given", "invented"), [
    ("Refunds take three days.", "It has been 3 days", ()),
    ("Refunds take 14 days.", "fourteen days ago", ()),
    ("Within twenty-four hours.", "I waited twenty-four hours", ()),
    ("Within twenty-four hours.", "I waited 24 hours", ()),
    ("Two hundred and fifty dollars back.", "I paid $250", ()),
    ("Within two business days.", "Customer message: my order arrived broken",
     ("two business days",)),
    ("Within twenty-four hours.", "I waited twenty hours", ("twenty-four hours",)),
])
def test_a_number_in_words_is_given_when_what_was_shown_has_its_value(
        text: str, given: str, invented: tuple[str, ...]) -> None:
    assert invented_figures(text, [given]) == invented
