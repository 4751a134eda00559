"""docker-compose.yml runs vLLM (GPU), the bot and Postgres as deploy/README.md promises."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.deploy_files import DEPLOY, compose, interpolate

BOT_ENV = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "TANDEM_LLM_BASE_URL",
           "TANDEM_LLM_MODEL", "TANDEM_DB_URL", "TANDEM_CONFIG", "TANDEM_METRICS_PORT")


def _flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def _volume_targets(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source (named volume or host path)."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        out[target] = source
    return out


@pytest.fixture
def services() -> dict[str, Any]:
    return dict(compose()["services"])


def test_compose_defines_vllm_bot_and_postgres(services: dict[str, Any]) -> None:
    assert {"vllm", "bot", "postgres"} <= set(services)


def test_interpolation_applies_defaults_and_overrides() -> None:
    raw = {"a": "${X:-dflt}", "b": ["${Y:?set Y}"], "c": "${X}"}
    assert interpolate(raw) == {"a": "dflt", "b": ["<Y>"], "c": ""}
    assert interpolate(raw, {"X": "v", "Y": "w"}) == {"a": "v", "b": ["w"], "c": "v"}


def test_vllm_serves_the_model_variable_with_runtime_lora(services: dict[str, Any]) -> None:
    vllm = services["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai:")
    command = vllm["command"]
    assert _flag(command, "--model") == "Qwen/Qwen2.5-7B-Instruct"
    assert {"--enable-lora", "--enable-prefix-caching"} <= set(command)
    assert int(_flag(command, "--max-lora-rank")) >= 32
    assert int(_flag(command, "--max-loras")) >= 2  # base + adapters in one batch
    assert vllm["environment"]["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    other = compose({"TANDEM_LLM_MODEL": "meta-llama/Llama-3.1-8B-Instruct"})["services"]
    assert _flag(other["vllm"]["command"], "--model") == "meta-llama/Llama-3.1-8B-Instruct"
    assert other["bot"]["environment"]["TANDEM_LLM_MODEL"] == "meta-llama/Llama-3.1-8B-Instruct"


def test_vllm_has_gpu_health_check_and_volumes(services: dict[str, Any]) -> None:
    vllm = services["vllm"]
    (device,) = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert "http://localhost:8000/health" in " ".join(vllm["healthcheck"]["test"])
    targets = _volume_targets(vllm)
    assert targets["/root/.cache/huggingface"] in compose()["volumes"]
    assert targets["/adapters"] in compose()["volumes"]
    assert vllm["environment"]["VLLM_LORA_RESOLVER_CACHE_DIR"] == "/adapters"
    assert vllm.get("ipc") == "host" or vllm.get("shm_size")


def test_bot_environment_points_at_vllm_postgres_and_config(services: dict[str, Any]) -> None:
    bot = services["bot"]
    env = bot["environment"]
    assert set(BOT_ENV) <= set(env)
    assert env["TANDEM_LLM_BASE_URL"] == "http://vllm:8000/v1"
    assert env["TANDEM_LLM_MODEL"] == _flag(services["vllm"]["command"], "--model")
    assert env["TANDEM_DB_URL"].startswith("postgresql+psycopg2://tandem:")
    assert "@postgres:5432/tandem" in env["TANDEM_DB_URL"]
    assert env["SLACK_BOT_TOKEN"] == "<SLACK_BOT_TOKEN>"  # required, never defaulted
    assert bot["command"] == ["tandem", "run"]
    assert bot["depends_on"] == {"vllm": {"condition": "service_healthy"},
                                 "embed": {"condition": "service_healthy"},
                                 "postgres": {"condition": "service_healthy"}}


def test_the_knowledge_base_embeds_through_the_embed_service_as_a_pooling_model(
        services: dict[str, Any]) -> None:
    env, embed = services["bot"]["environment"], services["embed"]
    assert env["TANDEM_EMBED_BASE_URL"] == "http://embed:8000/v1"
    assert env["TANDEM_EMBED_MODEL"] == _flag(embed["command"], "--served-model-name")
    assert _flag(embed["command"], "--runner") == "pooling"
    assert _flag(embed["command"], "--port") == "8000"
    # The two vLLM servers share one GPU: their memory shares must fit in it.
    shares = [float(_flag(services[s]["command"], "--gpu-memory-utilization"))
              for s in ("vllm", "embed")]
    assert sum(shares) <= 0.95


def test_bot_mounts_an_existing_tandem_yaml_at_tandem_config(services: dict[str, Any]) -> None:
    bot = services["bot"]
    targets = _volume_targets(bot)
    source = targets[bot["environment"]["TANDEM_CONFIG"]]
    assert (DEPLOY / source).resolve().is_file()
    assert targets["/adapters"] == _volume_targets(services["vllm"])["/adapters"]


def test_bot_builds_the_slim_image(services: dict[str, Any]) -> None:
    build = services["bot"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert "9100" in " ".join(services["bot"]["healthcheck"]["test"])


def test_postgres_is_pgvector_with_health_check(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "pgvector/pgvector:pg17"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["environment"]["POSTGRES_DB"] == "tandem"
    targets = _volume_targets(postgres)
    assert targets["/var/lib/postgresql/data"] in compose()["volumes"]
    init = next(s for t, s in targets.items() if t.startswith("/docker-entrypoint-initdb.d"))
    assert "vector" in (DEPLOY / init).read_text(encoding="utf-8")


def test_env_example_covers_every_required_variable() -> None:
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    names = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line
             and not line.startswith("#")}
    raw = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z_]+):\?", raw))
    assert required and required <= names
