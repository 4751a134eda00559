"""Who may review a draft: pure rules over the channel's policy.

With no configuration any internal member of the channel may review,
including the requester. External (Slack Connect) users never may.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from bot.settings import ChannelPolicy
from bot.texts import T

__all__ = ["refusal"]


def _expand(reviewers: list[str], groups: Mapping[str, Set[str]]) -> set[str]:
    allowed: set[str] = set()
    for entry in reviewers:
        key = entry.lstrip("@")
        if key in groups:
            allowed |= set(groups[key])
        else:
            allowed.add(key)
    return allowed


def refusal(
    *,
    user_id: str,
    is_external: bool,
    is_member: bool,
    requester_id: str,
    policy: ChannelPolicy,
    groups: Mapping[str, Set[str]],
) -> str | None:
    """None when the user may review; otherwise the polite reason why not."""
    if is_external:
        return T.WHY_EXTERNAL
    if policy.reviewers:
        if user_id not in _expand(policy.reviewers, groups):
            who = ", ".join(r if r.startswith("@") else f"<@{r}>" for r in policy.reviewers)
            return T.WHY_NOT_REVIEWER.format(who=who)
    elif not is_member:
        return T.WHY_NOT_REVIEWER.format(who="members of this channel")
    if user_id == requester_id and not policy.allow_self_approve:
        return T.WHY_SELF
    return None
