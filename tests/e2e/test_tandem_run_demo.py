"""`tandem run` as the README's first command starts it, with the fake LLM standing in for
the embedded vLLM: the offline demo answers a handbook question with its sources."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.support.fake_llm import FakeLLM
from tests.support.sandbox_client import SandboxClient

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_tandem_run_offline_seeds_the_sample_handbook_and_answers_from_it(
        tmp_path: Path) -> None:
    llm = FakeLLM(model="tandem-base", reply="Pages escalate after 15 minutes [1].")
    await llm.start()
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TANDEM_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), "TANDEM_DATA_DIR": str(tmp_path),
             "TANDEM_LLM_BASE_URL": llm.base_url, "TANDEM_SANDBOX_PORT": str(port)},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        said: list[str] = []
        assert proc.stdout is not None
        async with asyncio.timeout(120):
            while not said or not said[-1].startswith("Tandem is running"):
                said.append((await proc.stdout.readline()).decode().strip())
                assert said[-1] or proc.returncode is None, said
        assert any("sample handbook" in line for line in said), said
        async with aiohttp.ClientSession() as session:
            slack = SandboxClient(f"http://127.0.0.1:{port}", session)
            ts = await slack.post("general", "alice",
                                  "<@U0BOT> what is our on-call escalation policy?")

            async def answered() -> str | None:
                for m in await slack.messages("C0GENERAL", thread_ts=ts):
                    text = str(m.get("text") or "") + str(m.get("blocks") or "")
                    if "On-call handbook" in text and "15 minutes" in text:
                        return text
                return None

            assert await slack.wait_for(answered, timeout=60)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        await llm.stop()
    assert proc.returncode == 0
