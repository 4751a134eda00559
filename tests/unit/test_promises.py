"""Remedies a customer reply promises that no one on the team offered are found, and only
those."""

from __future__ import annotations

import pytest

from bot.drafting.promises import offered, promises, unoffered_promises


def test_remedies_the_team_commits_to_are_promises_by_name_in_order() -> None:
    # What the packaged model wrote in customer replies of the stops bench, and more.
    text = ("We will refund all returned products up until 14 days after receiving them. "
            "You'll receive a 10% discount code and a replacement will be sent. "
            "I can waive the restocking fee, and we'd be happy to ship it for free.")
    assert promises(text) == ["refund", "discount", "replacement", "waived fee",
                              "free of charge"]
    assert promises("We’ll send you a new one.") == ["replacement"]
    # A commitment under way is one too.
    assert promises("I am sending them a new one today.") == ["replacement"]
    assert promises("We're issuing a refund for the second charge.") == ["refund"]
    # A thing named after a remedy hides no remedy named after it in the same sentence.
    assert promises("We will send the refund form and a full refund.") == ["refund"]


@pytest.mark.parametrize("text", [
    "We cannot refund worn swimwear.",  # refused
    "Unfortunately we will not be able to offer a replacement.",
    "Our refund policy is on the website.",  # named, not promised
    "We will look into it and get back to you.",  # a commitment, but to no remedy
    "We will charge your credit card on shipping.",  # a card is no credit
    "We can’t refund worn swimwear.",  # a typographer's apostrophe
    "We will send you a refund request form.",  # a form, named after the remedy
    "I will check the status of your replacement claim.",
    "We are processing your request and will reply today.",  # under way, but no remedy
])
def test_a_refused_or_merely_named_remedy_is_no_promise(text: str) -> None:
    assert promises(text) == []


def test_a_remedy_is_offered_by_the_teams_words_but_not_by_a_refusal_or_the_examples() -> None:
    messages = [{"role": "system", "content": "Do not promise refunds. Shipping on returns is "
                                              "free of charge."},
                {"role": "user", "content": "Customer message: my invoice is wrong"},
                {"role": "assistant", "content": "We'll issue a replacement invoice."},  # example
                {"role": "user", "content": "Customer message: can I get a refund?"},
                {"role": "assistant", "content": "Hi, thanks for reaching out to us. We"}]
    text = ("We will refund you, send a replacement and ship the return free of charge.")
    # The customer asking is not the team offering; the system text's refusal offers none.
    assert unoffered_promises(text, offered(messages, author="external")) \
        == ("refund", "replacement")
    # A teammate asking for the reply offers what they asked for.
    assert unoffered_promises(text, offered(messages, author="member")) == ("replacement",)
    # So do the sources.
    sources = [{"text": "Swimwear is replaced within 30 days."}]
    assert unoffered_promises(text, offered(messages, sources, author="external")) \
        == ("refund",)
