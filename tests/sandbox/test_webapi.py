"""The Web API through slack_sdk's AsyncWebClient: shapes, validation errors, streams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import payloads
from bot.sandbox.server import Sandbox
from tests.support.sandbox_client import SandboxClient, SandboxError


@pytest.fixture
async def web(sandbox: Sandbox) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)


async def _error(coro: object) -> tuple[str, dict[str, object]]:
    with pytest.raises(SlackApiError) as info:
        await coro  # type: ignore[misc]
    return info.value.response["error"], dict(info.value.response.data)


async def test_auth_test_identifies_bot(web: AsyncWebClient) -> None:
    me = await web.auth_test()
    assert (me["user_id"], me["bot_id"], me["team_id"]) == ("U0BOT", "B0BOT", "T0TANDEM")


async def test_bad_token_gives_invalid_auth(sandbox: Sandbox) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.api_url)
    assert (await _error(bad.auth_test()))[0] == "invalid_auth"
    anon = AsyncWebClient(base_url=sandbox.api_url)
    assert (await _error(anon.auth_test()))[0] == "not_authed"


async def test_post_update_history_replies_roundtrip(web: AsyncWebClient) -> None:
    parent = await web.chat_postMessage(channel="C0GENERAL", text="parent")
    reply = await web.chat_postMessage(channel="C0GENERAL", text="child",
                                       thread_ts=parent["ts"])
    await web.chat_update(channel="C0GENERAL", ts=reply["ts"], text="child v2")
    history = await web.conversations_history(channel="C0GENERAL")
    assert [m["text"] for m in history["messages"]] == ["parent"]
    assert history["messages"][0]["reply_count"] == 1
    replies = await web.conversations_replies(channel="C0GENERAL", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "child v2"]
    assert replies["messages"][1]["edited"]["user"] == "U0BOT"
    assert replies["messages"][1]["blocks"][0]["type"] == "rich_text"


async def test_message_metadata_is_listed_only_when_asked_for(web: AsyncWebClient) -> None:
    parent = await web.chat_postMessage(channel="C0GENERAL", text="parent")
    metadata = {"event_type": "task_done", "event_payload": {"id": "t1", "part": 0}}
    await web.chat_postMessage(channel="C0GENERAL", text="child", thread_ts=parent["ts"],
                               metadata=metadata)
    plain = await web.conversations_replies(channel="C0GENERAL", ts=parent["ts"])
    assert all("metadata" not in m for m in plain["messages"])
    full = await web.conversations_replies(channel="C0GENERAL", ts=parent["ts"],
                                           include_all_metadata=True)
    assert full["messages"][1]["metadata"] == metadata
    top = await web.chat_postMessage(channel="C0GENERAL", text="top", metadata=metadata)
    history = await web.conversations_history(channel="C0GENERAL")
    assert all("metadata" not in m for m in history["messages"])
    history = await web.conversations_history(channel="C0GENERAL", include_all_metadata=True)
    assert [m.get("metadata") for m in history["messages"] if m["ts"] == top["ts"]] == \
        [metadata]


async def test_unknown_channel_and_not_in_channel(web: AsyncWebClient, sandbox: Sandbox) -> None:
    assert (await _error(web.chat_postMessage(channel="C0NOPE", text="x")))[0] == \
        "channel_not_found"
    sandbox.ws.channels["C0REVIEWS"].members.remove("U0BOT")
    assert (await _error(web.chat_postMessage(channel="C0REVIEWS", text="x")))[0] == \
        "not_in_channel"


async def test_a_private_channel_is_listed_and_readable_only_while_the_bot_is_a_member(
        web: AsyncWebClient, sandbox: Sandbox, client: SandboxClient) -> None:
    ts = await client.post("leads", "alice", "Headcount plan for Q3")
    public = {c["name"] for c in (await web.conversations_list())["channels"]}
    both = {c["name"]: c for c in (await web.conversations_list(
        types="public_channel,private_channel"))["channels"]}
    assert "leads" not in public and both["leads"]["is_private"] is True
    history = await web.conversations_history(channel="C0LEADS")
    assert [m["ts"] for m in history["messages"]] == [ts]
    # bob is not a member: to him the channel does not exist, as in Slack.
    with pytest.raises(SandboxError) as refused:
        await client.post("leads", "bob", "let me in")
    assert refused.value.error == "channel_not_found"
    event = payloads.message_event({"type": "message", "ts": ts, "channel": "C0LEADS"},
                                   ws=sandbox.ws)
    assert event["channel_type"] == "group"  # Slack's type for a private channel's events

    sandbox.ws.channels["C0LEADS"].members.remove("U0BOT")
    for call in (web.conversations_info(channel="C0LEADS"),
                 web.conversations_history(channel="C0LEADS"),
                 web.conversations_replies(channel="C0LEADS", ts=ts),
                 web.chat_postMessage(channel="C0LEADS", text="x")):
        assert (await _error(call))[0] == "channel_not_found"
    listed = {c["name"] for c in (await web.conversations_list(
        types="public_channel,private_channel"))["channels"]}
    assert "leads" not in listed


async def test_invalid_blocks_explain_why(web: AsyncWebClient) -> None:
    too_many = [{"type": "divider"}] * 51
    error, body = await _error(web.chat_postMessage(channel="C0GENERAL", text="x",
                                                    blocks=too_many))
    assert error == "invalid_blocks"
    assert "no more than 50 items" in str(body["response_metadata"])
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}]
    assert (await _error(web.chat_postMessage(channel="C0GENERAL", text="x",
                                              blocks=long_section)))[0] == "invalid_blocks"
    big_value = [{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                  "value": "v" * 2001, "text": {"type": "plain_text", "text": "b"}}]}]
    assert (await _error(web.chat_postMessage(channel="C0GENERAL", text="x",
                                              blocks=big_value)))[0] == "invalid_blocks"
    header = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    assert (await _error(web.chat_postMessage(channel="C0GENERAL", text="x",
                                              blocks=header)))[0] == "invalid_blocks"


async def test_long_text_is_msg_too_long(web: AsyncWebClient) -> None:
    assert (await _error(web.chat_postMessage(channel="C0GENERAL", text="x" * 4001)))[0] == \
        "msg_too_long"


async def test_update_of_others_message_refused(web: AsyncWebClient,
                                                client: SandboxClient) -> None:
    ts = await client.post("general", "alice", "mine")
    assert (await _error(web.chat_update(channel="C0GENERAL", ts=ts, text="x")))[0] == \
        "cant_update_message"
    assert (await _error(web.chat_update(channel="C0GENERAL", ts="1.000001", text="x")))[0] \
        == "message_not_found"


async def test_reactions_errors_and_get(web: AsyncWebClient, client: SandboxClient) -> None:
    ts = await client.post("general", "alice", "react to me")
    await web.reactions_add(channel="C0GENERAL", timestamp=ts, name="eyes")
    assert (await _error(web.reactions_add(channel="C0GENERAL", timestamp=ts,
                                           name="eyes")))[0] == "already_reacted"
    got = await web.reactions_get(channel="C0GENERAL", timestamp=ts)
    assert got["message"]["reactions"] == [{"name": "eyes", "users": ["U0BOT"], "count": 1}]
    await web.reactions_remove(channel="C0GENERAL", timestamp=ts, name="eyes")
    assert (await _error(web.reactions_remove(channel="C0GENERAL", timestamp=ts,
                                              name="eyes")))[0] == "no_reaction"


async def test_views_open_needs_fresh_trigger(web: AsyncWebClient, sandbox: Sandbox) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    assert (await _error(web.views_open(trigger_id="nope", view=view)))[0] == \
        "invalid_trigger_id"
    trigger = sandbox.new_trigger("U0ALICE")
    sandbox.triggers[trigger] -= 3.5  # issued 3.5 s ago: past Slack's 3 s window
    assert (await _error(web.views_open(trigger_id=trigger, view=view)))[0] == \
        "expired_trigger_id"
    bad = {"type": "modal", "blocks": []}
    assert (await _error(web.views_open(trigger_id=sandbox.new_trigger("U0ALICE"),
                                        view=bad)))[0] == "invalid_arguments"


async def test_views_publish_home_visible_to_user(web: AsyncWebClient,
                                                  client: SandboxClient) -> None:
    home = {"type": "home", "blocks": [{"type": "section",
                                        "text": {"type": "mrkdwn", "text": "Hi"}}]}
    first = await web.views_publish(user_id="U0ALICE", view=home)
    again = await web.views_publish(user_id="U0ALICE", view=home)
    assert first["view"]["id"] == again["view"]["id"]
    assert (await client.home_view("alice"))["blocks"][0]["text"]["text"] == "Hi"


async def test_users_channels_groups(web: AsyncWebClient) -> None:
    carol = (await web.users_info(user="U0CAROL"))["user"]
    assert carol["team_id"] == "T0ACME"
    shared = (await web.conversations_info(channel="C0ACME"))["channel"]
    assert shared["is_ext_shared"] is True
    members = (await web.conversations_members(channel="C0ACME"))["members"]
    assert "U0CAROL" in members and "U0BOT" in members
    assert (await web.usergroups_users_list(usergroup="S0REVIEWERS"))["users"] == ["U0BOB"]
    names = {c["name"] for c in (await web.conversations_list())["channels"]}
    assert names == {"general", "support", "acme-shared", "reviews"}
    assert len((await web.users_list())["members"]) == 4


async def test_chat_stream_streams_then_finishes(web: AsyncWebClient,
                                                 client: SandboxClient) -> None:
    ts = await client.post("general", "alice", "<@U0BOT> write it")
    streamer = await web.chat_stream(channel="C0GENERAL", thread_ts=ts, buffer_size=8,
                                     recipient_user_id="U0ALICE", recipient_team_id="T0TANDEM")
    await streamer.append(markdown_text="Hello ")
    await streamer.append(markdown_text="streaming world")  # flushes: chat.startStream
    await streamer.append(markdown_text=", and more")  # flushes: chat.appendStream
    live = [m for m in await client.messages("general", thread_ts=ts) if m["bot_id"]]
    assert live[0]["streaming"] is True and live[0]["text"].startswith("Hello")
    buttons = [{"type": "actions", "elements": [{"type": "button", "action_id": "ok",
                                                 "text": {"type": "plain_text", "text": "OK"}}]}]
    await streamer.stop(blocks=buttons)
    done = [m for m in await client.messages("general", thread_ts=ts) if m["bot_id"]][0]
    assert done["streaming"] is False
    assert done["text"] == "Hello streaming world, and more"
    assert done["blocks"][-1]["elements"][0]["action_id"] == "ok"
    await web.chat_update(channel="C0GENERAL", ts=done["ts"], text="final")
    calls = {c["method"] for c in await client.calls()}
    assert {"chat.startStream", "chat.appendStream", "chat.stopStream"} <= calls


async def test_stream_in_channel_needs_recipient(web: AsyncWebClient,
                                                 client: SandboxClient) -> None:
    ts = await client.post("general", "alice", "hi")
    error = (await _error(web.chat_startStream(channel="C0GENERAL", thread_ts=ts,
                                               markdown_text="x")))[0]
    assert error == "invalid_arguments"


async def test_calls_log_records_status_and_error(web: AsyncWebClient,
                                                  client: SandboxClient) -> None:
    await web.auth_test()
    await _error(web.chat_postMessage(channel="C0NOPE", text="x"))
    calls = await client.calls("chat.postMessage")
    assert [(c["status"], c["ok"], c["error"]) for c in calls] == [
        (200, False, "channel_not_found")]
    assert calls[0]["args"] == {"channel": "C0NOPE", "text": "x"}


async def test_garbage_body_is_slack_error_not_500(sandbox: Sandbox,
                                                   http: aiohttp.ClientSession) -> None:
    async with http.post(sandbox.api_url + "chat.postMessage", data=b"{not json",
                         headers={"Authorization": "Bearer xoxb-sandbox",
                                  "Content-Type": "application/json"}) as r:
        assert r.status == 200
        assert (await r.json())["ok"] is False
