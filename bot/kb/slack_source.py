"""Ingest a Slack channel: one document per thread (or lone message), linked by permalink.

Reads `conversations.history` and `conversations.replies` through slack_sdk's
AsyncWebClient pointed at `settings.slack_api_url` (the sandbox in tests).
Content from a private channel is tagged with that channel, so search only
returns it when answering in the same channel. Re-running syncs: changed
threads are re-embedded, deleted ones removed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.kb.ingest import sync_documents
from bot.kb.service import KnowledgeBase
from bot.kb.types import Document, IngestReport

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["ingest_channel", "read_channel"]


async def _resolve(client: AsyncWebClient, ref: str) -> dict[str, Any]:
    name = ref.lstrip("#")
    if not ref.startswith("#"):
        info = await client.conversations_info(channel=ref)
        return dict(info["channel"])
    cursor = None
    while True:
        page = await client.conversations_list(types="public_channel,private_channel",
                                               cursor=cursor, limit=200)
        for channel in page["channels"]:
            if channel.get("name") == name:
                return dict(channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            raise ConfigError(f"no channel named #{name} visible to the bot")


async def _pages(method: Any, **kwargs: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await method(cursor=cursor, limit=200, **kwargs)
        messages.extend(page["messages"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor or not page.get("has_more", True):
            return messages


def _line(msg: dict[str, Any]) -> str:
    who = msg.get("user") or msg.get("username") or msg.get("bot_id") or "someone"
    return f"<@{who}>: {msg.get('text', '').strip()}"


async def read_channel(client: AsyncWebClient, ref: str, *, collection: str = "slack"
                       ) -> tuple[str, list[Document]]:
    """(channel id, one Document per thread) for a channel given as #name or ID."""
    channel = await _resolve(client, ref)
    cid = str(channel["id"])
    private = bool(channel.get("is_private") or channel.get("is_group"))
    docs: list[Document] = []
    for top in await _pages(client.conversations_history, channel=cid):
        if top.get("subtype") in ("channel_join", "channel_leave"):
            continue
        thread = [top]
        if top.get("reply_count") or top.get("thread_ts") == top.get("ts"):
            thread = await _pages(client.conversations_replies, channel=cid, ts=top["ts"])
        text = "\n\n".join(_line(m) for m in thread if m.get("text"))
        if not text.strip():
            continue
        link = await client.chat_getPermalink(channel=cid, message_ts=top["ts"])
        first = top.get("text", "").strip().splitlines()[0] if top.get("text") else ""
        latest = max(float(m.get("ts", 0)) for m in thread)
        docs.append(Document(doc_id=f"slack:{cid}:{top['ts']}",
                             title=f"#{channel.get('name', cid)}: {first[:80]}",
                             url=str(link["permalink"]), text=text, collection=collection,
                             private_channel=cid if private else None, updated_at=latest))
    return cid, docs


async def ingest_channel(kb: KnowledgeBase, settings: Settings, ref: str, *,
                         collection: str = "slack") -> IngestReport:
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: ingest-slack reads Slack as the bot")
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    report = IngestReport()
    started = time.perf_counter()
    try:
        cid, docs = await read_channel(client, ref, collection=collection)
        await sync_documents(kb, docs, scope=f"slack:{cid}:", report=report)
    finally:
        if client.session is not None:
            await client.session.close()
    report.seconds = time.perf_counter() - started
    return report
