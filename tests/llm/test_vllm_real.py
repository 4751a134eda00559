"""The client against the real embedded vLLM serving the packaged Gemma 3 270M."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.llm.client import LLMClient
from bot.llm.errors import LLMStreamCut, LLMUnavailable
from bot.llm.model_prep import STOP
from bot.settings import LLMTimeouts
from tests.support.vllm_fixture import VLLMHandle

pytestmark = [pytest.mark.vllm, pytest.mark.slow, pytest.mark.timeout(900)]

ASK = [{"role": "system", "content": "You are Tandem, a helpful team assistant."},
       {"role": "user", "content": "Write one sentence announcing that release 2.3 is out."}]


@pytest.fixture
async def client(vllm_server: VLLMHandle) -> AsyncIterator[LLMClient]:
    timeouts = LLMTimeouts(connect=5, first_token=120, idle=60, total=300)
    async with aiohttp.ClientSession() as session:
        yield LLMClient(session, vllm_server.base_url, model=vllm_server.model,
                        timeouts=timeouts, retry_backoff=0.5)


async def test_real_model_streams_a_chat_completion(client: LLMClient) -> None:
    deltas: list[str] = []
    async with client.stream_chat(ASK, request_id="draft-real-1",
                                  params={"max_tokens": 40, "temperature": 0.7}) as stream:
        async for delta in stream:
            deltas.append(delta)
    assert len(deltas) > 1
    assert stream.text.strip()
    assert STOP not in stream.text
    assert stream.model == "tandem-base"
    assert 0 < stream.usage["completion_tokens"] <= 40
    assert stream.finish_reason in ("stop", "length")
    assert stream.ttft is not None and stream.ttft > 0
    # The session's server may also carry adapters other tests loaded; the base comes first.
    assert (await client.models())[0] == "tandem-base"
    assert await client.count_tokens("hello world") >= 2


async def test_a_stream_left_early_still_knows_its_token_counts(client: LLMClient) -> None:
    # Tandem leaves a stream at a made-up source listing; the draft still records usage.
    seen: list[str] = []
    async with client.stream_chat(ASK, params={"max_tokens": 200, "min_tokens": 200,
                                               "ignore_eos": True}) as stream:
        async for delta in stream:
            seen.append(delta)
            if len(seen) == 5:
                break
    assert stream.usage["prompt_tokens"] > 10
    assert 0 < stream.usage["completion_tokens"] < 200


async def test_real_model_structured_choice_returns_allowed_label(client: LLMClient) -> None:
    labels = ["document", "question", "support"]
    ask = [{"role": "user", "content": "Classify: 'what is our on-call escalation policy?' "
                                       "Answer with document, question or support."}]
    result = await client.complete_chat(ask, structured_outputs={"choice": labels},
                                        params={"temperature": 0})
    assert result.text in labels


def _make_random_lora(base: Path, out: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.bfloat16)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                        init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(str(out))


async def test_random_lora_loads_at_runtime_and_is_chosen_by_name(
        client: LLMClient, vllm_server: VLLMHandle, tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    await asyncio.to_thread(_make_random_lora, vllm_server.model_dir, adapter)
    await client.load_lora_adapter("test-random-lora", str(adapter))
    try:
        assert "test-random-lora" in await client.models()
        stream = client.stream_chat(ASK, model="test-random-lora", params={"max_tokens": 8})
        await stream.collect()
        assert stream.model == "test-random-lora"
        assert stream.usage["completion_tokens"] > 0
    finally:
        await client.unload_lora_adapter("test-random-lora")
    assert "test-random-lora" not in await client.models()


async def test_killing_server_mid_stream_cuts_then_restart_recovers(
        client: LLMClient, vllm_server: VLLMHandle) -> None:
    client.max_retries = 1
    seen: list[str] = []
    with pytest.raises((LLMStreamCut, LLMUnavailable)) as info:
        async with client.stream_chat(ASK, params={"max_tokens": 400, "min_tokens": 400,
                                                   "ignore_eos": True}) as stream:
            async for delta in stream:
                seen.append(delta)
                if len(seen) == 3:
                    assert vllm_server.server.process is not None
                    os.killpg(vllm_server.server.process.pid, signal.SIGKILL)
    assert isinstance(info.value, LLMStreamCut)
    assert len(seen) >= 3
    assert await client.health() is False
    await vllm_server.restart()
    assert await client.health() is True
    text = await client.stream_chat(ASK, params={"max_tokens": 10}).collect()
    assert text
