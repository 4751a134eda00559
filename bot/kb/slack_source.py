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

import html
import re
import time
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.kb.ingest import sync_documents
from bot.kb.service import KnowledgeBase
from bot.kb.types import Document, IngestReport
from bot.slack.client import LimitedWebClient, authenticate
from bot.slack.limiter import SlackLimiter

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


_REF = re.compile(r"<([^<>]+)>")


class _Names:
    """People's and channels' names for mentions, each looked up once per run."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._users: dict[str, str] = {}
        self._channels: dict[str, str] = {}

    async def user(self, uid: str) -> str:
        if uid not in self._users:
            try:
                user = (await self._client.users_info(user=uid))["user"]
                profile = user.get("profile") or {}
                self._users[uid] = str(profile.get("display_name") or user.get("name")
                                       or profile.get("real_name") or uid)
            except SlackApiError:  # a deleted or foreign user: keep the ID
                self._users[uid] = uid
        return self._users[uid]

    async def channel(self, cid: str) -> str:
        if cid not in self._channels:
            try:
                found = (await self._client.conversations_info(channel=cid))["channel"]
                self._channels[cid] = str(found.get("name") or cid)
            except SlackApiError:
                self._channels[cid] = cid
        return self._channels[cid]

    async def plain(self, text: str) -> str:
        """Slack's markup as it reads: mentions by name, links with their label."""
        out, last = [], 0
        for match in _REF.finditer(text):
            out.append(html.unescape(text[last:match.start()]))
            target, _, label = match.group(1).partition("|")
            if target.startswith("@"):
                out.append("@" + (label or await self.user(target[1:])))
            elif target.startswith("#"):
                out.append("#" + (label or await self.channel(target[1:])))
            elif target.startswith("!"):  # <!here>, <!subteam^S01|@oncall>, <!date^…|text>
                word = target[1:].split("^")[0]
                out.append(label or f"@{word}")
            else:
                url = html.unescape(target)
                shown = html.unescape(label)
                out.append(url if not label or shown == url or url.endswith(":" + shown)
                           else f"{shown} ({url})")
            last = match.end()
        out.append(html.unescape(text[last:]))
        return "".join(out)

    async def line(self, msg: dict[str, Any]) -> str:
        uid = msg.get("user")
        who = await self.user(str(uid)) if uid else str(msg.get("username") or "someone")
        return f"@{who}: {await self.plain(str(msg.get('text', '')).strip())}"


async def read_channel(client: AsyncWebClient, ref: str, *, collection: str = "slack",
                       own: tuple[str, ...] = ()) -> tuple[str, list[Document]]:
    """(channel id, one Document per thread) for a channel given as #name or ID.
    Messages from `own` (the bot's user and bot IDs) are left out."""
    channel = await _resolve(client, ref)
    cid = str(channel["id"])
    private = bool(channel.get("is_private") or channel.get("is_group"))
    names = _Names(client)

    def theirs(m: dict[str, Any]) -> bool:
        return bool(m.get("text")) and not ({m.get("user"), m.get("bot_id")} & set(own))

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
        text = "\n\n".join([await names.line(m) for m in kept])
        link = await client.chat_getPermalink(channel=cid, message_ts=top["ts"])
        opening = (await names.plain(str(kept[0].get("text", "")))).strip()
        first = opening.splitlines()[0] if opening else ""
        latest = max(float(m.get("ts", 0)) for m in thread)
        docs.append(Document(doc_id=f"slack:{cid}:{top['ts']}",
                             title=f"#{channel.get('name', cid)}: {first[:80]}",
                             url=str(link["permalink"]), text=text, collection=collection,
                             private_channel=cid if private else None, updated_at=latest))
    return cid, docs


async def ingest_channel(kb: KnowledgeBase, settings: Settings, ref: str, *,
                         collection: str = "slack", limiter: SlackLimiter | None = None
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
        await sync_documents(kb, docs, scope=f"slack:{cid}:", report=report)
    finally:
        if client.session is not None:
            await client.session.close()
    report.seconds = time.perf_counter() - started
    return report
