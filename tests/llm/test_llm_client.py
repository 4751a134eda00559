"""LLMClient against FakeLLM: real sockets, real SSE, injected failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from bot.llm.client import LLMClient
from bot.llm.errors import LLMServerError, LLMStreamCut, LLMTimeout, LLMUnavailable
from bot.llm.metrics import LLMMetrics
from bot.settings import LLMTimeouts
from tests.support.fake_llm import FakeLLM

MESSAGES = [{"role": "user", "content": "write the release note"}]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(reply="Release 2.3 ships faster drafts today.") as server:
        yield server


def make_client(session: aiohttp.ClientSession, fake: FakeLLM, **kw: object) -> LLMClient:
    kw.setdefault("retry_backoff", 0.01)
    return LLMClient(session, fake.base_url, model="fake-model", **kw)  # type: ignore[arg-type]


async def test_stream_chat_yields_deltas_and_usage_when_ok(session, fake) -> None:
    client = make_client(session, fake)
    async with client.stream_chat(MESSAGES, request_id="d-1") as stream:
        deltas = [d async for d in stream]
    assert deltas == ["Release ", "2.3 ", "ships ", "faster ", "drafts ", "today."]
    assert stream.text == "Release 2.3 ships faster drafts today."
    assert stream.usage["completion_tokens"] == 6
    assert stream.finish_reason == "stop"
    assert stream.ttft is not None and stream.ttft >= 0
    assert fake.requests[0]["request_id"] == "d-1"
    assert fake.headers[0]["X-Request-Id"] == "d-1"
    assert fake.requests[0]["stream_options"] == {"include_usage": True,
                                                  "continuous_usage_stats": True}


async def test_stream_chat_sends_params_stop_and_adapter_model(session, fake) -> None:
    client = make_client(session, fake)
    text = await client.stream_chat(MESSAGES, model="support-v2", params={"max_tokens": 2},
                                    stop=["<end_of_turn>"]).collect()
    assert text == "Release 2.3 "
    body = fake.requests[0]
    assert (body["model"], body["max_tokens"], body["stop"]) == ("support-v2", 2, ["<end_of_turn>"])


async def test_complete_chat_returns_allowed_choice_with_structured_outputs(session, fake) -> None:
    client = make_client(session, fake)
    result = await client.complete_chat(MESSAGES, structured_outputs={"choice": ["a", "b"]})
    assert result.text == "a"
    assert result.usage["completion_tokens"] == 1
    assert fake.requests[0]["structured_outputs"] == {"choice": ["a", "b"]}
    assert fake.requests[0]["stream"] is False


async def test_stream_retries_server_error_before_first_token(session, fake) -> None:
    client = make_client(session, fake, max_retries=3)
    fake.mode = "error500"
    stream = client.stream_chat(MESSAGES)

    async def recover() -> None:
        while len(fake.requests) < 2:
            await asyncio.sleep(0.005)
        fake.mode = "ok"

    recovering = asyncio.create_task(recover())
    text = await stream.collect()
    await recovering
    assert text.startswith("Release")
    assert stream.attempts >= 2


async def test_stream_raises_server_error_after_retries_exhausted(session, fake) -> None:
    registry = CollectorRegistry()
    client = make_client(session, fake, max_retries=2, metrics=LLMMetrics(registry))
    fake.mode = "error500"
    with pytest.raises(LLMServerError) as info:
        await client.stream_chat(MESSAGES).collect()
    assert info.value.status == 500
    assert info.value.what == "the model server returned an error (HTTP 500)"
    assert len(fake.requests) == 3
    assert registry.get_sample_value("tandem_llm_errors_total",
                                     {"model": "fake-model", "kind": "server_error"}) == 1


async def test_stream_cut_after_tokens_is_not_replayed(session, fake) -> None:
    client = make_client(session, fake, max_retries=3)
    fake.mode = "cut"
    seen: list[str] = []
    with pytest.raises(LLMStreamCut) as info:
        async with client.stream_chat(MESSAGES) as stream:
            async for delta in stream:
                seen.append(delta)
    assert seen == ["Release ", "2.3 ", "ships "]
    assert len(fake.requests) == 1
    assert info.value.what == "the model's answer was cut off"


async def test_stream_refused_raises_unavailable_then_recovers(session, fake) -> None:
    client = make_client(session, fake, max_retries=1)
    await fake.set_mode("refuse")
    with pytest.raises(LLMUnavailable) as info:
        await client.stream_chat(MESSAGES).collect()
    assert info.value.what == "the language model is unreachable"
    assert await client.health() is False
    await fake.set_mode("ok")
    assert await client.stream_chat(MESSAGES).collect() == "Release 2.3 ships faster drafts today."


async def test_first_token_timeout_when_server_hangs(session, fake) -> None:
    timeouts = LLMTimeouts(connect=1, first_token=0.3, idle=5, total=10)
    client = make_client(session, fake, timeouts=timeouts)
    fake.mode = "hang"
    started = time.monotonic()
    with pytest.raises(LLMTimeout) as info:
        await client.stream_chat(MESSAGES).collect()
    assert 0.25 < time.monotonic() - started < 5  # the first-token bound, not the total (10 s)
    assert info.value.what == "the model took too long to start answering"
    assert len(fake.requests) == 1  # timeouts are not retried


async def test_idle_timeout_between_tokens(session) -> None:
    async with FakeLLM(reply="one two three", token_delay=1.0) as slow:
        timeouts = LLMTimeouts(connect=1, first_token=5, idle=0.2, total=10)
        client = LLMClient(session, slow.base_url, model="m", timeouts=timeouts)
        seen: list[str] = []
        with pytest.raises(LLMTimeout) as info:
            async with client.stream_chat(MESSAGES) as stream:
                async for delta in stream:
                    seen.append(delta)
        assert seen == ["one "]
        assert info.value.what == "the model stopped answering"


async def test_cancelling_consumer_closes_response_and_frees_slot(session) -> None:
    async with FakeLLM(reply="a b c d e f g h", token_delay=0.2) as slow:
        client = LLMClient(session, slow.base_url, model="m", max_concurrency=1)
        got_first = asyncio.Event()

        async def consume() -> None:
            async with client.stream_chat(MESSAGES) as stream:
                async for _ in stream:
                    got_first.set()

        task = asyncio.create_task(consume())
        await got_first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The single slot is free again and the pool holds no half-read response.
        assert not client.semaphore.locked()
        slow.token_delay = 0
        text = await asyncio.wait_for(client.stream_chat(MESSAGES).collect(), 2)
        assert text == "a b c d e f g h"


async def test_concurrent_streams_overlap_instead_of_serialising(session) -> None:
    async with FakeLLM(reply="w " * 5, token_delay=0.1) as slow:
        client = LLMClient(session, slow.base_url, model="m", max_concurrency=8)
        texts = await asyncio.gather(*(client.stream_chat(MESSAGES).collect() for _ in range(8)))
        assert all(t == "w " * 5 for t in texts)
        assert slow.max_in_flight == 8  # a serialising client would never exceed 1


async def test_concurrency_bound_queues_excess_requests(session) -> None:
    async with FakeLLM(reply="x y z", token_delay=0.1) as slow:
        client = LLMClient(session, slow.base_url, model="m", max_concurrency=2)
        streams = [client.stream_chat(MESSAGES) for _ in range(4)]
        texts = await asyncio.gather(*(s.collect() for s in streams))
        assert texts == ["x y z"] * 4
        assert slow.max_in_flight == 2
        queued = sorted(s.queued for s in streams)
        assert queued[2] > queued[1]  # the excess two waited for a slot


async def test_metrics_record_ttft_and_tokens(session, fake) -> None:
    registry = CollectorRegistry()
    client = make_client(session, fake, metrics=LLMMetrics(registry))
    await client.stream_chat(MESSAGES).collect()
    labels = {"model": "fake-model"}
    assert registry.get_sample_value(
        "tandem_llm_time_to_first_token_seconds_count", labels) == 1
    assert registry.get_sample_value("tandem_llm_completion_tokens_total", labels) == 6


async def test_models_health_tokens_and_adapters(session, fake) -> None:
    client = make_client(session, fake)
    assert await client.health() is True
    assert await client.count_tokens("one two three") == 3
    assert await client.count_tokens(MESSAGES) == 4
    await client.load_lora_adapter("support-v1", "/tmp/adapter")
    await client.load_lora_adapter("support-v1", "/tmp/adapter")  # idempotent
    assert fake.adapters == {"support-v1": "/tmp/adapter"}
    assert await client.models() == ["fake-model", "support-v1"]
    await client.unload_lora_adapter("support-v1")
    assert await client.models() == ["fake-model"]


async def test_count_tokens_estimates_when_tokenize_unreachable(session, fake) -> None:
    client = make_client(session, fake, max_retries=0)
    await fake.set_mode("refuse")
    assert await client.count_tokens("x" * 400) == 100


async def test_started_stream_sends_its_request_before_anyone_reads_it(session) -> None:
    async with FakeLLM(reply="early bird", first_token_delay=0.3) as slow:
        client = LLMClient(session, slow.base_url, model="m")
        stream = client.stream_chat(MESSAGES)
        stream.start()
        await asyncio.sleep(0.1)  # the caller busy elsewhere (opening the Slack message)
        assert len(slow.requests) == 1  # already at the server, before the first read
        began = time.monotonic()
        async with stream:
            text = "".join([delta async for delta in stream])
        assert text == "early bird"
        # The model's 0.3 s ran while the caller was busy: only the rest is waited for.
        assert time.monotonic() - began < 0.28


async def test_started_stream_closed_unread_frees_its_slot_and_hides_its_error(session) -> None:
    async with FakeLLM(reply="never read", first_token_delay=5) as fake:
        client = LLMClient(session, fake.base_url, model="m", max_concurrency=1)
        stream = client.stream_chat(MESSAGES)
        stream.start()
        await asyncio.sleep(0.1)
        assert client.semaphore.locked()
        await asyncio.wait_for(stream.aclose(), 1)  # e.g. Slack refused the draft message
        assert not client.semaphore.locked()
        await fake.set_mode("refuse")
        failed = client.stream_chat(MESSAGES)
        failed.start()
        await asyncio.sleep(0.2)  # its LLMUnavailable is raised inside the background read
        await failed.aclose()  # swallowed: nobody reads a stream whose draft has failed
