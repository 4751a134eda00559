"""Slack's Web API rate-limit tiers, in one table shared by the bot and the sandbox.

Slack limits each method per workspace by tier, and chat.postMessage to about
one message per second per channel with short bursts allowed. Both sides use
token buckets from this table: the sandbox enforces it (HTTP 429 +
Retry-After) and the bot's limiter stays inside it so bursts queue instead of
drawing 429s.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limit", "POST_MESSAGE_PER_CHANNEL", "TIERS", "limit_for"]


@dataclass(frozen=True)
class Limit:
    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


# A bucket holds one minute's worth of calls (at least 5) and refills steadily:
# Slack tolerates "occasional bursts" within a tier's per-minute budget.
TIERS: dict[int, Limit] = {
    1: Limit(per_minute=1, burst=5),
    2: Limit(per_minute=20, burst=20),
    3: Limit(per_minute=50, burst=50),
    4: Limit(per_minute=100, burst=100),
}

# Special: ~1 message per second per channel, with a short burst.
POST_MESSAGE_PER_CHANNEL = Limit(per_minute=60, burst=10)

_METHOD_TIER: dict[str, int] = {
    "auth.test": 4,
    "apps.connections.open": 1,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "chat.startStream": 2,
    "chat.appendStream": 4,
    "chat.stopStream": 2,
    "assistant.threads.setStatus": 4,
    "reactions.add": 3,
    "reactions.remove": 3,
    "reactions.get": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "users.info": 4,
    "users.list": 2,
    "usergroups.users.list": 2,
    "usergroups.list": 2,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
}


def limit_for(method: str) -> Limit | None:
    """The workspace-wide limit of a method; chat.postMessage is per channel instead."""
    if method == "chat.postMessage":
        return None
    return TIERS[_METHOD_TIER.get(method, 3)]
