"""The very path users run: the sandbox, the real bot and the real embedded vLLM (CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import decisions, drafts, finals
from tests.support.harness import Harness, text_of

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


async def test_mention_streams_real_model_draft_and_approval_records_model(
        tmp_path: Path, vllm_server) -> None:  # type: ignore[no-untyped-def]
    h = await Harness(tmp=tmp_path, llm_url=vllm_server.base_url,
                      llm_model=vllm_server.model).start()
    try:
        slack = h.slack
        assert slack is not None
        ts = await slack.post("general", "alice", "<@U0BOT> write a short announcement that "
                              "the office is closed on Monday")
        draft = await h.wait_draft("C0GENERAL", ts, timeout=120)
        appends = await slack.calls("chat.appendStream")
        assert appends, "the real model's tokens should stream in"
        (record,) = drafts(h)
        assert record.text.strip() and record.model == vllm_server.model
        assert record.ttft_ms and record.ttft_ms > 0
        assert record.text[:20] in text_of(draft).replace("\n", " ") or record.text
        await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
        await slack.wait_for(lambda: finals(h, "C0GENERAL", ts), timeout=20)
        (decision,) = decisions(h)
        assert decision.verdict == "approved" and decision.model == "tandem-base"
        assert decision.prompt_name == "document" and decision.final_text == record.text
        assert record.messages[0]["role"] == "system"
    finally:
        await h.stop()


async def test_router_uses_structured_output_of_real_model_when_unsure(vllm_server) -> None:  # type: ignore[no-untyped-def]
    import aiohttp

    from bot.llm.client import LLMClient
    from bot.prompts import PromptBook
    from bot.routing.router import RouteInput, Router

    async with aiohttp.ClientSession() as session:
        llm = LLMClient(session, vllm_server.base_url, model=vllm_server.model)
        router = Router(llm=llm, prompt=PromptBook().get("router"), threshold=1.01)
        decision = await router.decide(RouteInput(text="ok"))  # unsure: goes to the model
        assert decision.job in ("document", "question", "support")
        assert decision.source == "llm"
