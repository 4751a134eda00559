"""Shared set-up for the bot benchmarks.

The sandbox (standing in for Slack) and the fake LLM (standing in for vLLM)
each run in their own process, as the real ones would be remote: the bot's
process then holds only the bot, which is what the figures are about.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.runner import Bot, start_bot
from bot.settings import ChannelPolicy, Settings
from bot.slack.limiter import SlackLimiter
from tests.support.sandbox_client import SandboxClient

if TYPE_CHECKING:
    from bot.llm.client import LLMClient

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ("general", "support", "reviews", "acme-shared")
CHANNEL_IDS = {"general": "C0GENERAL", "support": "C0SUPPORT", "reviews": "C0REVIEWS",
               "acme-shared": "C0ACME"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def embedded_llm(*, progress: bool = True) -> AsyncIterator[LLMClient]:
    """A client of the embedded vLLM serving the packaged model (started here, stopped
    after), 16 requests at a time, with timeouts long enough for a queue of drafts."""
    from bot.llm.client import LLMClient
    from bot.llm.embedded import EmbeddedVLLM
    from bot.llm.model_prep import prepare_model
    from bot.settings import LLMTimeouts

    server = EmbeddedVLLM(model_dir=await asyncio.to_thread(prepare_model))
    base = await server.start(progress=progress)
    try:
        async with aiohttp.ClientSession() as session:
            yield LLMClient(session, base, model=server.model, max_concurrency=16,
                            timeouts=LLMTimeouts(first_token=900, idle=300, total=1800))
    finally:
        await server.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(percentile(values, 50), 2),
            "p95": round(percentile(values, 95), 2), "p99": round(percentile(values, 99), 2),
            "max": round(max(values), 2), "mean": round(statistics.fmean(values), 2)}


async def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up")
            await asyncio.sleep(0.1)


@dataclass
class Stack:
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bot: Bot | None = None
    session: aiohttp.ClientSession | None = None
    slack: SandboxClient | None = None
    sandbox_url: str = ""
    llm_url: str = ""

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        if self.session is not None:
            await self.session.close()
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


async def start(*, first_token_delay: float, rate_limits: bool,
                reply: str = "A short draft from the fake model.") -> Stack:
    stack = Stack(tmp=Path(tempfile.mkdtemp(prefix="tandem-bench-")))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sb_port, llm_port = free_port(), free_port()
    sandbox_cmd = [sys.executable, "-m", "bot", "sandbox", "--port", str(sb_port), "--quiet",
                   "--db", str(stack.tmp / "sandbox.sqlite")]
    if os.environ.get("TANDEM_BENCH_SANDBOX_CMD"):  # e.g. a profiling wrapper
        sandbox_cmd = os.environ["TANDEM_BENCH_SANDBOX_CMD"].format(port=sb_port).split()
    if not rate_limits:
        sandbox_cmd.append("--no-rate-limits")
    llm_cmd = [sys.executable, str(ROOT / "tests/support/fake_llm.py"), "--port", str(llm_port),
               "--first-token-delay", str(first_token_delay), "--reply", reply]
    for cmd in (sandbox_cmd, llm_cmd):
        stack.procs.append(subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True,
                                            stdout=subprocess.DEVNULL))
    stack.sandbox_url = f"http://127.0.0.1:{sb_port}"
    stack.llm_url = f"http://127.0.0.1:{llm_port}/v1"
    await _wait_http(stack.sandbox_url + "/_sandbox/workspace")
    await _wait_http(f"http://127.0.0.1:{llm_port}/health")
    settings = Settings(
        slack_bot_token="xoxb-sandbox", slack_app_token="xapp-sandbox",
        slack_api_url=stack.sandbox_url + "/api/", tandem_llm_base_url=stack.llm_url,
        tandem_llm_model="fake-model", tandem_db_url=f"sqlite:///{stack.tmp / 'tandem.sqlite'}",
        tandem_data_dir=stack.tmp,
        channels={"support": ChannelPolicy(support=True),
                  "acme-shared": ChannelPolicy(support=True, review_channel="#reviews")})
    stack.bot = await start_bot(settings, limiter=SlackLimiter(enabled=rate_limits),
                                with_kb=False)
    stack.session = aiohttp.ClientSession()
    stack.slack = SandboxClient(stack.sandbox_url, stack.session)
    return stack


_POSTER = """
import asyncio, json, sys, time
import aiohttp
from tests.support.sandbox_client import SandboxClient

if TYPE_CHECKING:
    from bot.llm.client import LLMClient

async def main():
    url, posts = sys.argv[1], json.load(sys.stdin)
    async with aiohttp.ClientSession() as session:
        slack = SandboxClient(url, session)
        started = time.time()
        await asyncio.gather(*(slack.post(c, u, t) for c, u, t in posts))
    print(json.dumps({"started": started}))

asyncio.run(main())
"""


async def post_elsewhere(stack: Stack, posts: list[tuple[str, str, str]]) -> float:
    """Post the users' messages from a process of their own, as real users would; the
    bot's process then holds only the bot. Returns when the posting started."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _POSTER, stack.sandbox_url, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = await proc.communicate(json.dumps(posts).encode())
    if proc.returncode:
        raise RuntimeError(f"the posting process failed ({proc.returncode})")
    return float(json.loads(out)["started"])


def finishing_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Web API calls that show a finished draft (review buttons), one per draft."""
    done = []
    for call in calls:
        if not call.get("ok"):
            continue
        method, args = call["method"], call.get("args") or {}
        if method == "chat.stopStream" or (
                method in ("chat.postMessage", "chat.update")
                and "tandem_approve" in json.dumps(args.get("blocks") or "")):
            done.append(call)
    return done


__all__ = ["CHANNELS", "CHANNEL_IDS", "Stack", "finishing_calls", "post_elsewhere", "start",
           "summary"]
