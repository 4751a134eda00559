"""The LLM step: asked only when unsure, and never a reason to fail routing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from bot.llm.client import LLMClient
from bot.prompts import PromptBook
from bot.routing.classifier import TextClassifier
from bot.routing.router import JOBS, RouteDecision, RouteInput, Router
from tests.support.fake_llm import FakeLLM

UNCLEAR = RouteInput(text="the thing from yesterday")
MakeRouter = Callable[[FakeLLM, float], Router]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def make_router(session: aiohttp.ClientSession, classifier: TextClassifier) -> MakeRouter:
    def make(fake: FakeLLM, threshold: float) -> Router:
        llm = LLMClient(
            session, fake.base_url, model="fake-model", max_retries=0, retry_backoff=0.01
        )
        return Router(
            llm=llm,
            prompt=PromptBook().get("router"),
            threshold=threshold,
            classifier=classifier,
        )

    return make


async def _decide(
    reply: str, make_router: MakeRouter, threshold: float, inp: RouteInput, mode: str = "ok"
) -> tuple[FakeLLM, RouteDecision]:
    fake = FakeLLM(reply=reply)
    await fake.start()
    try:
        await fake.set_mode(mode)
        decision = await make_router(fake, threshold).decide(inp)
    finally:
        await fake.stop()
    return fake, decision


async def test_unsure_router_uses_the_llm_choice(make_router: MakeRouter) -> None:
    # A threshold above 1 makes every classifier answer "unsure".
    fake, decision = await _decide("support", make_router, 1.01, UNCLEAR)
    assert (decision.job, decision.source) == ("support", "llm")
    assert len(fake.requests) == 1
    body = fake.requests[0]
    assert body["structured_outputs"] == {"choice": list(JOBS)}
    assert body["messages"][-1]["content"].endswith("Request: the thing from yesterday\nJob:")
    assert body["temperature"] == 0


async def test_confident_router_never_calls_the_llm(make_router: MakeRouter) -> None:
    inp = RouteInput(text="write the release notes for 4.1")
    fake, decision = await _decide("support", make_router, 0.0, inp)
    assert (decision.job, decision.source) == ("document", "classifier")
    assert fake.requests == []


async def test_context_decision_never_calls_the_llm(make_router: MakeRouter) -> None:
    inp = RouteInput(text="hmm", channel_kind="shared", author="external")
    fake, decision = await _decide("document", make_router, 1.01, inp)
    assert (decision.job, decision.source) == ("support", "context")
    assert fake.requests == []


async def test_llm_server_error_falls_back_to_the_classifier(
    make_router: MakeRouter, classifier: TextClassifier
) -> None:
    fake, decision = await _decide("document", make_router, 1.01, UNCLEAR, mode="error500")
    offline = Router(classifier=classifier).decide_offline(UNCLEAR)
    assert len(fake.requests) == 1
    assert (decision.job, decision.source) == (offline.job, "classifier")
    assert "language model could not help" in decision.reason


async def test_llm_unreachable_falls_back_to_the_classifier(make_router: MakeRouter) -> None:
    _, decision = await _decide("document", make_router, 1.01, UNCLEAR, mode="refuse")
    assert decision.source == "classifier"
    assert "unreachable" in decision.reason


async def test_llm_overruling_the_classifier_says_so_in_the_reason(
    make_router: MakeRouter, classifier: TextClassifier
) -> None:
    offline = Router(classifier=classifier).decide_offline(UNCLEAR)
    other = next(job for job in JOBS if job != offline.job)
    _, decision = await _decide(other, make_router, 1.01, UNCLEAR)
    assert (decision.job, decision.source) == (other, "llm")
    assert f"the classifier was unsure: {offline.job}" in decision.reason
