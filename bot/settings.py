"""Settings: environment variables plus an optional `tandem.yaml`.

Built once at start-up and passed down; nothing reads the environment later.
The YAML file (path in `TANDEM_CONFIG`) holds what does not fit in variables:
per-channel reviewer policy and the adapter traffic split.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

# Streams open at once against the LLM server. vLLM batches and queues what its
# scheduler cannot take yet (max_num_seqs, 256 by default), so a lower bound here
# would only serialise a burst of drafts into waves.
LLM_MAX_CONCURRENCY = 256

__all__ = ["LLM_MAX_CONCURRENCY", "ChannelPolicy", "LLMTimeouts", "Settings", "load_settings"]

Job = Literal["document", "question", "support"]
JOBS: tuple[str, ...] = ("document", "question", "support")


class ChannelPolicy(BaseModel):
    """Who may review drafts in a channel, and where support drafts go."""

    # User IDs (U…) or user-group handles (@reviewers / S…). Empty: any internal member.
    reviewers: list[str] = Field(default_factory=list)
    allow_self_approve: bool = True
    # Jobs whose drafts skip review: posted at once with feedback buttons.
    auto_post: list[str] = Field(default_factory=list)
    # Support queue or shared channel: external authors get a draft automatically.
    support: bool = False
    # Where support drafts are reviewed (ID or #name); never the customer's channel.
    review_channel: str | None = None
    # Knowledge-base collections this channel may search (None: all of them). Pages from
    # a private channel answer only in that channel whatever this says.
    collections: list[str] | None = None


class LLMTimeouts(BaseModel):
    connect: float = 5.0
    first_token: float = 60.0
    idle: float = 30.0
    total: float = 300.0


class Settings(BaseSettings):
    """Every knob Tandem reads. Field names are the environment variable names."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    tandem_llm_base_url: str | None = None
    tandem_llm_model: str | None = None
    tandem_llm_max_concurrency: int = LLM_MAX_CONCURRENCY
    tandem_db_url: str | None = None
    tandem_data_dir: Path = Path(".data")
    tandem_sandbox_port: int = 3000
    tandem_http_port: int = 3001
    tandem_metrics_port: int | None = None
    tandem_prompts_dir: Path | None = None  # default: prompts/ beside the package
    # Knowledge base: its own store URL (default: Postgres when TANDEM_DB_URL is, else
    # <data dir>/kb.sqlite) and, optionally, an OpenAI-compatible /v1/embeddings server.
    tandem_kb_url: str | None = None
    tandem_embed_base_url: str | None = None
    tandem_embed_model: str | None = None
    tandem_embed_api_key: str | None = None
    # Tokens of each chunk embedded, locally (default 112) or by the endpoint (default
    # 128, sent as vLLM's truncate_prompt_tokens: without it vLLM refuses a chunk longer
    # than the model). See bot.kb.config.
    tandem_embed_max_seq_length: int | None = None
    # auto: int8 (ONNX Runtime) on CPUs with int8 dot products but no AMX, else bfloat16
    # where the CPU multiplies it natively, else fp32 (bot.kb.embedding.auto_precision).
    tandem_embed_precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"
    # Extra vectors for chunk text past the local model's first window
    # (bot.kb.tails): better recall on long documents, about half the ingest speed.
    tandem_embed_tail_vectors: bool = False

    # From tandem.yaml only.
    channels: dict[str, ChannelPolicy] = Field(default_factory=dict)
    default_policy: ChannelPolicy = Field(default_factory=ChannelPolicy)
    draft_expiry_seconds: float = 24 * 3600
    # The team's own email addresses, links and phone numbers: a draft may give them
    # though nothing the model was shown did (`bot.drafting.contacts`).
    contacts: list[str] = Field(default_factory=list)
    # job -> {model or adapter name: share}; shares need not sum to 1, the rest is base.
    traffic: dict[str, dict[str, float]] = Field(default_factory=dict)
    llm_timeouts: LLMTimeouts = Field(default_factory=LLMTimeouts)
    # Slack's stream budget can run out (chat.startStream is Tier 2); fall back to
    # postMessage + throttled chat.update instead of queueing behind it.
    streaming: bool = True
    stream_update_interval: float = 0.25

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def db_url(self) -> str:
        if self.tandem_db_url:
            # SQLAlchemy 2.1 reads a bare "postgresql://" as psycopg 3, which is not
            # installed (psycopg2 is): such a URL failed with "No module named 'psycopg'".
            return re.sub(r"^postgres(?:ql)?://", "postgresql+psycopg2://", self.tandem_db_url)
        return f"sqlite:///{(self.tandem_data_dir / 'tandem.sqlite').resolve()}"

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def policy_for(self, channel_id: str, channel_name: str | None = None) -> ChannelPolicy:
        for key in (channel_id, channel_name, f"#{channel_name}" if channel_name else None):
            if key and key in self.channels:
                return self.channels[key]
        return self.default_policy

    def check_slack(self) -> None:
        """Refuse Slack settings that cannot work, naming what to set."""
        if not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set: set it (xoxb-…), or unset "
                              "SLACK_APP_TOKEN/SLACK_SIGNING_SECRET to use the sandbox")
        if not self.slack_app_token and not self.slack_signing_secret:
            raise ConfigError("set SLACK_APP_TOKEN (xapp-…) for Socket Mode or "
                              "SLACK_SIGNING_SECRET for HTTP mode")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"TANDEM_CONFIG points at {path}, which does not exist") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    return data


def load_settings(**overrides: Any) -> Settings:
    """Environment first, `tandem.yaml` for structured settings, then overrides."""
    config: dict[str, Any] = {}
    path = overrides.pop("config_path", None) or os.environ.get("TANDEM_CONFIG")
    if path:
        config = _read_yaml(str(path))
    try:
        return Settings(**{**config, **overrides})
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc
