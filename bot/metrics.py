"""The bot's Prometheus metrics, on one injected registry (no globals).

`serve_metrics` exposes them at `/metrics` when TANDEM_METRICS_PORT is set.
The LLM client's own metrics (time to first token, tokens/s, errors) register
on the same registry.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from bot.llm.metrics import LLMMetrics
from bot.ports import METRICS_PORT_CHANGE, listen

__all__ = ["BotMetrics", "serve_metrics"]

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class BotMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.llm = LLMMetrics(self.registry)
        self.ack = Histogram("tandem_slack_ack_seconds",
                             "From a Socket Mode envelope's arrival to its ack",
                             registry=self.registry, buckets=_FAST)
        self.first_visible = Histogram(
            "tandem_first_visible_seconds",
            "From the model's first token to the first draft text shown in Slack "
            "(streamed drafts; auto_post answers show only whole)",
            registry=self.registry, buckets=_FAST)
        self.drafts = Counter("tandem_drafts", "Drafts by job and outcome",
                              ["job", "outcome"], registry=self.registry)
        self.flagged = Counter("tandem_drafts_flagged", "Ready drafts shown with a warning, "
                               "by job and why (repeats_example, made_up_sources, "
                               "not_in_sources, invented_contact, invented_figure, "
                               "unoffered_promise, script, repetition, restart, length)",
                               ["job", "flag"], registry=self.registry)
        self.decisions = Counter("tandem_decisions", "Decisions by job and verdict",
                                 ["job", "verdict"], registry=self.registry)
        # How often the knowledge base has something for a question is how well it
        # covers what the team asks: "nothing_relevant" is a gap to fill with documents.
        self.kb_searches = Counter("tandem_kb_searches",
                                   "Knowledge-base searches of question drafts by outcome "
                                   "(sources, nothing_relevant, failed)", ["outcome"],
                                   registry=self.registry)
        self.kb_search = Histogram("tandem_kb_search_seconds",
                                   "Knowledge-base search time of a question draft",
                                   registry=self.registry, buckets=_FAST)
        self.ack_samples: list[float] = []  # the last acks, for benchmarks

    def observe_ack(self, seconds: float) -> None:
        self.ack.observe(seconds)
        self.ack_samples.append(seconds)
        if len(self.ack_samples) > 10000:
            del self.ack_samples[:5000]


async def serve_metrics(metrics: BotMetrics, port: int) -> web.AppRunner:
    async def handle(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await listen(runner, "0.0.0.0", port, what="the metrics endpoint",
                 change=METRICS_PORT_CHANGE)
    return runner
