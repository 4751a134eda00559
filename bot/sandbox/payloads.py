"""Builders for the event and interactive payloads Slack sends to an app.

Pure functions from sandbox state to the JSON Slack would deliver, with the keys
the fixtures in shared/data/slack/ show. Private bookkeeping keys on stored
objects start with "_" and are stripped here.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.sandbox.workspace import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID, Workspace

__all__ = [
    "public", "bot_profile", "event_callback", "message_event", "app_mention_event",
    "reaction_event", "message_changed_event", "app_home_event", "user_obj", "team_obj",
    "block_actions", "view_submission", "view_closed", "shortcut", "slash_command",
]

VERIFICATION_TOKEN = "sandbox-verification-token"


def public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def bot_profile() -> dict[str, Any]:
    return {"id": BOT_ID, "deleted": False, "name": BOT_NAME, "updated": 1700000000,
            "app_id": APP_ID, "icons": {"image_36": "", "image_48": "", "image_72": ""},
            "team_id": TEAM_ID}


def event_callback(event: dict[str, Any], *, ws: Workspace) -> dict[str, Any]:
    channel = ws.channels.get(str(event.get("channel") or event.get("item", {}).get("channel")))
    now = time.time()
    return {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "context_team_id": TEAM_ID,
        "context_enterprise_id": None, "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": int(now),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": bool(channel and channel.is_ext_shared),
        "event_context": f"4-{event['type']}-{TEAM_ID}-{channel.id if channel else ''}",
    }


def _channel_type(ws: Workspace, channel: str) -> str:
    ch = ws.channels.get(channel)
    if ch and ch.is_im:
        return "im"
    return "group" if ch and ch.is_private else "channel"


def message_event(msg: dict[str, Any], *, ws: Workspace) -> dict[str, Any]:
    keys = ("client_msg_id", "type", "subtype", "text", "user", "ts", "team", "user_team",
            "source_team", "user_profile", "bot_id", "app_id", "bot_profile", "blocks", "thread_ts",
            "parent_user_id", "channel")
    event = {k: msg[k] for k in keys if k in msg}
    event.update(event_ts=msg["ts"], channel_type=_channel_type(ws, msg["channel"]))
    return event


def app_mention_event(msg: dict[str, Any]) -> dict[str, Any]:
    keys = ("client_msg_id", "text", "user", "ts", "team", "user_team", "source_team",
            "blocks", "thread_ts", "channel")
    return {"type": "app_mention", **{k: msg[k] for k in keys if k in msg},
            "event_ts": msg["ts"]}


def reaction_event(msg: dict[str, Any], *, user: str, name: str, removed: bool) -> dict[str, Any]:
    return {"type": "reaction_removed" if removed else "reaction_added", "user": user,
            "item": {"type": "message", "channel": msg["channel"], "ts": msg["ts"]},
            "reaction": name, "item_user": msg.get("user", ""), "event_ts": f"{time.time():.6f}"}


def message_changed_event(new: dict[str, Any], old: dict[str, Any], *, ws: Workspace,
                          ts: str) -> dict[str, Any]:
    strip = ("channel", "reactions", "streaming", "ephemeral_for")
    return {"type": "message", "subtype": "message_changed",
            "message": {k: v for k, v in public(new).items() if k not in strip},
            "previous_message": {k: v for k, v in public(old).items() if k not in strip},
            "channel": new["channel"], "hidden": True, "ts": ts, "event_ts": ts,
            "channel_type": _channel_type(ws, new["channel"])}


def app_home_event(user: str, channel: str, view: dict[str, Any] | None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": channel,
                             "tab": "home", "event_ts": f"{time.time():.6f}"}
    if view is not None:
        event["view"] = public(view)
    return event


def user_obj(ws: Workspace, user_id: str) -> dict[str, Any]:
    u = ws.users[user_id]
    return {"id": u.id, "username": u.name, "name": u.name, "team_id": u.team_id}


def team_obj() -> dict[str, Any]:
    return {"id": TEAM_ID, "domain": "sandbox"}


def _base(kind: str, ws: Workspace, user: str) -> dict[str, Any]:
    return {"type": kind, "user": user_obj(ws, user), "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN, "team": team_obj(), "enterprise": None,
            "is_enterprise_install": False}


def block_actions(ws: Workspace, *, user: str, action: dict[str, Any], trigger_id: str,
                  msg: dict[str, Any] | None = None, view: dict[str, Any] | None = None,
                  response_url: str | None = None) -> dict[str, Any]:
    body = _base("block_actions", ws, user)
    body["trigger_id"] = trigger_id
    if view is not None:
        body["container"] = {"type": "view", "view_id": view["id"]}
        body["view"] = public(view)
        body["state"] = view.get("state", {"values": {}})
    elif msg is not None:
        ephemeral = bool(msg.get("ephemeral_for"))
        ch = ws.channels[msg["channel"]]
        body["container"] = {"type": "message", "message_ts": msg["ts"],
                             "channel_id": ch.id, "is_ephemeral": ephemeral}
        body["channel"] = {"id": ch.id, "name": ch.name if not ch.is_im else "directmessage"}
        if not ephemeral:  # Slack omits the message for ephemeral containers
            body["message"] = {k: v for k, v in public(msg).items()
                               if k not in ("channel", "streaming", "ephemeral_for")}
        body["state"] = {"values": {}}
        body["response_url"] = response_url
    body["actions"] = [action]
    return body


def view_submission(ws: Workspace, *, user: str, view: dict[str, Any],
                    trigger_id: str) -> dict[str, Any]:
    return {**_base("view_submission", ws, user), "trigger_id": trigger_id,
            "view": public(view), "response_urls": []}


def view_closed(ws: Workspace, *, user: str, view: dict[str, Any],
                is_cleared: bool) -> dict[str, Any]:
    return {**_base("view_closed", ws, user), "view": public(view), "is_cleared": is_cleared,
            "response_urls": []}


def shortcut(ws: Workspace, *, user: str, callback_id: str, trigger_id: str,
             msg: dict[str, Any] | None, response_url: str | None) -> dict[str, Any]:
    body = {**_base("message_action" if msg else "shortcut", ws, user),
            "callback_id": callback_id, "trigger_id": trigger_id,
            "action_ts": f"{time.time():.6f}"}
    if msg is not None:
        ch = ws.channels[msg["channel"]]
        body.update(channel={"id": ch.id, "name": ch.name}, message_ts=msg["ts"],
                    message={k: v for k, v in public(msg).items()
                             if k not in ("channel", "streaming", "ephemeral_for")},
                    response_url=response_url)
    return body


def slash_command(ws: Workspace, *, user: str, channel: str, command: str, text: str,
                  trigger_id: str, response_url: str) -> dict[str, Any]:
    u, ch = ws.users[user], ws.channels[channel]
    return {"token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": "sandbox",
            "channel_id": ch.id, "channel_name": ch.name if not ch.is_im else "directmessage",
            "user_id": u.id, "user_name": u.name, "command": command, "text": text,
            "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id}
