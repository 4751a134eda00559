"""The conversation a draft answers: the thread, cleaned and trimmed to a budget.

Slack markup becomes display names; the newest messages are kept when the
thread is longer than the budget, since they usually carry the ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.drafting.safety import clean_slack_text
from bot.llm.client import estimate_tokens
from bot.slack.client import LimitedWebClient
from bot.slack.directory import Directory

__all__ = ["Conversation", "asked", "build_context", "clean_request", "search_query",
           "thread_question", "MAX_REQUEST_CHARS"]

MAX_REQUEST_CHARS = 8000
# A question of this many content words or fewer, asked in a thread, is read as a
# follow-up of the thread's opening question ("and on Linux?", "after how long?").
FOLLOW_UP_TERMS = 3
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass
class Conversation:
    transcript: str = ""
    users: set[str] = field(default_factory=set)
    parent_text: str | None = None
    parent_user: str | None = None


async def _names(directory: Directory, user_ids: set[str]) -> dict[str, str]:
    return {uid: (await directory.user(uid)).name for uid in user_ids}


async def clean_request(directory: Directory, text: str, *,
                        bot_user_id: str) -> tuple[str, set[str]]:
    """The ask with the bot's own mention removed and other mentions named."""
    users = set(_MENTION.findall(text)) - {bot_user_id}
    text = re.sub(rf"<@{bot_user_id}(\|[^>]*)?>", "", text)
    cleaned = clean_slack_text(text, await _names(directory, users))
    return cleaned, users


async def build_context(client: LimitedWebClient, directory: Directory, *, channel: str,
                        thread_ts: str | None, exclude_ts: str | None, bot_user_id: str,
                        budget_tokens: int = 3000) -> Conversation:
    conv = Conversation()
    if not thread_ts:
        return conv  # a top-level ask has no thread to read: no Tier 3 call spent
    try:
        resp = await client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
    except SlackApiError:
        return conv  # no history is better than no draft
    replies: list[dict[str, Any]] = resp.get("messages", [])
    messages = [m for m in replies if m.get("ts") != exclude_ts]
    if not messages:
        return conv
    for m in messages:
        if m.get("user"):
            conv.users.add(m["user"])
        conv.users.update(_MENTION.findall(m.get("text") or ""))
    names = await _names(directory, conv.users)
    first = messages[0]
    if first.get("ts") == thread_ts:
        conv.parent_text = clean_slack_text(first.get("text") or "", names)
        conv.parent_user = first.get("user")
    lines: list[str] = []
    used = 0
    for m in reversed(messages):
        if m.get("user") == bot_user_id or m.get("bot_id"):
            who = "Tandem"
        else:
            who = names.get(m.get("user") or "", "someone")
        line = f"{who}: {clean_slack_text(m.get('text') or '', names)}"
        cost = estimate_tokens(line)
        if used + cost > budget_tokens:
            break
        lines.append(line)
        used += cost
    conv.transcript = "\n".join(reversed(lines))
    return conv


def thread_question(ask: str, transcript: str) -> str | None:
    """The question a short follow-up in a thread follows: the first line of the thread's
    first message from a person, at most 300 characters; None when `ask` is no short
    follow-up (more than `FOLLOW_UP_TERMS` content words, or no thread). `transcript` is
    `Conversation.transcript`, oldest first ("name: text" lines, Tandem's own as
    "Tandem: ...")."""
    from bot.kb.ranking import query_terms

    if not transcript or len(query_terms(ask)) > FOLLOW_UP_TERMS:
        return None
    for line in transcript.splitlines():
        who, sep, text = line.partition(": ")
        if sep and who != "Tandem" and text.strip():
            return text.strip()[:300]
    return None


def asked(ask: str, transcript: str) -> str:
    """A question as an approved answer's knowledge-base entry names it: a short follow-up
    with the question it follows ("and what about hotels? (following: how much do we get
    for meals on a business trip?)"), which alone it does not say."""
    followed = thread_question(ask, transcript)
    return f"{ask} (following: {followed})" if followed else ask


def search_query(ask: str, transcript: str) -> str:
    """What a question draft searches the knowledge base for: the ask itself, or for a
    short follow-up in a thread, the ask and then the first line of the thread's first
    message from a person, at most 300 characters (the ask leads: an embedding reads
    only its first 128 tokens). "after how long?" alone finds nothing, or something
    about anything; with "what happens when the primary on-call doesn't acknowledge a
    page?" after it, the escalation policy (`thread_question`)."""
    followed = thread_question(ask, transcript)
    return f"{ask}\n{followed}" if followed else ask
