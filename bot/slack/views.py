"""Modal submissions: the edited draft, and a rejection's reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.review.blocks import edited_text
from bot.slack import ids
from bot.store.models import Verdict
from bot.texts import T

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    app.view(ids.EDIT_VIEW)(on_edit)
    app.view(ids.REJECT_VIEW)(on_reject)
    app.view_closed(ids.EDIT_VIEW)(_closed)
    app.view_closed(ids.REJECT_VIEW)(_closed)


async def _closed(ack: Callable[..., Awaitable[None]]) -> None:
    await ack()  # closing a modal changes nothing


async def on_edit(ack: Callable[..., Awaitable[None]], body: dict[str, Any],
                  view: dict[str, Any], services: Services) -> None:
    text = edited_text((view.get("state") or {}).get("values") or {})
    if not text.strip():
        await ack(response_action="errors", errors={f"{ids.EDIT_BLOCK_PREFIX}0": T.EDIT_EMPTY})
        return
    draft_id = view.get("private_metadata") or ""
    problem, text, unchanged = await services.review.vet_edit(draft_id, text)
    if problem:
        await ack(response_action="errors", errors={f"{ids.EDIT_BLOCK_PREFIX}0": problem})
        return
    await ack()
    user = body.get("user") or {}
    if unchanged is None:  # not read in time to check: check now, the modal is closed
        problem, text, unchanged = await services.review.vet_edit(draft_id, text,
                                                                  in_time=False)
        if problem:
            await services.review.edit_refused(draft_id, user.get("id", ""), problem, text)
            return
    services.spawn(services.review.decide(
        draft_id, verdict=Verdict.approved if unchanged else Verdict.edited,
        user_id=user.get("id", ""), user_team_id=user.get("team_id"),
        key=f"view:{view.get('id')}", source="modal",
        final_text=None if unchanged else text))


async def on_reject(ack: Callable[..., Awaitable[None]], body: dict[str, Any],
                    view: dict[str, Any], services: Services) -> None:
    await ack()
    values = (view.get("state") or {}).get("values") or {}
    reason = ((values.get(ids.REASON_BLOCK) or {}).get(ids.REASON_ACTION) or {}).get("value")
    user = body.get("user") or {}
    services.spawn(services.review.decide(
        view.get("private_metadata") or "", verdict=Verdict.rejected,
        user_id=user.get("id", ""), user_team_id=user.get("team_id"),
        key=f"view:{view.get('id')}", source="modal", reason=reason or None))
