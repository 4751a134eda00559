"""Routing evaluation: labelled rows in, accuracy and per-label scores out.

Rows have the form of `shared/data/routing/dev.jsonl` (`text`,
`channel_kind`, `author`, `thread_parent`, `label`). The metric code is pure;
`evaluate` takes any async decide function, so the same loop measures the
offline router and the router with its LLM fallback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.jsonl import read_objects
from bot.routing.classifier import JOBS
from bot.routing.router import RouteDecision, RouteInput

__all__ = ["Mistake", "evaluate", "read_rows", "row_input", "score"]


@dataclass(frozen=True)
class Mistake:
    row: dict[str, Any]
    decision: RouteDecision


def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = read_objects(path, ConfigError)
    for number, row in rows:
        if "text" not in row or row.get("label") not in JOBS:
            raise ConfigError(f"{path}:{number} needs `text` and a `label` in {JOBS}")
    if not rows:
        # Scored, an empty file read "accuracy 0.0", as if the router got every row wrong.
        raise ConfigError(f"{path} holds no rows: one JSON object per line, with `text` and "
                          f"a `label` in {JOBS}")
    return [row for _, row in rows]


def row_input(row: dict[str, Any]) -> RouteInput:
    return RouteInput(
        text=str(row["text"]),
        channel_kind=str(row.get("channel_kind") or "internal"),
        author=str(row.get("author") or "member"),
        thread_parent=row.get("thread_parent"),
    )


def score(gold: Iterable[str], predicted: Iterable[str]) -> dict[str, Any]:
    """Accuracy, and precision/recall/F1/support count per label."""
    pairs = list(zip(gold, predicted, strict=True))
    per_label: dict[str, dict[str, float | int]] = {}
    for label in JOBS:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        n_pred = sum(1 for _, p in pairs if p == label)
        n_gold = sum(1 for g, _ in pairs if g == label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "n": n_gold,
        }
    correct = sum(1 for g, p in pairs if g == p)
    return {
        "accuracy": round(correct / len(pairs), 4) if pairs else 0.0,
        "per_label": per_label,
        "n": len(pairs),
    }


async def evaluate(
    rows: list[dict[str, Any]],
    decide: Callable[[RouteInput], Awaitable[RouteDecision]],
) -> tuple[dict[str, Any], list[Mistake], list[RouteDecision]]:
    decisions = [await decide(row_input(row)) for row in rows]
    mistakes = [Mistake(r, d) for r, d in zip(rows, decisions, strict=True) if d.job != r["label"]]
    report = score((r["label"] for r in rows), (d.job for d in decisions))
    return report, mistakes, decisions
