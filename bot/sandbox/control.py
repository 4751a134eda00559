"""The control API (`/_sandbox/*`): act as a user, and read what the app did.

Tests, scripts and the browser UI use it. Channels and users may be given by
name ("general", "#general", "alice", "@alice", "dm:alice") or ID. Answers are
`{"ok": true, ...}` or `{"ok": false, "error": ...}` with HTTP 200, like Slack.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox import actions
from bot.sandbox.apierror import ApiError
from bot.sandbox.messages import control_item
from bot.sandbox.payloads import public
from bot.sandbox.responses import handle_response_url
from bot.sandbox.workspace import TEAM_DOMAIN, TEAM_ID, TEAM_NAME

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["add_routes"]

log = logging.getLogger(__name__)
Handler = Callable[["Sandbox", dict[str, Any]], Awaitable[dict[str, Any]]]


def _wrap(sb: Sandbox, fn: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            args: dict[str, Any] = dict(request.query)
            if request.method == "POST" and request.can_read_body:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError("invalid_arguments")
                args.update(body)
            return web.json_response({"ok": True, **await fn(sb, args)})
        except ApiError as exc:
            return web.json_response(exc.body())
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"ok": False, "error": "invalid_arguments",
                                      "detail": str(exc)})
        except Exception:  # noqa: BLE001 - report, never a 500
            log.exception("sandbox control %s failed", request.path)
            return web.json_response({"ok": False, "error": "internal_error"})
    return handler


async def _post(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return {"ts": actions.post(sb, channel=a["channel"], user=a["user"], text=str(a["text"]),
                               thread_ts=a.get("thread_ts"))}


async def _edit(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    actions.edit(sb, channel=a["channel"], ts=a["ts"], user=a["user"], text=str(a["text"]))
    return {}


async def _react(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    actions.react(sb, channel=a["channel"], ts=a["ts"], user=a["user"], name=str(a["name"]),
                  remove=bool(a.get("remove")))
    return {}


async def _click(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return await actions.click(sb, user=a["user"], action_id=str(a["action_id"]),
                               value=a.get("value"), channel=a.get("channel"), ts=a.get("ts"),
                               view_id=a.get("view_id"))


async def _shortcut(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return await actions.shortcut(sb, user=a["user"], callback_id=str(a["callback_id"]),
                                  channel=a.get("channel"), ts=a.get("ts"))


async def _command(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return await actions.command(sb, channel=a["channel"], user=a["user"],
                                 command=str(a["command"]), text=str(a.get("text", "")))


async def _submit(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return await actions.submit(sb, view_id=a["view_id"], user=a["user"],
                                values=a.get("values") or {})


async def _close(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return await actions.close(sb, view_id=a["view_id"], user=a["user"],
                               clear=bool(a.get("clear")))


async def _home(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    return await actions.home(sb, user=a["user"])


async def _messages(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    ch = actions.resolve_channel(sb, a["channel"])
    viewer = actions.resolve_user(sb, a["as_user"]).id if a.get("as_user") else None
    thread_ts = a.get("thread_ts")
    items = []
    for msg in sb.store.channel_messages(ch.id):
        if msg.get("ephemeral_for") and msg["ephemeral_for"] != viewer:
            continue
        in_thread = msg.get("thread_ts") and msg["thread_ts"] != msg["ts"]
        if thread_ts and (msg.get("thread_ts") or msg["ts"]) != thread_ts:
            continue
        if not thread_ts and in_thread:
            continue
        items.append(control_item(sb.store, msg))
    statuses = {ts: s for (cid, ts), s in sb.statuses.items() if cid == ch.id and s}
    return {"channel": ch.id, "messages": items, "statuses": statuses}


async def _views(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    user = actions.resolve_user(sb, a["user"])
    mine = [v for v in sb.store.views.values() if v["_user"] == user.id]
    modals = sorted((v for v in mine if v["type"] == "modal"), key=lambda v: v["hash"])
    home = next((v for v in mine if v["type"] == "home"), None)
    return {"views": [{**public(v), "errors": v.get("_errors", {})} for v in modals],
            "home": public(home) if home else None}


async def _calls(sb: Sandbox, a: dict[str, Any]) -> dict[str, Any]:
    method = a.get("method")
    return {"calls": [c for c in sb.calls if not method or c["method"] == method]}


async def _deliveries(sb: Sandbox, _a: dict[str, Any]) -> dict[str, Any]:
    return {"deliveries": sb.delivery.log if sb.delivery else []}


async def _workspace(sb: Sandbox, _a: dict[str, Any]) -> dict[str, Any]:
    return {
        "team": {"id": TEAM_ID, "name": TEAM_NAME, "domain": TEAM_DOMAIN},
        "bot": {"user_id": "U0BOT", "bot_id": "B0BOT", "app_id": "A0TANDEM", "name": "tandem"},
        "users": [u.to_api() | {"external": u.external} for u in sb.ws.users.values()],
        "channels": [c.to_api() | {"name": c.name, "members": c.members}
                     for c in sb.ws.channels.values()],
        "usergroups": list(sb.ws.usergroups.values()),
        "connected": len(sb.delivery.sockets) if sb.delivery else 0,
        "mode": "http" if sb.cfg.request_url else "socket",
    }


async def _reset(sb: Sandbox, _a: dict[str, Any]) -> dict[str, Any]:
    sb.store.reset()
    sb.calls.clear()
    sb.statuses.clear()
    for cid in list(sb.ws.channels):
        sb.notify(channel=cid)
    return {}


def add_routes(sb: Sandbox, app: web.Application) -> None:
    posts = {"post": _post, "edit": _edit, "react": _react, "click": _click, "shortcut": _shortcut,
             "command": _command, "submit": _submit, "close": _close, "home": _home,
             "reset": _reset}
    gets = {"messages": _messages, "views": _views, "calls": _calls, "workspace": _workspace,
            "deliveries": _deliveries}
    for name, fn in posts.items():
        app.router.add_post(f"/_sandbox/{name}", _wrap(sb, fn))
    for name, fn in gets.items():
        app.router.add_get(f"/_sandbox/{name}", _wrap(sb, fn))
    app.router.add_get("/_sandbox/updates", sb.updates)
    app.router.add_post("/_sandbox/response/{key}", functools.partial(handle_response_url, sb))
