"""`ingest-slack` against the sandbox workspace: threads become documents with permalinks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.kb.service import KnowledgeBase
from bot.kb.slack_source import ingest_channel
from bot.sandbox import actions
from bot.sandbox.server import Sandbox, SandboxConfig
from bot.settings import Settings
from bot.slack.limiter import SlackLimiter


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


@pytest.mark.parametrize("ref", ["general", " #general ", "<#C0GENERAL|general>",
                                 "<#C0GENERAL>"])
async def test_ingest_slack_finds_a_channel_named_without_its_hash_or_as_slack_writes_it(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings, ref: str) -> None:
    root = actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                        text="How do we rotate the Grafana admin password?")
    actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root,
                 text="Run the vault-rotate job; it updates the Kubernetes secret.")
    report = await ingest_channel(kb, _bot_settings(settings, sandbox), ref)
    assert report.added == 1
    (doc,) = await kb.documents()
    assert doc.title.startswith("#general: How do we rotate")


@pytest.mark.parametrize("ref", ["#", "  "])
async def test_ingest_slack_without_a_channel_says_how_to_give_one(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings, ref: str) -> None:
    with pytest.raises(ConfigError, match="unquoted, a shell reads it as a comment"):
        await ingest_channel(kb, _bot_settings(settings, sandbox), ref)


def _bot_settings(settings: Settings, sandbox: Sandbox) -> Settings:
    return settings.model_copy(update={"slack_bot_token": sandbox.cfg.bot_token,
                                       "slack_api_url": sandbox.api_url})


async def test_ingest_slack_stores_mentions_links_and_entities_as_people_read_them(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                 text="<@U0BOB> the deploy runbook is <https://wiki.example/run|here> &amp; "
                      "ask in <#C0GENERAL|general> if <!here> is stuck &lt;3")
    await ingest_channel(kb, _bot_settings(settings, sandbox), "#general")
    (hit,) = await kb.search("deploy runbook", k=1)
    assert hit.text == ("@alice: @bob the deploy runbook is here (https://wiki.example/run) & "
                        "ask in #general if @here is stuck <3")
    assert hit.title.startswith("#general: @bob the deploy runbook is here (https://wiki")


async def test_ingest_slack_leaves_out_tandems_own_drafts(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    root = actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                        text="How long do we keep nightly database backups?")
    bot = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    await bot.chat_postMessage(channel="C0GENERAL", thread_ts=root,
                               text="Draft: backups are kept forever (rejected draft)")
    actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root,
                 text="Thirty days, then they roll off to cold storage.")
    await ingest_channel(kb, _bot_settings(settings, sandbox), "#general")
    (hit,) = await kb.search("nightly database backups retention", k=1)
    assert "Thirty days" in hit.text and "forever" not in hit.text


async def test_ingest_slack_leaves_out_asks_to_tandem_until_a_person_answers_them(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    settings = _bot_settings(settings, sandbox)
    ask = actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                       text="<@U0BOT> how much can I spend on meals when travelling?")
    bot = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    await bot.chat_postMessage(channel="C0GENERAL", thread_ts=ask,
                               text="Draft: meals are unlimited (not approved)")
    actions.post(sandbox, channel="C0GENERAL", user="U0BOB",
                 text="<@U0BOT> draft the release notes for 2.3")
    first = await ingest_channel(kb, settings, "#general")
    assert (first.added, await kb.search("spend on meals when travelling", k=5)) == (0, [])

    actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=ask,
                 text="Forty euros a day, with receipts.")
    second = await ingest_channel(kb, settings, "#general")
    (hit,) = await kb.search("spend on meals when travelling", k=1)
    assert second.added == 1
    assert hit.text == ("@alice: @tandem how much can I spend on meals when travelling?\n\n"
                        "@bob: Forty euros a day, with receipts.")


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(SandboxConfig(rate_scale=0.5, ack_timeout=1.0))  # Slack's limits, halved
    await sb.start()
    yield sb
    await sb.stop()


async def test_ingest_slack_paces_a_channel_longer_than_slacks_burst_instead_of_failing(
        slow_sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    # conversations.replies is Tier 3: 50 a minute, 25 at this scale. One call per thread.
    for i in range(27):
        root = actions.post(slow_sandbox, channel="C0GENERAL", user="U0ALICE",
                            text=f"Question {i} about the release train")
        actions.post(slow_sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root,
                     text=f"Answer {i}")
    report = await ingest_channel(kb, _bot_settings(settings, slow_sandbox), "#general",
                                  limiter=SlackLimiter(scale=0.5))
    assert report.added == 27


async def test_ingest_slack_with_a_refused_token_says_which_setting_to_fix(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    bad = settings.model_copy(update={"slack_bot_token": "xoxb-not-a-real-token",
                                      "slack_api_url": sandbox.api_url})
    with pytest.raises(ConfigError, match=r"Slack refused SLACK_BOT_TOKEN .*\(invalid_auth\)"):
        await ingest_channel(kb, bad, "#general")


async def test_ingest_slack_keeps_a_private_channels_threads_to_answers_in_that_channel(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    root = actions.post(sandbox, channel="C0LEADS", user="U0ALICE",
                        text="What is the hiring budget for Q3?")
    actions.post(sandbox, channel="C0LEADS", user="U0ALICE", thread_ts=root,
                 text="Four engineers and one designer, approved by finance.")
    report = await ingest_channel(kb, _bot_settings(settings, sandbox), "#leads")
    assert report.added == 1
    (doc,) = await kb.documents()
    assert doc.private_channel == "C0LEADS"
    (hit,) = await kb.search("hiring budget Q3", k=5, channel_id="C0LEADS")
    assert "Four engineers" in hit.text
    assert await kb.search("hiring budget Q3", k=5, channel_id="C0GENERAL") == []


async def test_ingest_slack_keeps_a_customers_shared_channel_to_answers_in_that_channel(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    actions.post(sandbox, channel="C0ACME", user="U0CAROL",
                 text="Our invoice INV-2291 was charged twice in November.")
    await ingest_channel(kb, _bot_settings(settings, sandbox), "#acme-shared")
    (doc,) = await kb.documents()
    assert doc.private_channel == "C0ACME"
    assert await kb.search("invoice charged twice", k=5, channel_id="C0SUPPORT") == []
    assert await kb.search("invoice charged twice", k=5, channel_id="C0ACME")


async def test_ingest_slack_of_a_channel_the_bot_is_not_in_says_to_invite_it_and_stores_nothing(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    settings = _bot_settings(settings, sandbox)
    for cid in ("C0LEADS", "C0SUPPORT"):
        actions.post(sandbox, channel=cid, user="U0ALICE", text="The VPN certificate expires.")
        sandbox.ws.channels[cid].members.remove("U0BOT")
    # A private channel is hidden from a bot outside it, by name or by ID.
    for ref in ("#leads", "C0LEADS"):
        with pytest.raises(ConfigError, match="private channel.*invite"):
            await ingest_channel(kb, settings, ref)
    with pytest.raises(ConfigError, match=r"not a member of #support: invite the bot with "
                                          r"`/invite @tandem`"):
        await ingest_channel(kb, settings, "#support")
    assert await kb.documents() == []


async def test_a_channel_ingested_into_two_collections_is_in_both_and_each_resyncs_alone(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                 text="The staging database is reset every Sunday night.")
    settings = _bot_settings(settings, sandbox)
    await ingest_channel(kb, settings, "#general")
    other = await ingest_channel(kb, settings, "#general", collection="ops")
    assert other.added == 1
    again = await ingest_channel(kb, settings, "#general")
    assert (again.unchanged, again.updated) == (1, 0)  # not moved back from "ops"
    for collection in ("slack", "ops"):
        (hit,) = await kb.search("staging database reset", k=1, collections=[collection])
        assert hit.collection == collection


def _replies_calls(sandbox: Sandbox) -> int:
    return sum(c["method"] == "conversations.replies" for c in sandbox.calls)


async def test_ingest_slack_rereads_only_threads_with_new_replies_or_an_edited_first_message(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    settings = _bot_settings(settings, sandbox)
    roots = [actions.post(sandbox, channel="C0GENERAL", user="U0ALICE", text=text) for text in (
        "Where do the VPN profiles live?", "Who approves prod deploys?",
        "Is the office open on Dec 26?")]
    for root in roots:
        actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root, text="Ask IT.")
    first = await ingest_channel(kb, settings, "#general")
    assert first.added == 3 and _replies_calls(sandbox) == 3

    actions.post(sandbox, channel="C0GENERAL", user="U0ALICE", thread_ts=roots[0],
                 text="They moved to the vault under it/vpn.")
    edited = sandbox.store.get_message("C0GENERAL", roots[1])
    assert edited is not None
    edited.update(text="Who approves production deploys on Fridays?",
                  edited={"user": "U0ALICE", "ts": "1800000000.000100"})
    sandbox.calls.clear()
    again = await ingest_channel(kb, settings, "#general")
    assert (again.updated, again.unchanged, again.added) == (2, 1, 0)
    assert _replies_calls(sandbox) == 2  # the untouched thread was not read again
    (hit,) = await kb.search("where are the vpn profiles kept", k=1)
    assert "it/vpn" in hit.text
    (hit,) = await kb.search("who approves production deploys on fridays", k=1)
    assert "Fridays" in hit.text

    sandbox.calls.clear()
    full = await ingest_channel(kb, settings, "#general", full=True)
    assert (full.unchanged, _replies_calls(sandbox)) == (3, 3)


async def test_ingest_slack_reads_a_thread_again_when_its_document_was_removed(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    settings = _bot_settings(settings, sandbox)
    root = actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                        text="The printer on floor 3 needs a badge tap.")
    actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root, text="Thanks!")
    await ingest_channel(kb, settings, "#general")
    await kb.delete(list(await kb.hashes()))
    again = await ingest_channel(kb, settings, "#general")
    assert again.added == 1
    assert await kb.search("printer badge tap floor 3", k=1)


async def test_ingest_slack_reads_every_thread_again_when_the_channel_is_renamed(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    # Its name is in every title, as its visibility is in every document's access rule:
    # a thread kept without reading must not keep either stale.
    settings = _bot_settings(settings, sandbox)
    actions.post(sandbox, channel="C0GENERAL", user="U0ALICE", text="Badges renew in March.")
    await ingest_channel(kb, settings, "#general")
    channel = sandbox.ws.channel("C0GENERAL")
    assert channel is not None
    channel.name = "town-square"
    again = await ingest_channel(kb, settings, "C0GENERAL")
    assert again.updated == 1
    (hit,) = await kb.search("when do badges renew", k=1)
    assert hit.title.startswith("#town-square: ")


async def test_a_thread_with_a_new_reply_embeds_only_the_chunk_that_changed(
        sandbox: Sandbox, kb: KnowledgeBase, settings: Settings) -> None:
    settings = _bot_settings(settings, sandbox)
    root = actions.post(sandbox, channel="C0GENERAL", user="U0ALICE",
                        text="Why did the nightly deploy fail again? " * 8)
    for n in range(6):
        actions.post(sandbox, channel="C0GENERAL", user="U0BOB", thread_ts=root,
                     text=f"Attempt {n}: the migration step timed out on the replica. " * 6)
    first = await ingest_channel(kb, settings, "#general")
    assert first.chunks >= 3 and first.embedded == first.chunks
    actions.post(sandbox, channel="C0GENERAL", user="U0ALICE", thread_ts=root,
                 text="Fixed: the replica's statement timeout was raised to five minutes.")
    again = await ingest_channel(kb, settings, "#general")
    assert again.updated == 1 and again.chunks >= 3
    assert again.embedded == 1  # the thread's earlier chunks kept their vectors
    (hit,) = await kb.search("what fixed the statement timeout on the replica", k=1)
    assert "five minutes" in hit.text
