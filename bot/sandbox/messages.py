"""Message records: creating them as Slack stores them, and rendering them for readers.

A stored message is the dict Slack would return from conversations.history plus
private keys: `channel`, `streaming`, `ephemeral_for`. `api_message` renders it
for the Web API (thread counters computed on read, like Slack), `control_item`
for the control API and the browser UI.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.sandbox.blocks import rich_text_from
from bot.sandbox.payloads import bot_profile
from bot.sandbox.store import SandboxStore
from bot.sandbox.workspace import APP_ID, BOT_ID, BOT_USER_ID, Workspace

__all__ = ["user_message", "bot_message", "api_message", "control_item", "thread_fields"]

_PRIVATE = ("channel", "streaming", "ephemeral_for")


def thread_fields(store: SandboxStore, channel: str, thread_ts: str | None) -> dict[str, Any]:
    if not thread_ts:
        return {}
    parent = store.get_message(channel, thread_ts)
    return {"thread_ts": thread_ts, "parent_user_id": (parent or {}).get("user", "")}


def _profile(ws: Workspace, user: str) -> dict[str, Any]:
    u = ws.users[user]
    return {"avatar_hash": "", "image_72": "", "first_name": u.real_name.split()[0],
            "real_name": u.real_name, "display_name": u.name, "team": u.team_id, "name": u.name,
            "is_restricted": False, "is_ultra_restricted": False}


def user_message(ws: Workspace, store: SandboxStore, *, channel: str, user: str, text: str,
                 thread_ts: str | None) -> dict[str, Any]:
    team = ws.team_of(user)
    msg: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()), "type": "message", "text": text, "user": user,
        "ts": store.next_ts(), "team": team, "blocks": rich_text_from(text), "channel": channel,
    }
    # In shared channels the author's own team travels with the message (Slack Connect).
    msg.update(user_team=team, source_team=team, user_profile=_profile(ws, user))
    msg.update(thread_fields(store, channel, thread_ts))
    return msg


def bot_message(store: SandboxStore, *, channel: str, text: str,
                blocks: list[dict[str, Any]] | None, thread_ts: str | None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "bot_id": BOT_ID, "type": "message", "text": text, "user": BOT_USER_ID,
        "ts": store.next_ts(), "app_id": APP_ID, "team": "T0TANDEM", "bot_profile": bot_profile(),
        "blocks": blocks if blocks else rich_text_from(text), "channel": channel,
    }
    msg.update(thread_fields(store, channel, thread_ts))
    msg.update(extra or {})
    return msg


def api_message(store: SandboxStore, msg: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in msg.items() if k not in _PRIVATE and not k.startswith("_")}
    if not out.get("reactions"):
        out.pop("reactions", None)
    if msg.get("thread_ts") == msg["ts"] or not msg.get("thread_ts"):
        replies = store.replies(msg["channel"], msg["ts"])
        if replies:
            users = list(dict.fromkeys(r.get("user", "") for r in replies))
            out.update(thread_ts=msg["ts"], reply_count=len(replies), reply_users=users,
                       reply_users_count=len(users), latest_reply=replies[-1]["ts"])
    return out


def control_item(store: SandboxStore, msg: dict[str, Any]) -> dict[str, Any]:
    rendered = api_message(store, msg)
    item = {
        "ts": msg["ts"], "thread_ts": rendered.get("thread_ts"), "user": msg.get("user"),
        "bot_id": msg.get("bot_id"), "text": msg.get("text", ""), "blocks": msg.get("blocks", []),
        "reactions": msg.get("reactions", []), "streaming": bool(msg.get("streaming")),
        "subtype": msg.get("subtype"), "reply_count": rendered.get("reply_count", 0),
        "edited": msg.get("edited"),
    }
    if msg.get("ephemeral_for"):
        item["ephemeral_for"] = msg["ephemeral_for"]
    return item
