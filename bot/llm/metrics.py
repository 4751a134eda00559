"""Prometheus metrics of the LLM client, registered on an injected registry.

No global registry: the bot builds one `CollectorRegistry` at start-up and
exports it; tests build their own so they never collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["LLMMetrics"]

# Latency buckets span a warm GPU (tens of ms) to a cold CPU model (a minute).
_TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_RATE_BUCKETS = (1, 5, 10, 20, 40, 80, 160, 320, 640, 1280)


class LLMMetrics:
    """Time to first token, tokens per second, and errors by kind, per model."""

    def __init__(self, registry: CollectorRegistry, *, prefix: str = "tandem_llm") -> None:
        self.ttft = Histogram(f"{prefix}_time_to_first_token_seconds",
                              "Seconds from request to first streamed token",
                              ["model"], buckets=_TTFT_BUCKETS, registry=registry)
        self.tokens_per_second = Histogram(f"{prefix}_tokens_per_second",
                                           "Completion tokens per second of a finished stream",
                                           ["model"], buckets=_RATE_BUCKETS, registry=registry)
        self.completion_tokens = Counter(f"{prefix}_completion_tokens",
                                         "Completion tokens received", ["model"],
                                         registry=registry)
        self.errors = Counter(f"{prefix}_errors", "LLM request failures by kind",
                              ["model", "kind"], registry=registry)
        self.retries = Counter(f"{prefix}_retries", "Retried requests (before first token)",
                               ["model"], registry=registry)

    def observe_stream(self, model: str, *, ttft: float | None, tokens: int,
                       generation_seconds: float) -> None:
        if ttft is not None:
            self.ttft.labels(model).observe(ttft)
        if tokens:
            self.completion_tokens.labels(model).inc(tokens)
            if generation_seconds > 0:
                self.tokens_per_second.labels(model).observe(tokens / generation_seconds)

    def observe_error(self, model: str, kind: str) -> None:
        self.errors.labels(model, kind).inc()
