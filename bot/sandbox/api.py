"""The Web API front door: parse what slack_sdk sends, authenticate, rate-limit, dispatch, log.

slack_sdk sends JSON bodies (chat.*, views.*, assistant.*), query strings
(conversations.history/replies) and form bodies (most others), with the token
in `Authorization: Bearer`; all three are merged into one args dict. Every
answer is HTTP 200 with Slack's JSON, except 429 for rate limits; an unexpected
exception becomes `{"ok": false, "error": "internal_error"}`, never a 500.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox import api_chat, api_read, api_views
from bot.sandbox.apierror import ApiError

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["handle", "METHODS"]

log = logging.getLogger(__name__)
Handler = Callable[["Sandbox", dict[str, Any]], Awaitable[dict[str, Any]]]
METHODS: dict[str, Handler] = {**api_chat.METHODS, **api_read.METHODS, **api_views.METHODS}
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "chunks", "users", "unfurl_links")


async def _args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        else:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for key in _JSON_ARGS:  # form bodies carry structured args as JSON strings
        value = args.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            try:
                args[key] = json.loads(value)
            except ValueError as exc:
                raise ApiError("invalid_arguments", messages=[f"[ERROR] {key}: bad JSON"]) from exc
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip()
    token = args.pop("token", None)
    return str(token) if token else None


async def handle(sb: Sandbox, request: web.Request) -> web.Response:
    method = request.match_info["method"]
    record: dict[str, Any] = {"method": method, "args": {}, "status": 200, "ok": False,
                              "error": None, "time": time.time()}
    sb.calls.append(record)
    headers: dict[str, str] = {}
    try:
        args = await _args(request)
        record["args"] = {k: v for k, v in args.items() if k != "token"}
        token = _token(request, args)
        expected = sb.cfg.app_token if method == "apps.connections.open" else sb.cfg.bot_token
        if method not in METHODS:
            raise ApiError("unknown_method")
        if not token:
            raise ApiError("not_authed")
        if token != expected:
            raise ApiError("invalid_auth")
        if sb.cfg.rate_limits:
            channel = str(args.get("channel", "")) if method == "chat.postMessage" else None
            wait = sb.limiter.check("T0TANDEM", method, channel)
            if wait:
                record.update(status=429, error="ratelimited")
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(wait)})
        body = {"ok": True, **await METHODS[method](sb, args)}
        if method == "auth.test":
            headers["x-oauth-scopes"] = "chat:write,reactions:write,channels:history,users:read"
    except ApiError as exc:
        body = exc.body()
    except Exception:  # noqa: BLE001 - a sandbox bug must look like a Slack error, not a 500
        log.exception("sandbox: %s failed", method)
        body = {"ok": False, "error": "internal_error"}
    record.update(ok=body["ok"], error=body.get("error"))
    return web.json_response(body, headers=headers)
