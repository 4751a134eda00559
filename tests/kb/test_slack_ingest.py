"""`ingest-slack` against the sandbox workspace: threads become documents with permalinks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.kb.service import KnowledgeBase
from bot.kb.slack_source import ingest_channel
from bot.sandbox import actions
from bot.sandbox.server import Sandbox, SandboxConfig
from bot.settings import Settings


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(SandboxConfig(rate_scale=100, ack_timeout=1.0))
    await sb.start()
    yield sb
    await sb.stop()


async def test_ingest_slack_keeps_threads_and_permalinks(sandbox: Sandbox, kb: KnowledgeBase,
                                                         settings: Settings) -> None:
    name, cid, user = "general", "C0GENERAL", "U0ALICE"
    root = actions.post(sandbox, channel=cid, user=user,
                        text="How do we rotate the Grafana admin password?")
    actions.post(sandbox, channel=cid, user=user, thread_ts=root,
                 text="Run the vault-rotate job; it updates the Kubernetes secret.")
    actions.post(sandbox, channel=cid, user=user, text="Standup moves to 10:30 tomorrow.")
    settings = settings.model_copy(update={"slack_bot_token": sandbox.cfg.bot_token,
                                           "slack_api_url": sandbox.api_url})

    report = await ingest_channel(kb, settings, f"#{name}")
    assert report.added >= 2
    hits = await kb.search("grafana admin password rotation", k=1)
    assert hits and "vault-rotate" in hits[0].text
    assert hits[0].url.startswith(sandbox.url) and f"/archives/{cid}/p" in hits[0].url
    assert hits[0].url.endswith(root.replace(".", ""))

    again = await ingest_channel(kb, settings, cid)
    assert again.added == 0 and again.unchanged == report.added
