"""Deploy against a real local HTTP server speaking vLLM's adapter endpoints."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.errors import ConfigError
from bot.tuning.deploy import (
    Registry,
    deploy_adapter,
    next_name,
    restore_adapters,
    routed_adapters,
    server_root,
)


class FakeVLLM:
    """`/v1/models` and `/v1/load_lora_adapter`, keeping what was loaded."""

    def __init__(self) -> None:
        self.models = ["tandem-base"]
        self.loads: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_post("/v1/load_lora_adapter", self.load)
        return app

    async def list_models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": m} for m in self.models]})

    async def load(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not Path(body["lora_path"]).is_absolute():
            return web.Response(status=400, text="relative path")
        self.loads.append(body)
        self.models.append(body["lora_name"])
        return web.Response(text=f"Success: LoRA adapter '{body['lora_name']}' added successfully.")


@pytest.fixture
async def fake_vllm() -> AsyncIterator[tuple[FakeVLLM, str]]:
    fake = FakeVLLM()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


def adapter_dir(tmp_path: Path, **config: Any) -> Path:
    path = tmp_path / "adapter"
    path.mkdir()
    (path / "adapter_config.json").write_text(json.dumps({"r": 16, **config}))
    (path / "adapter_model.safetensors").write_bytes(b"\0")
    return path


def test_next_name_is_one_past_the_highest_version() -> None:
    assert next_name([]) == "tandem-v1"
    assert next_name(["tandem-base", "tandem-v1", "tandem-v7", "other-v9"]) == "tandem-v8"


def test_server_root_accepts_urls_with_or_without_v1() -> None:
    assert server_root("http://h:8000/v1/") == server_root("http://h:8000") == "http://h:8000"


async def test_deploy_loads_adapter_by_absolute_path_and_records_it(
    fake_vllm: tuple[FakeVLLM, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, url = fake_vllm
    monkeypatch.chdir(tmp_path)
    adapter_dir(tmp_path)
    registry = Registry(tmp_path / "data" / "adapters.json")
    async with aiohttp.ClientSession() as session:
        entry = await deploy_adapter(session, url, "tandem-v1", Path("adapter"), registry)
    assert fake.loads == [{"lora_name": "tandem-v1", "lora_path": str(tmp_path / "adapter")}]
    assert entry["name"] == "tandem-v1" and registry.names() == {"tandem-v1"}


async def test_deploy_refuses_a_name_that_is_loaded_or_was_deployed(
    fake_vllm: tuple[FakeVLLM, str], tmp_path: Path,
) -> None:
    fake, url = fake_vllm
    path = adapter_dir(tmp_path)
    registry = Registry(tmp_path / "adapters.json")
    registry.add("tandem-v2", "/old/weights", url)  # deployed before a server restart
    fake.models.append("tandem-v1")
    async with aiohttp.ClientSession() as session:
        for name in ("tandem-v1", "tandem-v2"):
            with pytest.raises(ConfigError, match="tandem-v3"):
                await deploy_adapter(session, url, name, path, registry)
    assert fake.loads == []


async def test_deploy_refuses_adapters_with_modules_to_save(
    fake_vllm: tuple[FakeVLLM, str], tmp_path: Path,
) -> None:
    _fake, url = fake_vllm
    path = adapter_dir(tmp_path, modules_to_save=["lm_head"])
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConfigError, match="modules_to_save"):
            await deploy_adapter(session, url, "tandem-v1", path, Registry(tmp_path / "a.json"))


async def test_restore_loads_the_routed_adapters_a_restarted_server_forgot(
    fake_vllm: tuple[FakeVLLM, str], tmp_path: Path,
) -> None:
    fake, url = fake_vllm
    registry = Registry(tmp_path / "adapters.json")
    registry.add("tandem-v1", "/srv/adapters/v1", url)
    registry.add("tandem-v2", "/srv/adapters/v2", url)
    fake.models.append("tandem-v2")  # still loaded; v1 was lost with a restart
    traffic = {"support": {"tandem-v1": 0.5, "tandem-v2": 0.5, "tandem-v9": 0.0},
               "question": {"tandem-base": 1.0}}
    wanted = routed_adapters(traffic, "tandem-base")
    assert wanted == {"tandem-v1", "tandem-v2"}
    async with aiohttp.ClientSession() as session:
        assert await restore_adapters(session, url, wanted, registry) == (["tandem-v1"], [])
        assert await restore_adapters(session, url, wanted, registry) == ([], [])
        # Deployed from elsewhere (vLLM's resolver directory): said, not fatal.
        restored, problems = await restore_adapters(session, url, {"tandem-v7"}, registry)
        assert restored == [] and "'tandem-v7'" in problems[0] and "resolver" in problems[0]
    assert fake.loads == [{"lora_name": "tandem-v1", "lora_path": "/srv/adapters/v1"}]
