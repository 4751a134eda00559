"""`tandem route eval FILE.jsonl [--with-llm]`: measure the router on labelled rows.

Progress and every mistake go to stderr; the last stdout line is one JSON
object (`accuracy`, `per_label`, `n`, plus timing and how many decisions came
from each source) so scripts can read it with `tail -1`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.routing.eval import evaluate, read_rows
from bot.routing.router import RouteDecision, RouteInput, Router

__all__ = ["register"]


def register(subparsers: Any) -> None:
    route = subparsers.add_parser("route", help="routing tools")
    route_sub = route.add_subparsers(dest="route_command", required=True)
    ev = route_sub.add_parser("eval", help="accuracy of the router on a labelled JSONL file")
    ev.add_argument(
        "file", type=Path, help="JSONL rows: text, channel_kind, author, thread_parent, label"
    )
    ev.add_argument(
        "--with-llm",
        action="store_true",
        help="ask the configured vLLM when the classifier is unsure",
    )
    ev.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="confidence below which the router counts as unsure",
    )
    ev.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    return asyncio.run(_run_eval(args))


async def _run_eval(args: argparse.Namespace) -> int:
    rows = read_rows(args.file)
    kwargs: dict[str, Any] = {}
    if args.threshold is not None:
        kwargs["threshold"] = args.threshold
    print(f"routing {len(rows)} rows from {args.file}", file=sys.stderr)  # noqa: T201
    started = time.perf_counter()
    if args.with_llm:
        report, mistakes, decisions = await _eval_with_llm(rows, kwargs)
    else:
        router = Router(**kwargs)

        async def decide(inp: RouteInput) -> RouteDecision:
            return router.decide_offline(inp)

        report, mistakes, decisions = await evaluate(rows, decide)
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["sources"] = dict(Counter(d.source for d in decisions))
    for m in mistakes:
        print(  # noqa: T201
            f"MISS {m.row.get('id', '?')}: want {m.row['label']}, got {m.decision.job} "
            f"[{m.decision.source} {m.decision.confidence:.2f}: {m.decision.reason}] "
            f"{str(m.row['text'])[:100]!r}",
            file=sys.stderr,
        )
    print(json.dumps(report, ensure_ascii=False))  # noqa: T201
    return 0


async def _eval_with_llm(
    rows: list[dict[str, Any]], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], list[Any], list[RouteDecision]]:
    # Imported here so the offline eval never needs aiohttp or settings.
    import aiohttp

    from bot.errors import ConfigError
    from bot.llm.client import LLMClient
    from bot.prompts import PromptBook
    from bot.settings import load_settings

    settings = load_settings()
    if not settings.tandem_llm_base_url or not settings.tandem_llm_model:
        raise ConfigError("--with-llm needs TANDEM_LLM_BASE_URL and TANDEM_LLM_MODEL")
    async with aiohttp.ClientSession() as session:
        llm = LLMClient(session, settings.tandem_llm_base_url, model=settings.tandem_llm_model)
        router = Router(llm=llm, prompt=PromptBook().get("router"), **kwargs)
        return await evaluate(rows, router.decide)
