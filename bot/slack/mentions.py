"""@mentions in channels, DMs to the bot, and external customers' messages."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.drafting.intake import Ask

__all__ = ["is_inert_callback", "is_inert_message", "is_person_edit", "register"]


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    for ignored in ("assistant_thread_started", "assistant_thread_context_changed",
                    "reaction_removed"):
        app.event(ignored)(_noop)


async def _noop() -> None:
    return None


def _ask(body: dict[str, Any], event: dict[str, Any], trigger: str) -> Ask:
    return Ask(event_key=str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"),
               team_id=str(body.get("team_id") or ""), channel_id=event["channel"],
               user_id=event["user"], user_team_id=event.get("user_team") or event.get("team"),
               text=event.get("text") or "", trigger=trigger, message_ts=event.get("ts"),
               thread_ts=event.get("thread_ts"))


async def on_mention(body: dict[str, Any], event: dict[str, Any], services: Services) -> None:
    if not event.get("user") or event.get("bot_id"):
        return
    services.spawn(services.drafting.handle_ask(_ask(body, event, "mention")))


def _is_dm(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def is_inert_message(event: dict[str, Any], bot_user_id: str | None = None) -> bool:
    """A `message` event that can never start a draft: joins, bot posts and their edits
    (ours included: every draft we stream comes back as one post and one edit), our own
    messages, and a channel message that mentions us (its `app_mention` carries it). A
    person's edit of their text is not: it may change what they asked."""
    if event.get("type") != "message":
        return False
    if is_person_edit(event, bot_user_id):
        return False
    if event.get("subtype") or event.get("bot_id") or not event.get("user"):
        return True
    if bot_user_id is None:
        return False
    return event["user"] == bot_user_id or (
        not _is_dm(event) and f"<@{bot_user_id}>" in (event.get("text") or ""))


def is_person_edit(event: dict[str, Any], bot_user_id: str | None = None) -> bool:
    """A `message_changed` event of a person's message whose text changed (not a link
    unfurling under it, not a bot's update)."""
    if event.get("subtype") != "message_changed":
        return False
    new, old = event.get("message"), event.get("previous_message")
    return (isinstance(new, dict) and isinstance(old, dict) and "text" in old
            and bool(new.get("user")) and not new.get("bot_id")
            and new.get("user") != bot_user_id and new.get("text") != old["text"])


def is_inert_callback(payload: Any, bot_user_id: str | None = None) -> bool:
    """An Events API callback (an HTTP body or a Socket Mode payload, parsed) whose event
    is an inert `message`: the transports drop these before Bolt."""
    if not isinstance(payload, dict) or payload.get("type") != "event_callback":
        return False
    event = payload.get("event")
    return isinstance(event, dict) and is_inert_message(event, bot_user_id)


async def on_message(body: dict[str, Any], event: dict[str, Any], services: Services) -> None:
    if is_inert_message(event, services.bot_user_id):
        return
    if is_person_edit(event, services.bot_user_id):
        edited = {**event["message"], "channel": event["channel"]}
        before = str(event["previous_message"].get("text") or "")
        services.spawn(services.drafting.handle_edit(_ask(body, edited, "edit"), before))
        return
    if _is_dm(event):
        services.spawn(services.drafting.handle_ask(_ask(body, event, "dm")))
        return
    services.spawn(services.drafting.handle_external(_ask(body, event, "external")))
