"""EmbeddedVLLM: the real vLLM (CPU build) as a child process of Tandem.

Started with `python -m vllm.entrypoints.openai.api_server` (the `vllm serve`
entry point crashes with the CPU package) in its own process group, so
`stop()` and the exit hook take down the API server and its engine workers
together and leave no orphan; so does Tandem's death without either (`_LAUNCHER`).
Start it from a thread that lives as long as the server: the event loop's (Linux
tells the launcher when that thread, not the process, ends). Serves the prepared
checkpoint under the name `tandem-base` (see `model_prep.SERVED_MODEL`); LoRA adapters
are loaded at runtime and chosen by name.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bot.llm.model_prep import SERVED_MODEL, chat_template_path, prepare_model

__all__ = ["EmbeddedVLLM", "cpu_dtype", "free_port"]

logger = logging.getLogger(__name__)

# Request params still win; these are only the server's defaults.
_SAMPLING = {"temperature": 0.7, "top_p": 0.9, "repetition_penalty": 1.15}


# What Tandem starts: a launcher that runs vLLM as its child, in the process group `start`
# makes, and takes the whole group down when Tandem dies without stopping it (SIGKILL, the
# OOM killer): Linux sends the launcher SIGTERM then (PR_SET_PDEATHSIG), where vLLM alone
# would go on serving no one, holding its port and gigabytes of memory. Its exit code is
# vLLM's (128 + the signal's number when a signal ended it).
_LAUNCHER = r"""
import ctypes, os, signal, subprocess, sys, time
parent, grace, deadline = int(sys.argv[1]), float(sys.argv[2]), None
def down(*_):
    global deadline
    if deadline is None:
        deadline = time.monotonic() + grace
        if os.getppid() != parent:  # Tandem died: no one else told vLLM to stop
            os.killpg(0, signal.SIGTERM)
signal.signal(signal.SIGTERM, down)
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
child = subprocess.Popen(sys.argv[3:])
if os.getppid() != parent:  # Tandem died before the prctl
    down()
while child.poll() is None and (deadline is None or time.monotonic() < deadline):
    time.sleep(0.2)
if deadline is not None:  # stopping: whatever is left of the group goes, this too
    os.killpg(0, signal.SIGKILL)
sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)
"""
ORPHAN_GRACE = 10.0  # seconds vLLM gets to shut down after Tandem died, before SIGKILL


def cpu_dtype() -> str:
    """bf16 only where the CPU computes it natively; elsewhere oneDNN falls back to
    slow emulated matmuls and float32 is several times faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "bfloat16"
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedVLLM:
    """One vLLM API server on 127.0.0.1; `await start()`, use `.base_url`, `await stop()`."""

    def __init__(self, *, port: int = 0, model_dir: Path | None = None,
                 served_model: str = SERVED_MODEL, kv_cache_gib: int = 2,
                 max_model_len: int = 4096, max_lora_rank: int = 16, max_loras: int = 4,
                 log_path: Path | None = None, startup_timeout: float = 600.0,
                 dtype: str | None = None) -> None:
        self.port = port or free_port()
        self.model_dir = model_dir
        self.model = served_model
        self.kv_cache_gib = kv_cache_gib
        self.max_model_len = max_model_len
        self.max_lora_rank = max_lora_rank
        self.max_loras = max_loras
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.dtype = dtype or cpu_dtype()
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self, model_dir: Path) -> list[str]:
        return [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--model", str(model_dir), "--served-model-name", self.model,
            "--chat-template", str(chat_template_path()),
            "--dtype", self.dtype, "--max-model-len", str(self.max_model_len),
            "--enable-prefix-caching",
            "--enable-lora", "--max-lora-rank", str(self.max_lora_rank),
            "--max-loras", str(self.max_loras),
            # Stop on <end_of_turn> and <eos>, as written into generation_config.json;
            # a base model rambles at temperature 1, so default to tamer sampling.
            "--generation-config", "auto",
            "--override-generation-config", json.dumps(_SAMPLING),
            "--disable-uvicorn-access-log",
        ]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(VLLM_ALLOW_RUNTIME_LORA_UPDATING="True",
                   VLLM_CPU_KVCACHE_SPACE=str(self.kv_cache_gib),
                   # Never reach for a model hub: everything is local.
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")
        return env

    async def start(self, *, progress: bool = True) -> str:
        """Prepare the model if needed, launch the server, wait for /health."""
        started = time.monotonic()
        if self.model_dir is None:
            self.model_dir = await asyncio.to_thread(prepare_model)
        model_dir = self.model_dir
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(os.getpid()), str(ORPHAN_GRACE),
                 *self.command(model_dir)],
                env=self.environment(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        atexit.register(self.kill)
        try:
            await self._wait_healthy(started, progress)
        except BaseException:
            self.kill()
            raise
        self.start_seconds = time.monotonic() - started
        if progress:
            _say(f"vLLM ready at {self.base_url} (model {self.model}, "
                 f"{self.start_seconds:.0f}s)")
        return self.base_url

    async def _wait_healthy(self, started: float, progress: bool) -> None:
        url = f"http://127.0.0.1:{self.port}/health"
        last_note = 0.0
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    where = f"; see {self.log_path}" if self.log_path else ""
                    raise RuntimeError(f"vLLM exited with code {self.process.returncode}{where}")
                with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        if resp.status == 200:
                            return
                waited = time.monotonic() - started
                if waited > self.startup_timeout:
                    raise TimeoutError(f"vLLM not healthy after {waited:.0f}s")
                if progress and waited - last_note >= 10:
                    last_note = waited
                    _say(f"waiting for vLLM to start on port {self.port} ({waited:.0f}s)…")
                await asyncio.sleep(0.5)

    async def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after `grace`."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        self.kill()

    async def supervise(self, on_restart: Callable[[], Awaitable[None]] | None = None, *,
                        poll: float = 1.0, backoff: float = 5.0) -> None:
        """Until cancelled: when the server exits (a crash, the OOM killer), start it
        again on the same port, so clients keep their URL, then run `on_restart` (to
        load the adapters it forgot). Drafts asked meanwhile fail with Retry. A start
        that fails is tried again after `backoff` seconds, doubling up to five minutes."""
        delay = backoff
        while True:
            await asyncio.sleep(poll)
            proc = self.process
            if proc is not None and proc.poll() is None:
                continue
            code = proc.returncode if proc is not None else None
            where = f"; its log: {self.log_path}" if self.log_path else ""
            logger.error("embedded vLLM exited (code %s); restarting it%s", code, where)
            self.kill()
            try:
                await self.start(progress=False)
                if on_restart is not None:
                    await on_restart()
            except Exception:
                logger.exception("embedded vLLM did not come back; trying again in %.0fs",
                                 delay)
                self.kill()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)
                continue
            logger.warning("embedded vLLM restarted in %.0fs", self.start_seconds or 0.0)
            delay = backoff

    def kill(self) -> None:
        """Synchronous last resort (also the atexit hook): SIGKILL the whole group."""
        proc = self.process
        if proc is None:
            return
        # Workers may outlive the parent; the group id still reaches them.
        _signal_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        self.process = None
        atexit.unregister(self.kill)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201 - progress display
