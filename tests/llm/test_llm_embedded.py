"""EmbeddedVLLM's process handling, with a stand-in child instead of vLLM.

The child serves /health and spawns a grandchild, like vLLM's API server and
engine core; stopping must leave neither behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import pytest

from bot.llm.embedded import EmbeddedVLLM

CHILD = r"""
import http.server, subprocess, sys
port, pidfile, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(pidfile, "w").write(str(grandchild.pid))
import time; time.sleep(delay)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


class StandIn(EmbeddedVLLM):
    def __init__(self, tmp: Path, *, delay: float = 0.3, exit_code: int | None = None) -> None:
        super().__init__(model_dir=tmp, startup_timeout=20)
        self.pidfile = tmp / "grandchild.pid"
        self.delay = delay
        self.exit_code = exit_code

    def command(self, model_dir: Path) -> list[str]:  # noqa: ARG002 - no model here
        if self.exit_code is not None:
            return [sys.executable, "-c", f"raise SystemExit({self.exit_code})"]
        return [sys.executable, "-c", CHILD, str(self.port), str(self.pidfile), str(self.delay)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purpose.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split()[2] != "Z"


async def test_start_waits_for_health_and_stop_leaves_no_orphans(tmp_path: Path) -> None:
    server = StandIn(tmp_path)
    url = await server.start(progress=False)
    assert url == f"http://127.0.0.1:{server.port}/v1"
    assert server.process is not None
    child = server.process.pid
    grandchild = int(server.pidfile.read_text())
    assert _alive(child) and _alive(grandchild)
    await server.stop(grace=2)
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)
    assert server.process is None


# Tandem, as far as the server goes: starts the stand-in, says its pids, then waits to die.
OWNER = r"""
import asyncio, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tests.llm.test_llm_embedded import StandIn
tmp = Path(sys.argv[1])
server = StandIn(tmp)
asyncio.run(server.start(progress=False))
(tmp / "server.pid").write_text(str(server.process.pid))
time.sleep(600)
"""


def test_a_server_whose_tandem_was_killed_goes_down_with_its_workers(tmp_path: Path) -> None:
    import signal
    import subprocess

    root = Path(__file__).resolve().parents[2]
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(tmp_path), str(root)])
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "server.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        server = int((tmp_path / "server.pid").read_text())
        grandchild = int((tmp_path / "grandchild.pid").read_text())
        assert _alive(server) and _alive(grandchild)
    finally:
        owner.kill()  # SIGKILL: no stop(), no exit hook
        owner.wait()
    try:
        deadline = time.monotonic() + 15
        while (_alive(server) or _alive(grandchild)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server) and not _alive(grandchild)
    finally:  # whatever is left of its process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server, signal.SIGKILL)


async def test_start_reports_child_exit_instead_of_waiting(tmp_path: Path) -> None:
    server = StandIn(tmp_path, exit_code=3)
    with pytest.raises(RuntimeError, match="exited with code 3"):
        await server.start(progress=False)
    assert server.process is None


def test_command_enables_lora_prefix_caching_and_chat_template(tmp_path: Path) -> None:
    server = EmbeddedVLLM(port=1234, model_dir=tmp_path)
    cmd = server.command(tmp_path)
    assert cmd[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    for flag in ("--enable-lora", "--enable-prefix-caching", "--chat-template"):
        assert flag in cmd
    assert cmd[cmd.index("--served-model-name") + 1] == "tandem-base"
    env = server.environment()
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "2"


async def test_supervise_restarts_a_server_that_died_on_its_port_then_runs_the_hook(
        tmp_path: Path) -> None:
    import asyncio
    import signal

    import aiohttp

    server = StandIn(tmp_path)
    await server.start(progress=False)
    assert server.process is not None
    first = server.process.pid
    restarts: list[int] = []

    async def hook() -> None:
        assert server.process is not None
        restarts.append(server.process.pid)

    watcher = asyncio.create_task(server.supervise(on_restart=hook, poll=0.1))
    try:
        os.kill(first, signal.SIGKILL)  # as the OOM killer would
        async with asyncio.timeout(20):
            while not restarts:
                await asyncio.sleep(0.1)
        assert restarts[0] != first
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{server.port}/health") as resp:
            assert resp.status == 200  # same port: clients keep their URL
    finally:
        watcher.cancel()
        await server.stop(grace=2)
