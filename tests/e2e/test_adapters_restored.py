"""The adapters the traffic split routes to survive an LLM server that forgot them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import runner
from bot.tuning.deploy import Registry
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness


async def test_routed_adapters_are_loaded_at_start_and_again_after_the_server_forgets_them(
        tmp_path: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    Registry(tmp_path / "adapters.json").add("tandem-v1", "/adapters/tandem-v1",
                                             fake_llm.base_url)
    monkeypatch.setattr(runner, "ADAPTER_CHECK_SECONDS", 0.2)
    h = await Harness(tmp=tmp_path, llm_url=fake_llm.base_url, settings_overrides={
        "traffic": {"support": {"tandem-v1": 1.0}}}).start()
    try:
        # The server never loaded it (it restarted since the deploy): the start did.
        assert fake_llm.adapters == {"tandem-v1": "/adapters/tandem-v1"}
        fake_llm.adapters.clear()  # restarted under the running bot
        async with asyncio.timeout(10):
            while "tandem-v1" not in fake_llm.adapters:
                await asyncio.sleep(0.1)
        assert h.slack is not None
        ts = await h.slack.post("support", "alice", "<@U0BOT> reply: my invoice is wrong")
        draft = await h.wait_draft("C0SUPPORT", ts)
        assert draft and fake_llm.requests[-1]["model"] == "tandem-v1"
    finally:
        await h.stop()
