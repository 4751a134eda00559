"""Read the fields listeners need out of Slack payloads, tolerating missing ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ActionInfo", "action_info"]


@dataclass(frozen=True)
class ActionInfo:
    action_id: str
    value: str
    user_id: str
    user_team_id: str | None
    trigger_id: str
    channel_id: str | None
    message_ts: str | None


def action_info(body: dict[str, Any]) -> ActionInfo | None:
    """None when the payload lacks what any Tandem action needs."""
    actions = body.get("actions") or []
    user = body.get("user") or {}
    if not actions or not isinstance(actions[0], dict) or not user.get("id"):
        return None
    action = actions[0]
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    value = action.get("value")
    if not isinstance(value, str) or not value:
        return None
    return ActionInfo(action_id=str(action.get("action_id") or ""), value=value,
                      user_id=user["id"], user_team_id=user.get("team_id"),
                      trigger_id=str(body.get("trigger_id") or ""), channel_id=channel,
                      message_ts=message_ts)
