"""`tandem sandbox`: run the sandbox Slack workspace alone and print how to connect to it."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from bot.sandbox.server import Sandbox, SandboxConfig

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("sandbox", help="run the local Slack sandbox (Web API, Socket "
                                              "Mode, browser UI) on its own")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--db", type=Path, default=Path("sandbox.db"),
                   help="SQLite file that keeps the workspace history (default: sandbox.db)")
    p.add_argument("--bot-token", default="xoxb-sandbox")
    p.add_argument("--app-token", default="xapp-sandbox")
    p.add_argument("--signing-secret", default="sandbox-secret")
    p.add_argument("--request-url", default=None,
                   help="deliver events over HTTP to this URL instead of Socket Mode")
    p.add_argument("--no-rate-limits", action="store_true")
    p.add_argument("--rate-scale", type=float, default=1.0,
                   help="multiply Slack's rate limits (e.g. 10 for fast scripted runs)")
    p.add_argument("--quiet", action="store_true", help="log warnings only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = SandboxConfig(db_path=args.db, bot_token=args.bot_token, app_token=args.app_token,
                        signing_secret=args.signing_secret, request_url=args.request_url,
                        rate_limits=not args.no_rate_limits, rate_scale=args.rate_scale,
                        host=args.host, port=args.port)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(cfg))
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(cfg: SandboxConfig) -> None:
    sb = Sandbox(cfg)
    await sb.start()
    lines = [
        f"Tandem sandbox running at {sb.url}  (open it in a browser)",
        f"  SLACK_API_URL={sb.api_url}",
        f"  SLACK_BOT_TOKEN={cfg.bot_token}",
        f"  SLACK_APP_TOKEN={cfg.app_token}",
        f"  SLACK_SIGNING_SECRET={cfg.signing_secret}",
        f"  delivery: {'HTTP to ' + cfg.request_url if cfg.request_url else 'Socket Mode'}",
        f"  state: {cfg.db_path}",
    ]
    print("\n".join(lines), flush=True)  # noqa: T201 - the CLI's output is the point
    try:
        await asyncio.Event().wait()
    finally:
        await sb.stop()
