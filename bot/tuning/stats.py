"""Review outcomes per job × model/adapter × prompt version, with Wilson intervals.

The database does the counting (one GROUP BY), so the cost does not grow with
the number of decisions held in memory. Rates are over *reviewed* drafts
(approved + edited + rejected); expiries and failures are counted beside them
and never folded into rejections. The mean edit distance is over approved and
edited drafts, an approval counting as distance 0: it reads as "how much do
reviewers change this arm's drafts".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.store.models import Decision

__all__ = ["Stat", "compact_stats", "query_stats", "summarise", "wilson"]

_VERDICTS = ("approved", "edited", "rejected", "expired", "failed")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(slots=True)
class Stat:
    job: str
    model: str
    prompt_version: str
    counts: dict[str, int] = field(default_factory=dict)
    distance_sum: int = 0

    @property
    def reviewed(self) -> int:
        return sum(self.counts.get(v, 0) for v in ("approved", "edited", "rejected"))

    def rate(self, verdict: str) -> float | None:
        return self.counts.get(verdict, 0) / self.reviewed if self.reviewed else None

    @property
    def mean_edit_distance(self) -> float | None:
        kept = self.counts.get("approved", 0) + self.counts.get("edited", 0)
        return self.distance_sum / kept if kept else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "job": self.job,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "reviewed": self.reviewed,
            **{v: self.counts.get(v, 0) for v in _VERDICTS},
            "mean_edit_distance": self.mean_edit_distance,
        }
        for verdict in ("approved", "edited", "rejected"):
            lo, hi = wilson(self.counts.get(verdict, 0), self.reviewed)
            out[f"{verdict}_rate"] = self.rate(verdict)
            out[f"{verdict}_ci95"] = [lo, hi]
        return out


def summarise(groups: Iterable[tuple[str, str, str, str, int, int | None]]) -> list[Stat]:
    """Fold (job, model, prompt_version, verdict, count, distance_sum) into Stats."""
    stats: dict[tuple[str, str, str], Stat] = {}
    for job, model, version, verdict, count, distance in groups:
        key = (job or "", model or "", version or "")
        stat = stats.setdefault(key, Stat(*key))
        stat.counts[str(verdict)] = stat.counts.get(str(verdict), 0) + int(count)
        if verdict in ("approved", "edited"):
            stat.distance_sum += int(distance or 0)
    return [stats[k] for k in sorted(stats)]


def query_stats(engine: Engine, *, since: datetime | None = None) -> list[Stat]:
    """One short read: counts per job × model × prompt version × verdict."""
    keys = (col(Decision.job), col(Decision.model), col(Decision.prompt_version),
            col(Decision.verdict))
    stmt = select(
        *keys, func.count(), func.sum(func.coalesce(col(Decision.edit_distance), 0)),
    ).group_by(*keys)
    if since is not None:
        stmt = stmt.where(col(Decision.decided_at) >= since)
    with engine.connect() as conn:
        rows: list[Any] = list(conn.execute(stmt))
    return summarise(
        (str(job), str(model), str(version), str(getattr(verdict, "value", verdict)), int(n),
         None if dist is None else int(dist))
        for job, model, version, verdict, n, dist in rows
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def compact_stats(stats: Iterable[Stat]) -> list[dict[str, Any]]:
    """Short, display-ready lines for App Home: one per job × model × prompt version."""
    out = []
    for stat in sorted(stats, key=lambda s: (s.job, -s.reviewed, s.model)):
        lo, hi = wilson(stat.counts.get("approved", 0), stat.reviewed)
        out.append({
            "job": stat.job,
            "model": stat.model,
            "prompt_version": stat.prompt_version,
            "reviewed": stat.reviewed,
            "approval": _pct(stat.rate("approved")),
            "approval_ci": f"{_pct(lo)}–{_pct(hi)}" if stat.reviewed else "–",
            "edited": _pct(stat.rate("edited")),
            "rejected": _pct(stat.rate("rejected")),
            "mean_edit_distance": (
                None if stat.mean_edit_distance is None else round(stat.mean_edit_distance, 1)
            ),
        })
    return out
