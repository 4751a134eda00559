"""Views (modals and App Home): building them as Slack stores them, validation, input state.

Pure functions. A stored view is Slack's view object plus private `_user`.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.sandbox.blocks import normalized, validate_blocks
from bot.sandbox.workspace import APP_ID, BOT_ID, TEAM_ID

__all__ = ["build_view", "validate_view", "submitted_state", "input_labels"]


def _hash() -> str:
    return f"{time.time():.6f}.{secrets.token_urlsafe(6)}"


def validate_view(spec: Any) -> list[str]:
    if not isinstance(spec, dict):
        return ["[ERROR] missing required field: view"]
    out: list[str] = []
    kind = spec.get("type")
    if kind not in ("modal", "home"):
        out.append("[ERROR] must be one of modal, home [json-pointer:/view/type]")
    if kind == "modal":
        title = spec.get("title")
        if not isinstance(title, dict) or not title.get("text"):
            out.append("[ERROR] missing required field: title [json-pointer:/view]")
        elif len(title["text"]) > 24:
            out.append("[ERROR] must be less than 25 characters [json-pointer:/view/title/text]")
        has_input = any(isinstance(b, dict) and b.get("type") == "input"
                        for b in spec.get("blocks") or [])
        if has_input and not spec.get("submit"):
            out.append("[ERROR] submit is required when an input block is present "
                       "[json-pointer:/view/submit]")
    if len(str(spec.get("private_metadata") or "")) > 3000:
        out.append("[ERROR] must be less than 3001 characters "
                   "[json-pointer:/view/private_metadata]")
    out += [m.replace("json-pointer:/blocks", "json-pointer:/view/blocks")
            for m in validate_blocks(spec.get("blocks", []), view=True)]
    return out


def _plain(obj: Any) -> Any:
    # Slack stores plain_text objects with an explicit emoji flag.
    return {"emoji": True, **obj} if isinstance(obj, dict) else obj


def build_view(spec: dict[str, Any], *, user: str, view_id: str | None = None,
               root_id: str | None = None, previous_id: str | None = None) -> dict[str, Any]:
    vid = view_id or "V0" + secrets.token_hex(5).upper()
    return {
        "id": vid, "team_id": TEAM_ID, "type": spec["type"],
        "blocks": normalized(spec.get("blocks", [])),
        "private_metadata": spec.get("private_metadata", ""),
        "callback_id": spec.get("callback_id", ""), "state": {"values": {}}, "hash": _hash(),
        "title": _plain(spec.get("title")), "clear_on_close": bool(spec.get("clear_on_close")),
        "notify_on_close": bool(spec.get("notify_on_close")), "close": _plain(spec.get("close")),
        "submit": _plain(spec.get("submit")),
        "submit_disabled": bool(spec.get("submit_disabled")),
        "previous_view_id": previous_id,
        "root_view_id": root_id or vid, "app_id": APP_ID,
        "external_id": spec.get("external_id", ""), "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID, "_user": user,
    }


def input_labels(view: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(block_id, action_id, element) for every input in the view."""
    out = []
    for block in view.get("blocks", []):
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            el = block["element"]
            out.append((str(block.get("block_id", "")), str(el.get("action_id", "")), el))
    return out


def _state_value(el: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = el.get("type", "plain_text_input")
    if kind == "static_select":
        opts = [o for o in el.get("options", []) if o.get("value") == value]
        return {"type": kind, "selected_option": opts[0] if opts else None}
    if kind == "checkboxes":
        vals = value if isinstance(value, list) else [value]
        return {"type": kind, "selected_options": [o for o in el.get("options", [])
                                                   if o.get("value") in vals]}
    return {"type": kind, "value": value}


def submitted_state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Slack's view.state.values for a submission.

    `values` may be Slack-shaped ({block_id: {action_id: "text"}}) or flat
    ({action_id_or_block_id: "text"}). Inputs not given keep their
    initial_value, as a prefilled field the user did not touch does in Slack.
    """
    state: dict[str, Any] = {}
    for block_id, action_id, el in input_labels(view):
        value: Any = el.get("initial_value")
        if el.get("initial_option"):
            value = el["initial_option"].get("value")
        given = values.get(block_id)
        if isinstance(given, dict) and action_id in given:
            value = given[action_id]
        elif action_id in values:
            value = values[action_id]
        elif block_id in values and not isinstance(given, dict):
            value = given
        if isinstance(value, dict) and "type" in value:
            state.setdefault(block_id, {})[action_id] = value  # already Slack-shaped
        else:
            state.setdefault(block_id, {})[action_id] = _state_value(el, value)
    return {"values": state}
