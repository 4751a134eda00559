"""Context rules: decide the job from where and how a message arrived.

These run before any text classifier because context is more reliable than
wording: an external customer in a support channel wants support even when
they write "can you write up a receipt", and a user who typed `doc:` has
already said what they want. When no rule is certain, `context_prior` turns
the context into a prior that the classifier's text evidence is weighed
against. Everything here is pure and has no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.routing.features import normalize

__all__ = [
    "CUSTOMER_FACING",
    "RuleHit",
    "asks_how_to_reply",
    "context_prior",
    "context_rule",
    "explicit_job",
    "keyword_command",
]

# Channels where an external customer can read along (Slack Connect or a
# configured support channel).
CUSTOMER_FACING = frozenset({"support", "shared"})

_ALIASES = {
    "doc": "document",
    "docs": "document",
    "document": "document",
    "draft": "document",
    "write": "document",
    "ask": "question",
    "question": "question",
    "q": "question",
    "reply": "support",
    "support": "support",
    "answer": "support",
}
# `doc: …` or `reply - …` at the very start, after any mentions.
_COMMAND = re.compile(
    r"^\s*(?:<[@!][^>]*>\s*)*(doc|docs|document|ask|question|reply|support)\s*(?:[:：]|\s-\s)",
    re.IGNORECASE,
)
# The slash command's text when it reaches us unparsed: `/tandem doc …`.
_SLASH = re.compile(r"^\s*/tandem\s+(doc|ask|reply)\b", re.IGNORECASE)

# Wording that asks for help answering someone, in the languages we serve.
_REPLY_INTENT = re.compile(
    r"\b(?:reply|replies|respond|response|answer|write back|get back to|tell (?:him|her|them"
    r"|the (?:customer|client|user|guest|patient))|say to|what (?:do|should|can) (?:i|we) "
    r"(?:say|tell|write)|respond|contest\w*|respuesta|resp[oó]nde\w*|dile|decirle|antwort\w*"
    r"|beantwort\w*|r[ée]pond\w*|r[ée]ponse|resposta|responder)\b"
    r"|回复|回答|答复|回应|怎么回|回个|返信|返事|回答|答え|どう対応",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RuleHit:
    job: str
    reason: str
    source: str  # "context" | "explicit"
    confidence: float


def explicit_job(name: str | None) -> str | None:
    """Map a subcommand ("doc", "ask", "reply") or a job name to a job."""
    if not name:
        return None
    return _ALIASES.get(name.strip().lower())


def keyword_command(text: str) -> str | None:
    """A job the text names up front, like `doc: release notes` or `/tandem ask …`."""
    match = _SLASH.match(text) or _COMMAND.match(text)
    return explicit_job(match.group(1)) if match else None


def asks_how_to_reply(text: str) -> bool:
    return bool(_REPLY_INTENT.search(normalize(text)))


def context_rule(
    *,
    text: str,
    channel_kind: str,
    author: str,
    thread_parent: str | None,
    explicit: str | None,
    shortcut: bool,
) -> RuleHit | None:
    """A decision that context alone makes certain, or None."""
    job = explicit_job(explicit)
    if job:
        return RuleHit(job, f"asked for by name (“{explicit}”)", "explicit", 1.0)
    if shortcut:
        return RuleHit("support", "the “Draft a reply with Tandem” shortcut", "context", 1.0)
    if author == "external":
        where = "a support channel" if channel_kind in CUSTOMER_FACING else "Slack Connect"
        return RuleHit("support", f"external customer in {where}", "context", 0.99)
    job = keyword_command(text)
    if job:
        return RuleHit(job, f"the message starts with the {job} keyword", "explicit", 1.0)
    if thread_parent and channel_kind in CUSTOMER_FACING and asks_how_to_reply(text):
        return RuleHit(
            "support", "a teammate asks how to answer the customer in this thread", "context", 0.95
        )
    return None


def context_prior(*, channel_kind: str, thread_parent: str | None) -> dict[str, float]:
    """How likely each job is before reading the text, given where it was said.

    In a customer-facing channel, a teammate writing under a customer's
    message is usually after a reply; elsewhere, replies to customers are the
    exception and documents and questions are about equally common.
    """
    if thread_parent and channel_kind in CUSTOMER_FACING:
        return {"document": 0.2, "question": 0.2, "support": 0.6}
    if channel_kind in CUSTOMER_FACING:
        return {"document": 0.3, "question": 0.4, "support": 0.3}
    return {"document": 0.4, "question": 0.4, "support": 0.2}
