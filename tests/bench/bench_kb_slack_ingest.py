"""`tandem kb ingest-slack` at Slack's own rate limits: a first run, a re-run after a few
threads changed, and a `--full` re-run.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_slack_ingest.py [--threads 120] [--changed 5]
The sandbox enforces Slack's tiers at scale 1 (`conversations.replies`: 50 a minute) and
the ingest paces itself with the bot's own limiter, as in production. Prints one JSON
line per run: seconds, `conversations.replies` calls, and the report's counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.service import KnowledgeBase
from bot.kb.slack_source import ingest_channel
from bot.sandbox import actions
from bot.sandbox.server import Sandbox, SandboxConfig
from bot.settings import Settings


async def run(args: argparse.Namespace) -> None:
    sandbox = Sandbox(SandboxConfig(rate_scale=1.0, ack_timeout=1.0))
    await sandbox.start()
    roots = []
    for i in range(args.threads):
        root = actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                            text=f"Question {i}: how do we rotate the key for service {i}?")
        actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root,
                     text=f"Run rotate-{i} from the ops runbook, then restart it.")
        roots.append(root)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(tandem_data_dir=Path(tmp), slack_bot_token=sandbox.cfg.bot_token,
                            slack_api_url=sandbox.api_url)
        kb = await KnowledgeBase.open(settings, embedder=LocalEmbedder())
        try:
            async def one(name: str, full: bool = False) -> None:
                sandbox.calls.clear()
                started = time.perf_counter()
                report = await ingest_channel(kb, settings, "#general", full=full)
                calls = sum(c["method"] == "conversations.replies" for c in sandbox.calls)
                print(json.dumps({"run": name, "threads": args.threads,  # noqa: T201
                                  "seconds": round(time.perf_counter() - started, 2),
                                  "replies_calls": calls, **report.as_dict()}), flush=True)

            await one("first")
            for root in roots[:args.changed]:
                actions.post(sandbox, channel="C0GENERAL", user="U0ALICE", thread_ts=root,
                             text="Update: the runbook moved to the wiki.")
            await one(f"rerun_{args.changed}_changed")
            await one("rerun_full", full=True)
        finally:
            await kb.close()
            await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=120)
    parser.add_argument("--changed", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
