"""`tandem report`: one self-contained HTML page of review outcomes with charts.

Two charts, rendered by matplotlib (Agg, no display) into PNGs embedded as
data URIs so the page is a single file to mail or attach:
- approval rate over time per model/adapter (time buckets sized to give ≤ 24 points);
- base against adapter: approved/edited/rejected rates with Wilson 95% intervals.
The table below them is `bot.tuning.stats` verbatim. Time buckets are counted
while streaming decisions (`yield_per`), so memory holds buckets, not rows.
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.store.models import Decision
from bot.tuning.stats import Stat, wilson

__all__ = ["Series", "approval_series", "render_report"]

Series = dict[str, list[tuple[datetime, float, int]]]  # model -> (bucket start, rate, n)


def approval_series(engine: Engine, *, job: str | None = None, since: datetime | None = None,
                    buckets: int = 24) -> Series:
    """Approval rate per model per time bucket, over reviewed decisions (those decided
    from `since` on, as the report's table counts them)."""
    reviewed = ("approved", "edited", "rejected")
    at_col = col(Decision.decided_at)
    base = select(func.min(at_col), func.max(at_col))
    if job:
        base = base.where(col(Decision.job) == job)
    if since is not None:
        base = base.where(at_col >= since)
    with engine.connect() as conn:
        first, last = conn.execute(base).one()
    if first is None:
        return {}
    width = max((last - first).total_seconds() / buckets, 1.0)
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    stmt = select(at_col, col(Decision.model), col(Decision.verdict))
    if job:
        stmt = stmt.where(col(Decision.job) == job)
    if since is not None:
        stmt = stmt.where(at_col >= since)
    with engine.connect() as conn:
        for at, model, verdict in conn.execution_options(yield_per=2000).execute(stmt):
            verdict = getattr(verdict, "value", verdict)
            if verdict not in reviewed:
                continue
            slot = min(int((at - first).total_seconds() / width), buckets - 1)
            cell = counts[(model, slot)]
            cell[0] += verdict == "approved"
            cell[1] += 1
    series: Series = defaultdict(list)
    for (model, slot), (approved, n) in sorted(counts.items()):
        start = datetime.fromtimestamp(first.timestamp() + slot * width, tz=first.tzinfo)
        series[model].append((start, approved / n, n))
    return dict(series)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _charts(stats: list[Stat], series: Series) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for model, points in sorted(series.items()):
        times: Any = [p[0] for p in points]  # matplotlib plots datetimes natively
        ax.plot(times, [p[1] for p in points], marker="o", label=model or "?")
    ax.set_ylim(0, 1)
    ax.set_ylabel("approval rate")
    ax.set_title("Approval over time")
    ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    out.append(("Approval over time", _png(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3.5))
    labels = [f"{s.job}\n{s.model}\nv{s.prompt_version}" for s in stats]
    width = 0.27
    for i, verdict in enumerate(("approved", "edited", "rejected")):
        rates = [s.rate(verdict) or 0.0 for s in stats]
        cis = [wilson(s.counts.get(verdict, 0), s.reviewed) for s in stats]
        errors = [[r - lo for r, (lo, _) in zip(rates, cis, strict=True)],
                  [hi - r for r, (_, hi) in zip(rates, cis, strict=True)]]
        xs = [j + (i - 1) * width for j in range(len(stats))]
        ax.bar(xs, rates, width, yerr=errors, capsize=3, label=verdict)
    ax.set_xticks(range(len(stats)), labels, fontsize="x-small")
    ax.set_ylim(0, 1)
    ax.set_title("Base against adapter (Wilson 95% intervals)")
    ax.legend(fontsize="small")
    out.append(("Base against adapter", _png(fig)))
    plt.close(fig)
    return out


def render_report(stats: list[Stat], series: Series, *, title: str = "Tandem review report",
                  since: datetime | None = None, now: datetime | None = None) -> str:
    """The whole HTML page: what it covers, the charts, the table (or that nothing was
    reviewed in the period, rather than an empty table)."""
    head = ["job", "model", "prompt", "reviewed", "approved", "edited", "rejected",
            "expired", "failed", "approval (95% CI)", "mean edit distance"]
    body = []
    for s in stats:
        d = s.as_dict()
        lo, hi = d["approved_ci95"]
        rate = "–" if d["approved_rate"] is None else (
            f"{100 * d['approved_rate']:.0f}% ({100 * lo:.0f}–{100 * hi:.0f}%)")
        dist = "–" if d["mean_edit_distance"] is None else f"{d['mean_edit_distance']:.1f}"
        cells = [s.job, s.model, s.prompt_version, d["reviewed"], d["approved"], d["edited"],
                 d["rejected"], d["expired"], d["failed"], rate, dist]
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    charts = "".join(f'<h2>{html.escape(name)}</h2><img alt="{html.escape(name)}" src="{src}">'
                     for name, src in (_charts(stats, series) if stats else []))
    now = now or datetime.now(UTC)
    period = f"Decisions from {since:%Y-%m-%d %H:%M} UTC" if since else "All decisions"
    covers = f"<p>{period}; made {now:%Y-%m-%d %H:%M} UTC.</p>"
    if not stats:
        covers += "<p><strong>No drafts were reviewed in this period.</strong></p>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{covers}{charts}<h2>Per job × model × prompt version</h2>"
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
        + "".join(body) + "</table></body></html>"
    )
