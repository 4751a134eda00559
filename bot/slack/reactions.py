"""Emoji reactions on a draft: approve, reject, or offer the editor."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.review.blocks import pencil_blocks
from bot.review.service import thread_of
from bot.store import repo
from bot.store.models import Verdict
from bot.texts import T

__all__ = ["register", "REACTIONS"]

REACTIONS = {
    "white_check_mark": Verdict.approved, "heavy_check_mark": Verdict.approved,
    "+1": Verdict.approved, "thumbsup": Verdict.approved,
    "x": Verdict.rejected, "-1": Verdict.rejected, "thumbsdown": Verdict.rejected,
}
PENCIL = ("pencil2", "pencil")


def register(app: AsyncApp) -> None:
    app.event("reaction_added")(on_reaction)


async def on_reaction(body: dict[str, Any], event: dict[str, Any], services: Services) -> None:
    name = str(event.get("reaction") or "").split("::")[0]
    item = event.get("item") or {}
    if (name not in REACTIONS and name not in PENCIL) or item.get("type") != "message":
        return
    services.spawn(_react(services, body, event, name, item))


async def _react(services: Services, body: dict[str, Any], event: dict[str, Any], name: str,
                 item: dict[str, Any]) -> None:
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if not channel or not ts or not user or user == services.bot_user_id:
        return
    draft = await services.store.run(lambda x: repo.draft_by_message(x, channel=channel, ts=ts))
    if draft is None:
        return  # a reaction on some other message
    if name in PENCIL:
        # A reaction carries no trigger_id, so offer a button that does.
        gated = await services.review.gate(draft.id, user, event.get("user_team"), channel=channel)
        if gated is None:
            return
        thread = thread_of(gated[1])
        await services.review.notify(channel, user, T.PENCIL_PROMPT, thread_ts=thread,
                                     blocks=pencil_blocks(draft.id))
        return
    await services.review.decide(draft.id, verdict=REACTIONS[name], user_id=user,
                                 user_team_id=event.get("user_team"),
                                 key=f"reaction:{body.get('event_id')}", source="reaction",
                                 channel=channel)
