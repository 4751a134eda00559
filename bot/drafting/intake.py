"""From an ask in Slack to a request row: checks, routing and where the draft goes.

Pure helpers (`check_text`, `surface_for`) sit beside the async intake so the
rules can be tested without Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import ChannelPolicy

__all__ = ["Ask", "Placement", "check_text", "channel_kind", "placement"]

_WORDLESS = re.compile(r"^[\s\W_]*$", re.UNICODE)
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:")


@dataclass(frozen=True)
class Ask:
    """One ask, whatever the trigger."""

    event_key: str  # idempotency: event_id, or trigger/command ids
    team_id: str
    channel_id: str
    user_id: str
    user_team_id: str | None
    text: str
    trigger: str  # mention | dm | shortcut | command | external
    message_ts: str | None = None
    thread_ts: str | None = None
    explicit: str | None = None  # doc | ask | reply, or a job name
    response_url: str | None = None


@dataclass(frozen=True)
class Placement:
    """Where the draft is reviewed, and where the final text goes."""

    review_channel: str
    review_thread_ts: str | None  # None: a new anchor message is posted first
    final_channel: str
    final_thread_ts: str | None
    hidden_from_customer: bool = False


def check_text(text: str, limit: int) -> tuple[str, str | None]:
    """(usable text, problem) — problem is 'empty' or 'truncated' or None."""
    stripped = _EMOJI_CODE.sub("", text).strip()
    if not stripped or _WORDLESS.match(stripped):
        return "", "empty"
    if len(text) > limit:
        return text[:limit], "truncated"
    return text, None


def channel_kind(*, is_im: bool, is_shared: bool, policy: ChannelPolicy) -> str:
    if is_im:
        return "im"
    if is_shared:
        return "shared"
    return "support" if policy.support else "internal"


def placement(*, job: str, kind: str, channel: str, thread_ts: str | None,
              review_channel: str | None) -> Placement:
    """Support replies in shared or support channels are reviewed elsewhere."""
    if job == "support" and kind in ("shared", "support") and review_channel \
            and review_channel != channel:
        return Placement(review_channel, None, channel, thread_ts, hidden_from_customer=True)
    return Placement(channel, thread_ts, channel, thread_ts)
