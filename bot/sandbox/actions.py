"""What users do in the sandbox, turned into state changes and the payloads Slack would send.

Posting and reacting return at once and deliver their events in the background
(Slack does not wait for the app either). Clicks, shortcuts, commands and view
submissions wait for the app's ack, because the ack's payload decides what the
user sees (response_action for views, an immediate reply for commands).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bot.sandbox import payloads
from bot.sandbox.api_chat import save_message
from bot.sandbox.api_read import apply_reaction
from bot.sandbox.api_views import close_stack, open_modals
from bot.sandbox.apierror import ApiError
from bot.sandbox.blocks import mentioned_users, rich_text_from
from bot.sandbox.messages import user_message
from bot.sandbox.responses import respond
from bot.sandbox.views import build_view, submitted_state, validate_view
from bot.sandbox.workspace import BOT_USER_ID, Channel, User

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["post", "edit", "react", "click", "shortcut", "command", "submit", "close", "home",
           "resolve_user", "resolve_channel", "find_message"]


def resolve_user(sb: Sandbox, ref: Any) -> User:
    user = sb.ws.user(str(ref or ""))
    if user is None or user.is_bot:
        raise ApiError("user_not_found")
    return user


def resolve_channel(sb: Sandbox, ref: Any, user: User | None = None) -> Channel:
    ch = sb.ws.channel(str(ref or ""))
    if ch is None or (user is not None and ch.hidden_from(user.id)):
        raise ApiError("channel_not_found")
    if user is not None and user.id not in ch.members:
        raise ApiError("not_in_channel")
    return ch


def find_message(sb: Sandbox, ch: Channel, ts: Any) -> dict[str, Any]:
    msg = sb.store.get_message(ch.id, str(ts or ""))
    if msg is None:
        raise ApiError("message_not_found")
    return msg


def post(sb: Sandbox, *, channel: Any, user: Any, text: str, thread_ts: Any = None) -> str:
    u = resolve_user(sb, user)
    ch = resolve_channel(sb, channel, u)
    root = None
    if thread_ts:
        parent = find_message(sb, ch, thread_ts)
        root = str(parent.get("thread_ts") or parent["ts"])
    msg = user_message(sb.ws, sb.store, channel=ch.id, user=u.id, text=text, thread_ts=root)
    sb.store.put_message(msg)
    sb.notify(channel=ch.id)
    events = [payloads.message_event(msg, ws=sb.ws)]
    if BOT_USER_ID in mentioned_users(text) and not ch.is_im:
        events.append(payloads.app_mention_event(msg))
    sb.spawn(sb.deliver_events([payloads.event_callback(e, ws=sb.ws) for e in events]))
    return str(msg["ts"])


def edit(sb: Sandbox, *, channel: Any, ts: Any, user: Any, text: str) -> None:
    """A person edits their own message: Slack sends `message_changed` (no new
    `app_mention`, even when the edit adds one)."""
    u = resolve_user(sb, user)
    ch = resolve_channel(sb, channel, u)
    old = find_message(sb, ch, ts)
    if old.get("user") != u.id or old.get("bot_id"):
        raise ApiError("cant_update_message")
    save_message(sb, {**old, "text": text, "blocks": rich_text_from(text),
                      "edited": {"user": u.id, "ts": f"{time.time():.6f}"}}, previous=old)


def react(sb: Sandbox, *, channel: Any, ts: Any, user: Any, name: str, remove: bool) -> None:
    u = resolve_user(sb, user)
    ch = resolve_channel(sb, channel, u)
    apply_reaction(sb, find_message(sb, ch, ts), user=u.id, name=name.strip(":"), remove=remove)


def _find_action(blocks: list[Any], action_id: str, value: Any) -> dict[str, Any]:
    found = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for el in [*elements, block.get("accessory")]:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                found.append((block.get("block_id", ""), el))
    if value is not None:
        found = [f for f in found if f[1].get("value") == value] or found
    if not found:
        raise ApiError("action_not_found")
    block_id, el = found[0]
    action = {"action_id": action_id, "block_id": block_id, "type": el.get("type", "button"),
              "action_ts": f"{time.time():.6f}"}
    if "text" in el:
        action["text"] = el["text"]
    if value is not None or "value" in el:
        action["value"] = value if value is not None else el["value"]
    return action


async def click(sb: Sandbox, *, user: Any, action_id: str, value: Any = None, channel: Any = None,
                ts: Any = None, view_id: Any = None) -> dict[str, Any]:
    u = resolve_user(sb, user)
    trigger = sb.new_trigger(u.id)
    if view_id:
        view = sb.store.views.get(str(view_id))
        if view is None or view["_user"] != u.id:
            raise ApiError("view_not_found")
        action = _find_action(view["blocks"], action_id, value)
        body = payloads.block_actions(sb.ws, user=u.id, action=action, trigger_id=trigger,
                                      view=view)
    else:
        ch = resolve_channel(sb, channel, u)
        msg = find_message(sb, ch, ts)
        if msg.get("ephemeral_for") not in (None, u.id):
            raise ApiError("message_not_found")
        action = _find_action(msg.get("blocks") or [], action_id, value)
        url = sb.new_response_url({"channel": ch.id, "ts": msg["ts"], "user": u.id,
                                   "thread_ts": msg.get("thread_ts"),
                                   "ephemeral": bool(msg.get("ephemeral_for"))})
        body = payloads.block_actions(sb.ws, user=u.id, action=action, trigger_id=trigger,
                                      msg=msg, response_url=url)
    result = await sb.deliver("interactive", body)
    return {"acked": result.acked, "trigger_id": trigger}


async def shortcut(sb: Sandbox, *, user: Any, callback_id: str, channel: Any = None,
                   ts: Any = None) -> dict[str, Any]:
    u = resolve_user(sb, user)
    trigger = sb.new_trigger(u.id)
    msg, url = None, None
    if channel:
        ch = resolve_channel(sb, channel, u)
        msg = find_message(sb, ch, ts)
        url = sb.new_response_url({"channel": ch.id, "ts": None, "user": u.id,
                                   "thread_ts": None, "ephemeral": False})
    body = payloads.shortcut(sb.ws, user=u.id, callback_id=callback_id, trigger_id=trigger,
                             msg=msg, response_url=url)
    result = await sb.deliver("interactive", body)
    return {"acked": result.acked, "trigger_id": trigger}


async def command(sb: Sandbox, *, channel: Any, user: Any, command: str,
                  text: str) -> dict[str, Any]:
    u = resolve_user(sb, user)
    ch = resolve_channel(sb, channel, u)
    trigger = sb.new_trigger(u.id)
    context = {"channel": ch.id, "ts": None, "user": u.id, "thread_ts": None, "ephemeral": False}
    url = sb.new_response_url(context)
    body = payloads.slash_command(sb.ws, user=u.id, channel=ch.id, command=command, text=text,
                                  trigger_id=trigger, response_url=url)
    result = await sb.deliver("slash_commands", body)
    reply = result.payload or {}
    if reply.get("text") or reply.get("blocks"):
        # An ack carrying a message is shown like a response_url reply.
        respond(sb, context, reply)
    return {"acked": result.acked, "trigger_id": trigger}


async def submit(sb: Sandbox, *, view_id: Any, user: Any, values: dict[str, Any]) -> dict[str, Any]:
    u = resolve_user(sb, user)
    view = sb.store.views.get(str(view_id or ""))
    if view is None or view["_user"] != u.id or view["type"] != "modal":
        raise ApiError("view_not_found")
    view = {**view, "state": submitted_state(view, values or {})}
    trigger = sb.new_trigger(u.id)
    result = await sb.deliver("interactive", payloads.view_submission(
        sb.ws, user=u.id, view=view, trigger_id=trigger))
    out: dict[str, Any] = {"acked": result.acked, "response_action": None}
    if not result.acked:
        return out  # Slack keeps the modal open and shows "We had some trouble connecting"
    reply = result.payload or {}
    action = reply.get("response_action")
    out["response_action"] = action
    if action == "errors":
        out["errors"] = reply.get("errors", {})
        sb.store.put_view({**view, "_errors": out["errors"]})
    elif action in ("update", "push"):
        problems = validate_view(reply.get("view"))
        if problems:
            out.update(response_action="invalid", errors={"view": problems})
        elif action == "update":
            sb.store.put_view(build_view(reply["view"], user=u.id, view_id=view["id"],
                                         root_id=view["root_view_id"],
                                         previous_id=view["previous_view_id"]))
        else:
            sb.store.put_view(build_view(reply["view"], user=u.id, root_id=view["root_view_id"],
                                         previous_id=view["id"]))
    elif action == "clear":
        close_stack(sb, u.id)
    else:
        sb.store.delete_view(view["id"])
    sb.notify(user=u.id)
    return out


async def close(sb: Sandbox, *, view_id: Any, user: Any, clear: bool = False) -> dict[str, Any]:
    u = resolve_user(sb, user)
    view = sb.store.views.get(str(view_id or ""))
    if view is None or view["_user"] != u.id or view["type"] != "modal":
        raise ApiError("view_not_found")
    cleared = clear and len(open_modals(sb, u.id)) > 1
    if clear:
        close_stack(sb, u.id)
    else:
        sb.store.delete_view(view["id"])
        sb.notify(user=u.id)
    acked = None
    if view.get("notify_on_close"):
        result = await sb.deliver("interactive", payloads.view_closed(
            sb.ws, user=u.id, view=view, is_cleared=cleared))
        acked = result.acked
    return {"acked": acked}


async def home(sb: Sandbox, *, user: Any) -> dict[str, Any]:
    u = resolve_user(sb, user)
    dm = sb.ws.dm(u.id)
    view = next((v for v in sb.store.views.values()
                 if v["_user"] == u.id and v["type"] == "home"), None)
    event = payloads.event_callback(payloads.app_home_event(u.id, dm.id, view), ws=sb.ws)
    result = await sb.deliver("events_api", event)
    return {"acked": result.acked}
