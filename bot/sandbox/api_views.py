"""Web API: views.open, views.push, views.update, views.publish.

A trigger_id is valid for 3 seconds after the user action that issued it; a
modal stack belongs to the user the trigger came from. Each change tells the
browser that the user's views changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.apierror import ApiError, require
from bot.sandbox.payloads import public
from bot.sandbox.views import build_view, validate_view

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["METHODS", "open_modals", "close_stack"]


def open_modals(sb: Sandbox, user: str) -> list[dict[str, Any]]:
    return [v for v in sb.store.views.values() if v["_user"] == user and v["type"] == "modal"]


def close_stack(sb: Sandbox, user: str) -> None:
    for view in open_modals(sb, user):
        sb.store.delete_view(view["id"])
    sb.notify(user=user)


def _spec(args: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    require(args, "view")
    spec = args["view"]
    problems = validate_view(spec)
    if not problems and kind and spec.get("type") != kind:
        problems = [f"[ERROR] view type must be {kind} [json-pointer:/view/type]"]
    if problems:
        raise ApiError("invalid_arguments", messages=problems)
    return dict(spec)


def _trigger_user(sb: Sandbox, args: dict[str, Any]) -> str:
    require(args, "trigger_id")
    error = sb.trigger_error(str(args["trigger_id"]))
    if error:
        raise ApiError(error)
    return sb.trigger_users[str(args["trigger_id"])]


async def views_open(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    spec = _spec(args, "modal")
    user = _trigger_user(sb, args)
    close_stack(sb, user)  # a new views.open replaces whatever stack the user had open
    view = build_view(spec, user=user)
    sb.store.put_view(view)
    sb.notify(user=user)
    return {"view": public(view)}


async def views_push(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    spec = _spec(args, "modal")
    user = _trigger_user(sb, args)
    stack = open_modals(sb, user)
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= 3:
        raise ApiError("push_limit_reached")
    top = max(stack, key=lambda v: v["hash"])
    view = build_view(spec, user=user, root_id=top["root_view_id"], previous_id=top["id"])
    sb.store.put_view(view)
    sb.notify(user=user)
    return {"view": public(view)}


async def views_update(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    spec = _spec(args)
    if args.get("view_id"):
        old = sb.store.views.get(str(args["view_id"]))
    elif args.get("external_id"):
        old = next((v for v in sb.store.views.values()
                    if v.get("external_id") == args["external_id"]), None)
    else:
        raise ApiError("invalid_arguments", messages=["[ERROR] view_id or external_id required"])
    if old is None:
        raise ApiError("not_found")
    if args.get("hash") and args["hash"] != old["hash"]:
        raise ApiError("hash_conflict")
    view = build_view(spec, user=old["_user"], view_id=old["id"], root_id=old["root_view_id"],
                      previous_id=old["previous_view_id"])
    sb.store.put_view(view)
    sb.notify(user=old["_user"])
    return {"view": public(view)}


async def views_publish(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "user_id")
    user = str(args["user_id"])
    if user not in sb.ws.users:
        raise ApiError("user_not_found")
    spec = _spec(args, "home")
    old = next((v for v in sb.store.views.values()
                if v["_user"] == user and v["type"] == "home"), None)
    if old is not None and args.get("hash") and args["hash"] != old["hash"]:
        raise ApiError("hash_conflict")
    view = build_view(spec, user=user, view_id=old["id"] if old else None)
    sb.store.put_view(view)
    sb.notify(user=user)
    return {"view": public(view)}


METHODS = {"views.open": views_open, "views.push": views_push, "views.update": views_update,
           "views.publish": views_publish}
