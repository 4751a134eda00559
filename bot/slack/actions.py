"""Buttons: Approve, Edit (or answer with the best match), Regenerate, Reject, Retry,
re-route and feedback."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.slack import ids
from bot.slack.parse import ActionInfo, action_info
from bot.store.models import Verdict
from bot.texts import T

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    app.action(re.compile(r"^tandem_"))(on_action)


async def on_action(ack: Callable[..., Awaitable[None]], body: dict[str, Any],
                    services: Services) -> None:
    await ack()
    info = action_info(body)
    if info is None:
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or \
            (body.get("container") or {}).get("channel_id")
        if user:
            await services.review.notify(channel, user, T.BAD_ACTION)
        return
    # Modals need the trigger_id within 3 s: open them before anything slow.
    if info.action_id in (ids.EDIT, ids.EDIT_FROM_REACTION, ids.QUOTE):
        await services.review.open_edit(info.value, user_id=info.user_id,
                                        user_team_id=info.user_team_id,
                                        trigger_id=info.trigger_id, channel=info.channel_id,
                                        quote=info.action_id == ids.QUOTE)
        return
    if info.action_id == ids.REJECT:
        await services.review.open_reject(info.value, user_id=info.user_id,
                                          user_team_id=info.user_team_id,
                                          trigger_id=info.trigger_id, channel=info.channel_id)
        return
    services.spawn(_act(services, info))


async def _act(services: Services, info: ActionInfo) -> None:
    review = services.review
    key = f"{info.action_id}:{info.message_ts}:{info.user_id}"
    if info.action_id == ids.APPROVE:
        await review.decide(info.value, verdict=Verdict.approved, user_id=info.user_id,
                            user_team_id=info.user_team_id, key=key, source="button",
                            channel=info.channel_id)
    elif info.action_id in (ids.FEEDBACK_UP, ids.FEEDBACK_DOWN):
        verdict = Verdict.approved if info.action_id == ids.FEEDBACK_UP else Verdict.rejected
        await review.decide(info.value, verdict=verdict, user_id=info.user_id,
                            user_team_id=info.user_team_id, key=key, source="feedback",
                            channel=info.channel_id)
    elif info.action_id in (ids.REGENERATE, ids.RETRY) or info.action_id.startswith(ids.REROUTE):
        draft_id, _, job = info.value.partition("|")
        if await review.gate(draft_id, info.user_id, info.user_team_id,
                             channel=info.channel_id) is None:
            return
        created = await services.drafting.new_version(
            draft_id, job=job or None,
            reason=f"re-routed by <@{info.user_id}>" if job else None)
        if created is None:
            await review.notify(info.channel_id, info.user_id, T.SUPERSEDED)
    else:
        await review.notify(info.channel_id, info.user_id, T.BAD_ACTION)
