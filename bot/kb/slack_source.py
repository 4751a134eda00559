"""Ingest a Slack channel: one document per thread (or lone message), linked by permalink.

Reads `conversations.history` and `conversations.replies` through the bot's own Web API
client (`LimitedWebClient`) pointed at `settings.slack_api_url` (the sandbox in tests): its
limiter paces the calls to Slack's tiers, so a channel of hundreds of threads is read at
`conversations.replies`' 50 a minute instead of failing with `ratelimited` at the 51st.
Content from a private channel, or from a channel shared with another organisation
(Slack Connect: a customer's conversation), is tagged with that channel, so search only
returns it when answering in the same channel, as for answers approved there.
Re-running syncs: changed threads are re-embedded, deleted ones removed.

A re-run reads only the threads that changed. The channel's history (200 messages a
call) gives each thread's reply count, latest reply and its first message's edit time;
a thread whose record (`meta` key `slack_threads:<collection>:<channel>`) matches, in a
channel whose name and visibility are as they were, keeps its document without a
`conversations.replies` call, which is one call per thread at 50 a minute, a quota the
running bot shares for thread context. A reply edited in place changes none of that:
`--full` reads every thread again.

Text is stored as people read it in Slack, not as its markup: `<@U0ALICE>` is `@alice`,
`<#C0DEV|dev>` is `#dev`, `<https://x|the runbook>` is "the runbook (https://x)", and
`&amp;` is `&`. Tandem's own messages are left out: its drafts, rejected ones included,
are not the team's knowledge, and the answers it posted after approval are already in
the knowledge base, linked to their thread (`KnowledgeBase.add_answer`). So is a thread
that holds only asks to Tandem ("@tandem how much can I spend on meals?") and no person's
reply: a question is no answer, and it ranked first for itself, the answer then quoting
the question back as its source. Once a person replies, the ask stays as the reply's
context.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.drafting.safety import CHANNEL_MENTION, clean_slack_text, referenced
from bot.errors import ConfigError
from bot.kb.ingest import SLACK_HOME, collection_id, sync_documents
from bot.kb.inventory import CHANNEL_ID
from bot.kb.service import KnowledgeBase
from bot.kb.types import Document, IngestReport
from bot.slack.client import LimitedWebClient, authenticate
from bot.slack.directory import ChannelInfo, Directory
from bot.slack.limiter import SlackLimiter

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["ChannelRead", "channel_ref", "ingest_channel", "read_channel"]


NO_CHANNEL = ("give a channel: its name (general), #name quoted ('#general': unquoted, a "
              "shell reads it as a comment and drops it), or its ID")


def channel_ref(ref: str) -> tuple[str, str]:
    """("id", ID) or ("name", name) for what a person typed. A name may come without its
    "#": unquoted in a shell, `#general` starts a comment, so people type `general`,
    which was looked up as an ID and not found."""
    ref = ref.strip()
    mention = CHANNEL_MENTION.fullmatch(ref)
    if mention:
        return "id", mention.group(1)
    if CHANNEL_ID.match(ref):
        return "id", ref
    return "name", ref.lstrip("#").strip()


async def _resolve(client: AsyncWebClient, ref: str) -> dict[str, Any]:
    kind, value = channel_ref(ref)
    if kind == "id":
        info = await client.conversations_info(channel=value)
        return dict(info["channel"])
    name = value
    if not name:
        raise ConfigError(NO_CHANNEL)
    cursor = None
    while True:
        page = await client.conversations_list(types="public_channel,private_channel",
                                               cursor=cursor, limit=200)
        for channel in page["channels"]:
            if channel.get("name") == name:
                return dict(channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            raise ConfigError(f"no channel named #{name} visible to the bot: a private "
                              "channel is visible only once the bot is invited to it")


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


# The share of each Slack tier the ingest paces itself to: Slack counts calls per app,
# so the running bot's own `conversations.replies` (thread context for every draft)
# spends the same 50 a minute, and must not queue behind a long first ingest.
INGEST_SHARE = 0.8

_NOTHING = "-"  # a record's mark for a thread that gave no document


def _record(channel: dict[str, Any], private: bool, top: dict[str, Any]) -> str:
    """What a thread's document depends on that the history shows without its replies."""
    edited = (top.get("edited") or {}).get("ts", "")
    return json.dumps([channel.get("name", ""), private, top.get("reply_count", 0),
                       top.get("latest_reply", ""), edited, top.get("subtype") or ""])


@dataclass
class ChannelRead:
    channel_id: str
    docs: list[Document] = field(default_factory=list)  # threads read now
    kept: list[str] = field(default_factory=list)  # ids of threads unchanged since `known`
    records: dict[str, str] = field(default_factory=dict)  # doc id → `_record`


async def read_channel(client: LimitedWebClient, channel: dict[str, Any], *,
                       collection: str = SLACK_HOME, own: tuple[str, ...] = (),
                       known: dict[str, str] | None = None) -> ChannelRead:
    """One Document per thread of `channel` (as `conversations.info` gives it), except
    the threads whose record is in `known` unchanged (doc id → record), listed as kept.
    Messages from `own` (the bot's user and bot IDs) are left out."""
    cid = str(channel["id"])
    # As for answers approved in it: a private or shared channel's threads (a shared
    # one's are a customer's) answer only there.
    private = ChannelInfo.from_api(channel).confined
    out = ChannelRead(cid)
    directory = Directory(client, team_id=client.team_id)  # names looked up once a run
    mine = set(own)

    def theirs(m: dict[str, Any]) -> bool:
        return bool(m.get("text")) and not ({m.get("user"), m.get("bot_id")} & mine)

    def asks_tandem(m: dict[str, Any]) -> bool:
        return any(f"<@{me}>" in str(m["text"]) for me in mine)

    async def speaker(m: dict[str, Any]) -> str:
        if m.get("user"):
            return (await directory.user(str(m["user"]))).name
        return str(m.get("username") or "someone")

    for top in await _pages(client.conversations_history, channel=cid):
        if top.get("subtype") in ("channel_join", "channel_leave"):
            continue
        doc_id = collection_id(collection, f"slack:{cid}:{top['ts']}", SLACK_HOME)
        record = out.records[doc_id] = _record(channel, private, top)
        before = (known or {}).get(doc_id)
        if before == record:
            out.kept.append(doc_id)
            continue
        if before == _NOTHING + record:
            out.records[doc_id] = before
            continue
        thread = [top]
        if top.get("reply_count") or top.get("thread_ts") == top.get("ts"):
            thread = await _pages(client.conversations_replies, channel=cid, ts=top["ts"])
        said = [m for m in thread if theirs(m)]
        if all(asks_tandem(m) for m in said):
            # Only Tandem's, or asks to it that no person answered: nothing to store,
            # nothing to read again next time.
            out.records[doc_id] = _NOTHING + record
            continue
        bodies = [await _plain(directory, str(m["text"])) for m in said]
        text = "\n\n".join([f"@{await speaker(m)}: {body}"
                              for m, body in zip(said, bodies, strict=True)])
        link = await client.chat_getPermalink(channel=cid, message_ts=top["ts"])
        first = bodies[0].splitlines()[0] if bodies[0] else ""
        latest = max(float(m.get("ts", 0)) for m in thread)
        out.docs.append(Document(doc_id=doc_id,
                                 title=f"#{channel.get('name', cid)}: {first[:80]}",
                                 url=str(link["permalink"]), text=text,
                                 collection=collection,
                                 private_channel=cid if private else None, updated_at=latest))
    return out


def _load_records(raw: str | None) -> dict[str, str]:
    try:
        records = json.loads(raw or "{}")
    except ValueError:
        return {}
    return records if isinstance(records, dict) else {}


def _refused(exc: SlackApiError, ref: str, bot: str) -> ConfigError:
    """What to do about a channel Slack will not let the bot read, as a ConfigError."""
    error = str(exc.response.get("error"))
    invite = f"invite the bot with `/invite @{bot}` in the channel, then run this again"
    if error == "not_in_channel":
        return ConfigError(f"the bot is not a member of {ref}: {invite}")
    if error == "channel_not_found":
        return ConfigError(f"Slack shows the bot no channel {ref}: check the ID; a private "
                           f"channel is hidden from the bot until you {invite}")
    if error == "missing_scope":
        return ConfigError(f"the bot token lacks the scope {exc.response.get('needed')} to "
                           f"read {ref}: add it to the app's bot scopes and reinstall the app "
                           "(private channels need groups:read and groups:history)")
    return ConfigError(f"Slack refused to let the bot read {ref} ({error})")


async def ingest_channel(kb: KnowledgeBase, settings: Settings, ref: str, *,
                         collection: str = SLACK_HOME, limiter: SlackLimiter | None = None,
                         full: bool = False) -> IngestReport:
    """Sync the channel's threads into `collection`; `full` reads every thread again."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: ingest-slack reads Slack as the bot "
                          "(the local sandbox's: SLACK_BOT_TOKEN=xoxb-sandbox "
                          "SLACK_API_URL=http://127.0.0.1:3000/api/)")
    client = LimitedWebClient(limiter=limiter or SlackLimiter(scale=INGEST_SHARE),
                              token=settings.slack_bot_token, base_url=settings.slack_api_url)
    report = IngestReport()
    started = time.perf_counter()
    try:
        auth = await authenticate(client, settings.slack_api_url)
        own = tuple(str(auth[k]) for k in ("user_id", "bot_id") if auth.get(k))
        bot = str(auth.get("user") or "the bot")
        try:
            channel = await _resolve(client, ref)
        except SlackApiError as exc:
            raise _refused(exc, ref, bot) from exc
        bare = f"slack:{channel['id']}:"  # the channel's ids in its home collection
        scope = collection_id(collection, bare, SLACK_HOME)
        key = f"slack_threads:{collection}:{channel['id']}"
        # Only threads still stored are kept: `tandem kb remove` may have taken some.
        stored = await kb.hashes(prefix=scope)
        records = _load_records(await asyncio.to_thread(kb.store.get_meta, key))
        known = {} if full else {d: r for d, r in records.items()
                                 if d in stored or r.startswith(_NOTHING)}
        try:
            read = await read_channel(client, channel, collection=collection, own=own,
                                      known=known)
        except SlackApiError as exc:
            raise _refused(exc, f"#{channel.get('name') or ref}", bot) from exc
        await sync_documents(kb, read.docs, scope=scope, report=report,
                             legacy=(bare, collection), keep=set(read.kept), stored=stored)
        await asyncio.to_thread(kb.store.set_meta, key, json.dumps(read.records))
    finally:
        if client.session is not None:
            await client.session.close()
    report.seconds = time.perf_counter() - started
    return report
