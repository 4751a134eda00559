"""Small readers shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.store.models import Decision, Draft, Request
from tests.support.harness import Harness, button_values, text_of

__all__ = ["decisions", "drafts", "finals", "requests", "review_draft", "wait_posted",
           "wait_text", "wait_verdict"]


def decisions(h: Harness) -> list[Decision]:
    assert h.bot is not None
    with Session(h.bot.services.store.engine) as s:
        return list(s.exec(select(Decision)))


def drafts(h: Harness) -> list[Draft]:
    assert h.bot is not None
    with Session(h.bot.services.store.engine) as s:
        return list(s.exec(select(Draft).order_by(col(Draft.created_at))))


def requests(h: Harness) -> list[Request]:
    assert h.bot is not None
    with Session(h.bot.services.store.engine) as s:
        return list(s.exec(select(Request)))


async def finals(h: Harness, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    """Final posts: bot messages in the thread with no buttons and no draft label."""
    assert h.slack is not None
    msgs = await h.slack.messages(channel, thread_ts=thread_ts)
    return [m for m in msgs if m.get("bot_id") and not button_values(m)
            and "*Draft*" not in text_of(m) and m["ts"] != thread_ts
            and "asked Tandem" not in (m.get("text") or "")
            and ":lock:" not in text_of(m)]


async def wait_text(h: Harness, channel: str, thread_ts: str | None, needle: str,
                    as_user: str | None = None, timeout: float = 10) -> dict[str, Any]:
    assert h.slack is not None
    slack = h.slack

    async def found() -> dict[str, Any] | None:
        for m in await slack.messages(channel, thread_ts=thread_ts, as_user=as_user):
            if needle in text_of(m):
                return m
        return None

    return await slack.wait_for(found, timeout=timeout)


async def wait_posted(h: Harness, channel: str, thread_ts: str, timeout: float = 30
                      ) -> dict[str, Any]:
    """An answer posted without review (auto_post), finished: its feedback buttons shown."""
    assert h.slack is not None
    slack = h.slack

    async def posted() -> dict[str, Any] | None:
        return next((m for m in await slack.messages(channel, thread_ts=thread_ts)
                     if "tandem_feedback_up" in button_values(m) and not m.get("streaming")),
                    None)

    return await slack.wait_for(posted, timeout=timeout)


async def wait_verdict(h: Harness, channel: str, thread_ts: str | None, ts: str,
                       needle: str) -> dict[str, Any]:
    """Wait until the draft message `ts` shows `needle` (its verdict line)."""
    assert h.slack is not None
    slack = h.slack

    async def shown() -> dict[str, Any] | None:
        for m in await slack.messages(channel, thread_ts=thread_ts):
            if m["ts"] == ts and needle in text_of(m):
                return m
        return None

    return await slack.wait_for(shown)


async def review_draft(h: Harness, after: str = "") -> dict | None:
    """The first finished draft in the review channel (posted after `after`)."""
    assert h.slack is not None
    for top in await h.slack.messages("C0REVIEWS"):
        for m in await h.slack.messages("C0REVIEWS", thread_ts=top["ts"]):
            if "tandem_approve" in button_values(m) and not m.get("streaming") \
                    and float(m["ts"]) > float(after or 0):
                return m
    return None
