"""Ingest a Slack channel: one document per thread (or lone message), linked by permalink.

Reads `conversations.history` and `conversations.replies` through the bot's own Web API
client (`LimitedWebClient`) pointed at `settings.slack_api_url` (the sandbox in tests): its
limiter paces the calls to Slack's tiers, so a channel of hundreds of threads is read at
`conversations.replies`' 50 a minute instead of failing with `ratelimited` at the 51st.
Content from a private channel is tagged with that channel, so search only returns it
when answering in the same channel. Re-running syncs: changed threads are re-embedded,
deleted ones removed.

Text is stored as people read it in Slack, not as its markup: `<@U0ALICE>` is `@alice`,
`<#C0DEV|dev>` is `#dev`, `<https://x|the runbook>` is "the runbook (https://x)", and
`&amp;` is `&`. Tandem's own messages are left out: its drafts, rejected ones included,
are not the team's knowledge, and the answers it posted after approval are already in
the knowledge base, linked to their thread (`KnowledgeBase.add_answer`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.drafting.safety import clean_slack_text, referenced
from bot.errors import ConfigError
from bot.kb.ingest import collection_id, sync_documents
from bot.kb.service import KnowledgeBase
from bot.kb.types import Document, IngestReport
from bot.slack.client import LimitedWebClient, authenticate
from bot.slack.directory import Directory
from bot.slack.limiter import SlackLimiter

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["HOME", "ingest_channel", "read_channel"]

HOME = "slack"  # the collection whose thread ids are bare (`collection_id`)


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


async def _plain(directory: Directory, text: str) -> str:
    """Slack markup as people read it: mentions by name, links with their label."""
    users, channels = referenced(text)
    return clean_slack_text(text, {u: (await directory.user(u)).name for u in users},
                            {c: (await directory.channel(c)).name for c in channels})


async def read_channel(client: LimitedWebClient, ref: str, *, collection: str = HOME,
                       own: tuple[str, ...] = ()) -> tuple[str, list[Document]]:
    """(channel id, one Document per thread) for a channel given as #name or ID.
    Messages from `own` (the bot's user and bot IDs) are left out."""
    channel = await _resolve(client, ref)
    cid = str(channel["id"])
    private = bool(channel.get("is_private") or channel.get("is_group"))
    directory = Directory(client, team_id=client.team_id)  # names looked up once a run
    mine = set(own)

    def theirs(m: dict[str, Any]) -> bool:
        return bool(m.get("text")) and not ({m.get("user"), m.get("bot_id")} & mine)

    async def speaker(m: dict[str, Any]) -> str:
        if m.get("user"):
            return (await directory.user(str(m["user"]))).name
        return str(m.get("username") or "someone")

    docs: list[Document] = []
    for top in await _pages(client.conversations_history, channel=cid):
        if top.get("subtype") in ("channel_join", "channel_leave"):
            continue
        thread = [top]
        if top.get("reply_count") or top.get("thread_ts") == top.get("ts"):
            thread = await _pages(client.conversations_replies, channel=cid, ts=top["ts"])
        kept = [m for m in thread if theirs(m)]
        if not kept:
            continue
        bodies = [await _plain(directory, str(m["text"])) for m in kept]
        text = "\n\n".join([f"@{await speaker(m)}: {body}"
                              for m, body in zip(kept, bodies, strict=True)])
        link = await client.chat_getPermalink(channel=cid, message_ts=top["ts"])
        first = bodies[0].splitlines()[0] if bodies[0] else ""
        latest = max(float(m.get("ts", 0)) for m in thread)
        key = f"slack:{cid}:{top['ts']}"
        docs.append(Document(doc_id=collection_id(collection, key, HOME),
                             title=f"#{channel.get('name', cid)}: {first[:80]}",
                             url=str(link["permalink"]), text=text, collection=collection,
                             private_channel=cid if private else None, updated_at=latest))
    return cid, docs


async def ingest_channel(kb: KnowledgeBase, settings: Settings, ref: str, *,
                         collection: str = HOME, limiter: SlackLimiter | None = None
                         ) -> IngestReport:
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: ingest-slack reads Slack as the bot")
    client = LimitedWebClient(limiter=limiter or SlackLimiter(), token=settings.slack_bot_token,
                              base_url=settings.slack_api_url)
    report = IngestReport()
    started = time.perf_counter()
    try:
        auth = await authenticate(client, settings.slack_api_url)
        own = tuple(str(auth[k]) for k in ("user_id", "bot_id") if auth.get(k))
        cid, docs = await read_channel(client, ref, collection=collection, own=own)
        scope = f"slack:{cid}:"
        await sync_documents(kb, docs, scope=collection_id(collection, scope, HOME),
                             report=report, legacy=(scope, collection))
    finally:
        if client.session is not None:
            await client.session.close()
    report.seconds = time.perf_counter() - started
    return report
