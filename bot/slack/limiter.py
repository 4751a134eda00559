"""A shared limiter per workspace and per method, matching Slack's tiers.

Every Web API call passes through `acquire`, so a burst of drafts queues
inside the bot instead of drawing 429s. Optional calls (intermediate stream
appends, status updates) first ask `available` and are simply skipped when
the budget is spent: the text they would carry goes out with the next call.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.slack.tiers import POST_MESSAGE_PER_CHANNEL, Limit, limit_for

__all__ = ["SAFETY", "SlackLimiter"]

SAFETY = 0.97


@dataclass
class _Bucket:
    limit: Limit
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.limit.burst)

    def refill(self) -> None:
        now = time.monotonic()
        refill = (now - self.stamp) * self.limit.per_second
        self.tokens = min(self.limit.burst, self.tokens + refill)
        self.stamp = now

    def wait_time(self) -> float:
        self.refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.limit.per_second


class SlackLimiter:
    """Token buckets keyed by (team, method) or, for chat.postMessage, (team, channel)."""

    def __init__(self, *, scale: float = 1.0, enabled: bool = True) -> None:
        self.scale = scale
        self.enabled = enabled
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._post_queues: Counter[tuple[str, str]] = Counter()  # (team, channel) -> waiting

    @contextmanager
    def queued_post(self, *, team: str, channel: str) -> Iterator[None]:
        """Count a finished draft as waiting for its channel's post budget while inside."""
        key = (team, channel)
        self._post_queues[key] += 1
        try:
            yield
        finally:
            self._post_queues[key] -= 1
            if self._post_queues[key] <= 0:
                del self._post_queues[key]

    def longest_post_queue(self, *, team: str, channel: str) -> bool:
        """True if no channel of the team has more drafts waiting for a post than `channel`.

        Streams are the one budget shared by all channels (Tier 2, per workspace); giving
        each refill to the channel with the longest queue makes the channels finish together
        instead of the unluckiest one finishing last.
        """
        mine = self._post_queues[(team, channel)]
        return all(n <= mine for (t, _c), n in self._post_queues.items() if t == team)

    def _key(self, team: str, method: str, channel: str | None) -> tuple[str, str] | None:
        if method == "chat.postMessage":
            return (team, f"post:{channel or '-'}")
        return (team, method)

    def _bucket(self, key: tuple[str, str], method: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            base = limit_for(method) or POST_MESSAGE_PER_CHANNEL
            # A safety margin under Slack's budget: requests sent exactly one refill apart
            # can arrive closer together, and Slack counts arrivals.
            scaled = Limit(per_minute=base.per_minute * self.scale * SAFETY,
                           burst=max(1, int(base.burst * self.scale) - 1))
            bucket = self._buckets[key] = _Bucket(scaled)
        return bucket

    def available(self, method: str, *, team: str = "", channel: str | None = None) -> bool:
        if not self.enabled:
            return True
        key = self._key(team, method, channel)
        assert key is not None
        return self._bucket(key, method).wait_time() == 0.0

    def try_acquire(self, method: str, *, team: str = "", channel: str | None = None) -> bool:
        if not self.enabled:
            return True
        key = self._key(team, method, channel)
        assert key is not None
        bucket = self._bucket(key, method)
        if bucket.wait_time() == 0.0:
            bucket.tokens -= 1
            return True
        return False

    async def acquire(self, method: str, *, team: str = "", channel: str | None = None) -> None:
        if not self.enabled:
            return
        key = self._key(team, method, channel)
        assert key is not None
        bucket = self._bucket(key, method)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # first come, first served within one bucket
            while (delay := bucket.wait_time()) > 0:
                await asyncio.sleep(delay)
            bucket.tokens -= 1
