"""`tandem export`, `tandem tune train|deploy`, `tandem stats`, `tandem report`.

Thin: parse arguments, build settings once, call the module that does the work.
Counts and progress go to stderr so `tandem export > file.jsonl` stays clean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.settings import load_settings
from bot.tuning.train import DEFAULT_MAX_LENGTH

__all__ = ["parse_since", "register"]


def parse_since(value: str) -> datetime:
    """An ISO date or datetime; naive values are taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _say(text: str) -> None:
    print(text, file=sys.stderr)  # noqa: T201


def _export(args: argparse.Namespace) -> int:
    from bot.tuning.export import export, open_readonly

    engine = open_readonly(load_settings().db_url)
    try:
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            with open(args.out, "w", encoding="utf-8") as fh:
                counts = export(engine, args.format, fh, job=args.job, since=args.since,
                                redact=not args.no_redact)
        else:
            counts = export(engine, args.format, sys.stdout, job=args.job, since=args.since,
                            redact=not args.no_redact)
    finally:
        engine.dispose()
    _say(counts.summary())
    return 0


def _default_base() -> Path:
    # The embedded server prepares the model here (bot/llm/embedded.py).
    return Path.home() / ".cache" / "tandem" / "models" / "gemma3-270m"


def _train(args: argparse.Namespace) -> int:
    from bot.tuning.train import TrainPlan, train

    data = Path(args.data or Path(args.out) / f"dataset.{args.format}.jsonl")
    plan = TrainPlan(fmt=args.format, base=Path(args.base or _default_base()), data=data,
                     out=Path(args.out), epochs=args.epochs, rank=args.rank,
                     max_lora_rank=args.max_lora_rank, learning_rate=args.lr,
                     max_length=args.max_length)
    plan.check_options()  # --epochs 0 exported a dataset, then refused to train on it
    if args.data is None:  # export first, next to the adapter
        from bot.tuning.export import export, open_readonly

        data.parent.mkdir(parents=True, exist_ok=True)
        engine = open_readonly(load_settings().db_url)
        with data.open("w", encoding="utf-8") as fh:
            _say(export(engine, args.format, fh, job=args.job).summary())
        engine.dispose()
    summary = train(plan)
    if summary["skipped_too_long"]:
        _say(f"skipped {summary['skipped_too_long']} rows longer than --max-length "
             f"{plan.max_length} tokens (cut, they would lose their answer)")
    _say(f"adapter written to {plan.out} in {summary['train_seconds']} s "
         f"(loss {summary['train_loss']:.3f}, {summary['rows']} rows)")
    return 0


async def _deploy_async(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    from bot.tuning.deploy import Registry, deploy_adapter, list_models, next_name

    settings = load_settings()
    base_url = args.url or settings.tandem_llm_base_url
    if not base_url:
        raise ConfigError("no vLLM server: set TANDEM_LLM_BASE_URL or pass --url")
    registry = Registry(settings.tandem_data_dir / "adapters.json")
    async with aiohttp.ClientSession() as session:
        name = args.name
        if args.next:
            name = next_name([*await list_models(session, base_url), *registry.names()],
                             prefix=args.name or "tandem")
        if not name:
            raise ConfigError("give an adapter NAME (e.g. tandem-v2) or --next")
        return await deploy_adapter(session, base_url, name, Path(args.path), registry)


def _deploy(args: argparse.Namespace) -> int:
    entry = asyncio.run(_deploy_async(args))
    _say(f"deployed {entry['name']} from {entry['path']}; route traffic to it in tandem.yaml, "
         f"e.g. traffic: {{support: {{{entry['name']}: 0.5}}}}")
    print(entry["name"])  # noqa: T201 - the name, for scripts
    return 0


def _stats(args: argparse.Namespace) -> int:
    from bot.tuning.export import open_readonly
    from bot.tuning.stats import compact_stats, query_stats

    engine = open_readonly(load_settings().db_url)
    stats = query_stats(engine, since=args.since)
    engine.dispose()
    if args.json:
        print(json.dumps([s.as_dict() for s in stats], indent=2))  # noqa: T201
        return 0
    if not stats:
        # An empty table would read as a fault of the command, not as "nothing yet".
        since = f" since {args.since:%Y-%m-%d %H:%M} UTC" if args.since else ""
        _say(f"no drafts reviewed{since}: approve, edit or reject a draft first")
        return 0
    for line in compact_stats(stats):
        print(f"{line['job']:<9} {line['model']:<24} prompt v{line['prompt_version']:<4} "  # noqa: T201
              f"n={line['reviewed']:<5} approved {line['approval']:>4} "
              f"({line['approval_ci']}) edited {line['edited']:>4} rejected {line['rejected']:>4} "
              f"edit distance {line['mean_edit_distance']}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from bot.tuning.export import open_readonly
    from bot.tuning.report import approval_series, render_report
    from bot.tuning.stats import query_stats

    engine = open_readonly(load_settings().db_url)
    page = render_report(query_stats(engine, since=args.since),
                         approval_series(engine, since=args.since), since=args.since)
    engine.dispose()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # as `tandem export --out`
    Path(args.out).write_text(page, encoding="utf-8")
    _say(f"report written to {args.out}")
    return 0


def register(subparsers: Any) -> None:
    from bot.routing.classifier import JOBS
    from bot.tuning.rows import FORMATS

    p = subparsers.add_parser("export", help="write decisions as a JSONL training dataset")
    p.add_argument("--format", required=True, choices=FORMATS)
    # A misspelt job ("suport") exported nothing and said only "0 rows".
    p.add_argument("--job", choices=JOBS, help="only this job")
    p.add_argument("--since", type=parse_since, help="only decisions from this ISO date on")
    p.add_argument("--out", help="output file (default: stdout)")
    p.add_argument("--no-redact", action="store_true", help="keep PII (default: redacted)")
    p.set_defaults(func=_export)

    tune = subparsers.add_parser("tune", help="train and deploy LoRA adapters")
    tsub = tune.add_subparsers(dest="tune_command", required=True)
    t = tsub.add_parser("train", help="train a LoRA adapter with TRL + PEFT")
    t.add_argument("--format", choices=("sft", "dpo"), default="sft")
    t.add_argument("--base", help="prepared model directory (default: the embedded model)")
    t.add_argument("--data", type=Path, help="dataset JSONL (default: export it now)")
    t.add_argument("--job", choices=JOBS, help="when exporting: only this job")
    t.add_argument("--out", required=True, help="adapter directory, e.g. adapters/tandem-v2")
    t.add_argument("--epochs", type=float, default=3.0)
    t.add_argument("--rank", type=int, default=16)
    t.add_argument("--max-lora-rank", type=int, default=16, help="the server's --max-lora-rank")
    t.add_argument("--lr", type=float, default=2e-4)
    t.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH,
                   help="longest row in tokens; longer ones are skipped and counted")
    t.set_defaults(func=_train)
    d = tsub.add_parser("deploy", help="load an adapter into the running vLLM")
    d.add_argument("name", nargs="?", help="versioned name, e.g. tandem-v2 (prefix with --next)")
    d.add_argument("path", help="adapter directory")
    d.add_argument("--next", action="store_true", help="use the next free NAME-vN")
    d.add_argument("--url", help="vLLM base URL (default: TANDEM_LLM_BASE_URL)")
    d.set_defaults(func=_deploy)

    s = subparsers.add_parser("stats", help="approval, edit and reject rates per job × model")
    s.add_argument("--json", action="store_true")
    s.add_argument("--since", type=parse_since)
    s.set_defaults(func=_stats)

    r = subparsers.add_parser("report", help="HTML report with charts")
    r.add_argument("--out", default="report.html")
    r.add_argument("--since", type=parse_since)
    r.set_defaults(func=_report)
