"""Deploy and traffic split against the real embedded vLLM, with a tiny adapter made here."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.errors import ConfigError
from bot.llm.client import LLMClient
from bot.tuning.deploy import Registry, deploy_adapter, list_models, next_name
from bot.tuning.traffic import choose_model

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def make_adapter(model_dir: Path, out: Path) -> Path:
    """A rank-4 LoRA with PEFT's default init (B = 0): loads like a trained one."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype="float32")
    peft = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear",
                                            task_type="CAUSAL_LM"))
    peft.save_pretrained(str(out))
    return out


async def test_deploy_serves_adapter_and_split_routes_drafts_to_it(
    vllm_server: Any, tmp_path: Path,
) -> None:
    adapter = make_adapter(vllm_server.model_dir, tmp_path / "tiny")
    registry = Registry(tmp_path / "adapters.json")
    async with aiohttp.ClientSession() as session:
        url = vllm_server.base_url
        name = next_name([*await list_models(session, url), *registry.names()])
        await deploy_adapter(session, url, name, adapter, registry)
        assert name in await list_models(session, url)
        with pytest.raises(ConfigError, match="already used"):
            await deploy_adapter(session, url, name, adapter, registry)

        traffic = {"support": {name: 0.5}}
        picks = [choose_model("support", traffic, vllm_server.model, f"req-{i}")
                 for i in range(8)]
        assert set(picks) == {name, vllm_server.model}, Counter(picks)
        client = LLMClient(session, url, model=vllm_server.model)
        for model in set(picks):
            result = await client.complete_chat(
                [{"role": "user", "content": "Say hello to the team."}], model=model,
                params={"max_tokens": 8, "temperature": 0})
            assert result.model == model and result.text
