"""Context rules: the decisions that the channel, author and command make alone."""

from __future__ import annotations

import pytest

from bot.routing.classifier import TextClassifier
from bot.routing.router import RouteInput, Router
from bot.routing.rules import asks_how_to_reply, context_prior, explicit_job, keyword_command


@pytest.fixture(scope="module")
def router(classifier: TextClassifier) -> Router:
    return Router(classifier=classifier)


@pytest.mark.parametrize("channel", ["support", "shared"])
def test_external_author_routes_to_support_even_when_asking_for_a_document(
    router: Router, channel: str
) -> None:
    inp = RouteInput(
        text="please write a summary of the outage for our execs",
        channel_kind=channel,
        author="external",
    )
    decision = router.decide_offline(inp)
    assert (decision.job, decision.source) == ("support", "context")
    assert "external customer" in decision.reason


def test_explicit_subcommand_overrides_the_text(router: Router) -> None:
    inp = RouteInput(text="what is our refund policy?", explicit="doc")
    decision = router.decide_offline(inp)
    assert (decision.job, decision.source, decision.confidence) == ("document", "explicit", 1.0)


def test_shortcut_routes_to_support_in_an_internal_channel(router: Router) -> None:
    decision = router.decide_offline(RouteInput(text="write the Q3 report", shortcut=True))
    assert (decision.job, decision.source) == ("support", "context")


@pytest.mark.parametrize(
    ("text", "job"),
    [
        ("doc: where is the brand guide", "document"),
        ("<@U02BOT> ask: write the release notes", "question"),
        ("/tandem reply what is our SLA?", "support"),
        ("REPLY - thanks, it's fixed", "support"),
        ("document the steps we took", None),  # a verb, not a command
        ("asking for a friend: what's the wifi", None),
    ],
)
def test_keyword_command_is_read_only_at_the_start(text: str, job: str | None) -> None:
    assert keyword_command(text) == job


def test_unknown_explicit_name_is_ignored() -> None:
    assert explicit_job("banana") is None
    assert explicit_job(" Ask ") == "question"


@pytest.mark.parametrize(
    "text",
    [
        "what should I tell this customer?",
        "help me respond, we'll refund the shipping",
        "这个客户该怎么回复？",
        "このお客様への返信を作ってください",
        "redacta una respuesta para esta clienta",
        "Was antworten wir hier?",
    ],
)
def test_member_asking_how_to_answer_customer_thread_is_support(router: Router, text: str) -> None:
    inp = RouteInput(
        text=text,
        channel_kind="support",
        thread_parent="My order arrived broken and nobody answers my emails.",
    )
    decision = router.decide_offline(inp)
    assert asks_how_to_reply(text)
    assert (decision.job, decision.source) == ("support", "context")


def test_member_asking_for_a_document_under_customer_thread_is_not_forced_to_support(
    router: Router,
) -> None:
    inp = RouteInput(
        text="turn this into a bug report for the engineers with repro steps",
        channel_kind="support",
        thread_parent="Exports to PDF come out blank in Firefox.",
    )
    decision = router.decide_offline(inp)
    assert decision.source == "classifier"
    assert decision.job == "document"


def test_reply_intent_in_internal_thread_is_left_to_the_classifier(router: Router) -> None:
    inp = RouteInput(
        text="reply-all etiquette: what's our guidance?",
        channel_kind="internal",
        thread_parent="Someone replied-all to the whole company again.",
    )
    decision = router.decide_offline(inp)
    assert decision.source == "classifier"


def test_context_prior_favours_support_under_a_customer_thread() -> None:
    under_customer = context_prior(channel_kind="shared", thread_parent="it's broken")
    internal = context_prior(channel_kind="internal", thread_parent=None)
    assert max(under_customer, key=under_customer.__getitem__) == "support"
    assert internal["support"] < internal["document"] == internal["question"]
    assert abs(sum(under_customer.values()) - 1) < 1e-9
