"""Web API: auth, Socket Mode connection, conversations.*, users.*, usergroups, reactions.*.

Reads render stored messages with `api_message`; ephemeral messages are never
returned, as in Slack. Reactions added by the bot emit reaction events like a
user's would.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from bot.sandbox import payloads
from bot.sandbox.apierror import ApiError, require
from bot.sandbox.messages import api_message
from bot.sandbox.workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, TEAM_NAME, Channel

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["METHODS", "apply_reaction"]


def _channel(sb: Sandbox, args: dict[str, Any], key: str = "channel") -> Channel:
    require(args, key)
    ch = sb.ws.channel(str(args[key]), names=False)
    if ch is None or ch.hidden_from(BOT_USER_ID):
        raise ApiError("channel_not_found")
    return ch


def _page(items: list[Any], args: dict[str, Any], default: int = 100) -> tuple[list[Any], str]:
    limit = max(1, min(int(args.get("limit") or default), 1000))
    start = int(args.get("cursor") or 0) if str(args.get("cursor") or "0").isdigit() else 0
    chunk = items[start:start + limit]
    return chunk, str(start + limit) if start + limit < len(items) else ""


async def auth_test(sb: Sandbox, _args: dict[str, Any]) -> dict[str, Any]:
    return {"url": f"{sb.url}/", "team": TEAM_NAME, "user": "tandem", "team_id": TEAM_ID,
            "user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "is_enterprise_install": False}


async def connections_open(sb: Sandbox, _args: dict[str, Any]) -> dict[str, Any]:
    ws_url = sb.url.replace("http://", "ws://") + f"/socket/{secrets.token_urlsafe(12)}"
    return {"url": ws_url}


def _visible(sb: Sandbox, ch: Channel) -> list[dict[str, Any]]:
    return [m for m in sb.store.channel_messages(ch.id) if not m.get("ephemeral_for")]


async def history(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch = _channel(sb, args)
    if BOT_USER_ID not in ch.members:
        raise ApiError("not_in_channel")
    top = [m for m in _visible(sb, ch) if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
    if args.get("latest"):
        top = [m for m in top if float(m["ts"]) < float(args["latest"])]
    if args.get("oldest"):
        top = [m for m in top if float(m["ts"]) > float(args["oldest"])]
    newest_first = list(reversed(top))
    chunk, cursor = _page(newest_first, args)
    return {"messages": _listed(sb, chunk, args), "has_more": bool(cursor),
            "pin_count": 0, "response_metadata": {"next_cursor": cursor}}


def _flag(args: dict[str, Any], name: str) -> bool:
    """A boolean argument as slack_sdk sends it ("1", from True) or a caller writes it."""
    return str(args.get(name, "")).lower() in ("1", "true")


def _listed(sb: Sandbox, messages: list[dict[str, Any]], args: dict[str, Any]
            ) -> list[dict[str, Any]]:
    """Messages as history and replies list them: metadata only when asked for."""
    keep = _flag(args, "include_all_metadata")
    listed = [api_message(sb.store, m) for m in messages]
    if not keep:
        for message in listed:
            message.pop("metadata", None)
    return listed


async def replies(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch = _channel(sb, args)
    require(args, "ts")
    parent = sb.store.get_message(ch.id, str(args["ts"]))
    if parent is None:
        raise ApiError("thread_not_found")
    root = str(parent.get("thread_ts") or parent["ts"])
    root_msg = sb.store.get_message(ch.id, root) or parent
    thread = [root_msg] + [m for m in sb.store.replies(ch.id, root) if not m.get("ephemeral_for")]
    chunk, cursor = _page(thread, args, default=1000)
    return {"messages": _listed(sb, chunk, args), "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor}}


async def info(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    return {"channel": _channel(sb, args).to_api()}


async def conversations_list(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    kinds = str(args.get("types") or "public_channel").split(",")

    def listed(c: Channel) -> bool:
        if c.is_im:
            return "im" in kinds
        if c.is_private:  # only to members, as Slack lists them
            return "private_channel" in kinds and not c.hidden_from(BOT_USER_ID)
        return "public_channel" in kinds

    chans = [c for c in sb.ws.channels.values() if listed(c)]
    chunk, cursor = _page([c.to_api() for c in chans], args)
    return {"channels": chunk, "response_metadata": {"next_cursor": cursor}}


async def members(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    chunk, cursor = _page(list(_channel(sb, args).members), args)
    return {"members": chunk, "response_metadata": {"next_cursor": cursor}}


async def conversations_open(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    users = args.get("users")
    ids = users if isinstance(users, list) else str(users or "").split(",")
    humans = [u for u in ids if u and u != BOT_USER_ID]
    if len(humans) != 1 or humans[0] not in sb.ws.users:
        raise ApiError("user_not_found")
    return {"channel": {"id": sb.ws.dm(humans[0]).id}}


async def users_info(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "user")
    user = sb.ws.users.get(str(args["user"]))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_api()}


async def users_list(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    chunk, cursor = _page([u.to_api() for u in sb.ws.users.values()], args)
    return {"members": chunk, "cache_ts": 0, "response_metadata": {"next_cursor": cursor}}


async def usergroups_list(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    include_users = _flag(args, "include_users")
    groups = []
    for group in sb.ws.usergroups.values():
        item = {k: v for k, v in group.items() if k != "users"}
        item["user_count"] = len(group["users"])
        if include_users:
            item["users"] = list(group["users"])
        groups.append(item)
    return {"usergroups": groups}


async def usergroup_users(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "usergroup")
    group = sb.ws.usergroups.get(str(args["usergroup"]))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group["users"])}


def apply_reaction(sb: Sandbox, msg: dict[str, Any], *, user: str, name: str,
                   remove: bool) -> None:
    """Add or remove one reaction, raising Slack's error; emits the reaction event."""
    reactions: list[dict[str, Any]] = msg.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if remove:
        if entry is None or user not in entry["users"]:
            raise ApiError("no_reaction")
        entry["users"].remove(user)
        if not entry["users"]:
            reactions.remove(entry)
    else:
        if entry is not None and user in entry["users"]:
            raise ApiError("already_reacted")
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
    if entry is not None:
        entry["count"] = len(entry["users"])
    sb.store.put_message(msg)
    sb.notify(channel=msg["channel"])
    event = payloads.reaction_event(msg, user=user, name=name, removed=remove)
    sb.spawn(sb.deliver_events([payloads.event_callback(event, ws=sb.ws)]))


def _reacted(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch = _channel(sb, args)
    require(args, "timestamp")
    msg = sb.store.get_message(ch.id, str(args["timestamp"]))
    if msg is None or msg.get("ephemeral_for"):
        raise ApiError("message_not_found")
    return msg


async def reactions_add(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "name")
    apply_reaction(sb, _reacted(sb, args), user=BOT_USER_ID, name=str(args["name"]).strip(":"),
                   remove=False)
    return {}


async def reactions_remove(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "name")
    apply_reaction(sb, _reacted(sb, args), user=BOT_USER_ID, name=str(args["name"]).strip(":"),
                   remove=True)
    return {}


async def reactions_get(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    msg = _reacted(sb, args)
    return {"type": "message", "channel": msg["channel"],
            "message": {**api_message(sb.store, msg), "reactions": msg.get("reactions", [])}}


METHODS = {
    "auth.test": auth_test, "apps.connections.open": connections_open,
    "conversations.history": history, "conversations.replies": replies,
    "conversations.info": info, "conversations.list": conversations_list,
    "conversations.members": members, "conversations.open": conversations_open,
    "users.info": users_info, "users.list": users_list,
    "usergroups.users.list": usergroup_users, "usergroups.list": usergroups_list,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove, "reactions.get": reactions_get,
}
