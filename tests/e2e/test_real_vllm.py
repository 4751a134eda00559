"""The very path users run: the sandbox, the real bot and the real embedded vLLM (CPU)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.kb.ingest import ingest_paths
from bot.settings import LLMTimeouts
from bot.store.models import DraftStatus
from bot.texts import T
from tests.e2e.helpers import decisions, drafts, finals
from tests.support.harness import Harness, button_values, text_of

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

# The path is under test here, not CPU latency: a 2-core machine running vLLM beside the
# bot, the sandbox and pytest can pause a stream for longer than the product's 30 s idle
# limit (the stall and its Retry message are covered with the fake LLM).
PATIENT = LLMTimeouts(first_token=300, idle=180, total=900)


def vllm_log_tail(handle, lines: int = 40) -> str:  # type: ignore[no-untyped-def]
    path = handle.server.log_path
    if not path or not Path(path).exists():
        return "(no vLLM log)"
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])



# Failures of what a 270M base model sampled, not of the path: a person clicks Retry.
SAMPLED_FAILURES = (T.ONLY_MADE_UP_SOURCES, "the model returned an empty answer")


async def real_draft(h: Harness, ts: str, vllm_server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The finished draft in #general's thread `ts`, after one Retry if what the model
    sampled held no answer; any other failure fails the test with the end of vLLM's log."""
    assert h.slack is not None
    draft = await h.wait_draft("C0GENERAL", ts, timeout=900, or_failed=True)
    if "tandem_retry" in button_values(draft) and \
            any(why in text_of(draft) for why in SAMPLED_FAILURES):
        await h.slack.click("bob", "tandem_retry", channel="C0GENERAL", ts=draft["ts"])

        async def retried() -> bool:
            versions = drafts(h)
            return len(versions) == 2 and versions[-1].status in (
                DraftStatus.pending_review, DraftStatus.failed)

        await h.slack.wait_for(retried, timeout=900)
        draft = await h.wait_draft("C0GENERAL", ts, timeout=60, or_failed=True)
    if "tandem_retry" in button_values(draft):
        pytest.fail(f"the draft failed: {text_of(draft)!r}\nvLLM log:\n"
                    f"{vllm_log_tail(vllm_server)}")
    return draft

@pytest.mark.timeout(1200)
async def test_mention_streams_real_model_draft_and_approval_records_model(
        tmp_path: Path, vllm_server) -> None:  # type: ignore[no-untyped-def]
    h = await Harness(tmp=tmp_path, llm_url=vllm_server.base_url, llm_model=vllm_server.model,
                      settings_overrides={"llm_timeouts": PATIENT}).start()
    try:
        slack = h.slack
        assert slack is not None
        ts = await slack.post("general", "alice", "<@U0BOT> write a short announcement that "
                              "the office is closed on Monday")
        draft = await real_draft(h, ts, vllm_server)
        appends = await slack.calls("chat.appendStream")
        assert appends, "the real model's tokens should stream in"
        record = drafts(h)[-1]
        assert record.text.strip() and record.model == vllm_server.model
        assert record.ttft_ms and record.ttft_ms > 0
        thread = await slack.messages("C0GENERAL", thread_ts=ts)
        shown_words = set(re.findall(r"\w+", " ".join(text_of(m) for m in thread)))
        assert set(re.findall(r"\w+", record.text)[:5]) <= shown_words, "the draft shows the text"
        await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
        await slack.wait_for(lambda: finals(h, "C0GENERAL", ts), timeout=20)
        (decision,) = decisions(h)
        assert decision.verdict == "approved" and decision.model == "tandem-base"
        assert decision.prompt_name == "document" and decision.final_text == record.text
        assert record.messages[0]["role"] == "system"
    finally:
        await h.stop()



@pytest.mark.timeout(1200)
async def test_question_is_answered_by_the_real_model_from_the_knowledge_base_with_sources(
        tmp_path: Path, vllm_server) -> None:  # type: ignore[no-untyped-def]
    """The question route with every real part: the local MiniLM embedder, the SQLite
    store, the real model. The handbook is retrieved first and shown to the model. A 270M
    base model may cite any source or none; either way the draft cites nothing that was
    not found and ends with a Sources block naming exactly what it cites (when it cites
    none, the sources holding a word of the question)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "oncall.md").write_text(
        "# On-call handbook\n\n## Escalation\nPages go to the primary on-call engineer "
        "first. After 15 minutes without an acknowledgement the page escalates to the "
        "secondary on-call engineer.\n")
    (docs / "expenses.md").write_text(
        "# Expense policy\n\nMeals while travelling are reimbursed up to 40 euros a day.\n")
    h = await Harness(tmp=tmp_path, llm_url=vllm_server.base_url, llm_model=vllm_server.model,
                      with_kb=True, settings_overrides={"llm_timeouts": PATIENT}).start()
    try:
        slack, bot = h.slack, h.bot
        assert slack is not None and bot is not None and bot.services.kb is not None
        await ingest_paths(bot.services.kb, [docs], show_progress=False)
        ts = await slack.post("general", "alice", "<@U0BOT> what happens when the primary "
                              "on-call engineer does not acknowledge a page?")
        draft = await real_draft(h, ts, vllm_server)
        record = drafts(h)[-1]
        assert record.prompt_name == "question" and record.model == vllm_server.model
        assert record.sources and record.sources[0]["title"].startswith("On-call handbook")
        prompt = "\n".join(str(m["content"]) for m in record.messages)
        assert "escalates to the secondary" in prompt  # the model saw the retrieved page
        answer, _, block = record.text.rpartition("*Sources*")
        assert answer.strip(), "the model's answer comes before the Sources block"
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
        assert numbers <= {src["n"] for src in record.sources}, record.text
        # Citing none, it names the pages holding a word of the question: not the meals.
        shown = [src for src in record.sources if src["n"] in numbers] or \
            [src for src in record.sources if src["title"] == "On-call handbook"]
        listed = {int(n) for ns in re.findall(r"^\[([\d, ]+)\]", block, flags=re.M)
                  for n in ns.split(",")}
        assert listed == {src["n"] for src in shown}, record.text
        for src in shown:
            assert src["title"] in block and Path(src["url"]).name in block
            assert src["title"] in text_of(draft)
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
