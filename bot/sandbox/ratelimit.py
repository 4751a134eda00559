"""Slack's Web API rate limits as token buckets, per workspace and method (and channel).

Tiers follow Slack's published table: Tier 1 ≈ 1/min, Tier 2 ≈ 20/min, Tier 3
≈ 50/min, Tier 4 ≈ 100/min. Each bucket holds one minute's worth of calls (at
least 5) and refills continuously, which is how Slack tolerates "occasional
bursts". chat.postMessage is special: ≈ 1 per second per channel with a burst
of 10. `scale` multiplies both the refill rate and the burst, so fast tests can
keep limits on. The clock is injected so the buckets are pure and testable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TIERS", "RateLimiter", "POST_MESSAGE_BURST"]

TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "chat.startStream": 2, "chat.stopStream": 2, "conversations.list": 2,
    "users.list": 2, "usergroups.users.list": 2, "usergroups.list": 2, "conversations.open": 3,
    "chat.update": 3, "chat.delete": 3, "chat.postEphemeral": 4, "conversations.history": 3,
    "conversations.replies": 3, "conversations.info": 3, "conversations.members": 4,
    "reactions.add": 3, "reactions.remove": 3, "reactions.get": 3,
    "views.open": 4, "views.update": 4, "views.push": 4, "views.publish": 4,
    "chat.appendStream": 4, "users.info": 4, "chat.getPermalink": 4,
    "assistant.threads.setStatus": 4, "auth.test": 4,
}
_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
POST_MESSAGE_BURST = 10


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take one token; return 0 when allowed, else seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    def __init__(self, *, scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._scale = scale
        self._clock = clock
        self._buckets: dict[tuple[str, ...], _Bucket] = {}

    def _bucket(self, key: tuple[str, ...], per_minute: float, burst: float) -> _Bucket:
        if key not in self._buckets:
            cap = burst * self._scale
            self._buckets[key] = _Bucket(cap, per_minute * self._scale / 60, cap, self._clock())
        return self._buckets[key]

    def check(self, team: str, method: str, channel: str | None = None) -> int:
        """0 if the call may proceed, else the Retry-After seconds (≥ 1, as Slack sends)."""
        if method == "chat.postMessage":
            key: tuple[str, ...] = (team, method, channel or "")
            bucket = self._bucket(key, 60, POST_MESSAGE_BURST)
        elif method in TIERS:
            per_minute = _PER_MINUTE[TIERS[method]]
            bucket = self._bucket((team, method), per_minute, max(per_minute, 5))
        else:
            return 0
        wait = bucket.take(self._clock())
        return 0 if wait <= 0 else max(1, math.ceil(wait))
