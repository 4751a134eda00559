"""Control API semantics, response_urls, live updates and persistence across restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.server import Sandbox, SandboxConfig
from tests.sandbox.raw_socket import RawSocket
from tests.support.sandbox_client import SandboxClient, SandboxError

BUTTON = [{"type": "actions", "block_id": "b", "elements": [
    {"type": "button", "action_id": "go", "value": "1",
     "text": {"type": "plain_text", "text": "Go"}}]}]


async def test_names_and_ids_resolve_to_same_channel(client: SandboxClient) -> None:
    await client.post("#general", "@alice", "one")
    await client.post("C0GENERAL", "U0ALICE", "two")
    await client.post("general", "alice", "three")
    assert [m["text"] for m in await client.messages("general")] == ["one", "two", "three"]
    dm_ts = await client.post("dm:bob", "bob", "private")
    assert [m["ts"] for m in await client.messages("D0BOB")] == [dm_ts]


async def test_outsider_cannot_post_in_internal_channel(client: SandboxClient) -> None:
    try:
        await client.post("general", "carol", "let me in")
    except SandboxError as exc:
        assert exc.error == "not_in_channel"
    else:
        raise AssertionError("carol posted in #general")


async def test_external_user_message_carries_her_team(sandbox: Sandbox, client: SandboxClient,
                                                      http: aiohttp.ClientSession) -> None:
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    await sock.connect()
    await client.post("acme-shared", "carol", "my invoice is wrong")

    async def got() -> bool:
        return bool(sock.of("events_api", type="message"))

    await client.wait_for(got)
    body = sock.of("events_api", type="message")[0]["payload"]
    assert (body["event"]["team"], body["event"]["user_team"]) == ("T0ACME", "T0ACME")
    assert body["is_ext_shared_channel"] is True
    await sock.close()


async def test_ephemeral_click_and_response_url_replace(sandbox: Sandbox, client: SandboxClient,
                                                        http: aiohttp.ClientSession) -> None:
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    await sock.connect()
    web = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    eph = await web.chat_postEphemeral(channel="C0GENERAL", user="U0ALICE", text="choose",
                                       blocks=BUTTON)
    assert await client.messages("general", as_user="bob") == []
    await client.click("alice", "go", channel="general", ts=eph["message_ts"])
    payload = sock.of("interactive", type="block_actions")[0]["payload"]
    assert payload["container"]["is_ephemeral"] is True
    async with http.post(payload["response_url"],
                         json={"replace_original": True, "text": "done"}) as r:
        assert (await r.json())["ok"] is True
    mine = await client.messages("general", as_user="alice")
    assert [(m["text"], m["ephemeral_for"]) for m in mine] == [("done", "U0ALICE")]
    async with http.post(payload["response_url"],
                         json={"response_type": "in_channel", "text": "for all"}) as r:
        assert (await r.json())["ok"] is True
    assert [m["text"] for m in await client.messages("general")] == ["for all"]
    await sock.close()


async def test_updates_stream_reports_channel_changes(sandbox: Sandbox, client: SandboxClient,
                                                      http: aiohttp.ClientSession) -> None:
    async with http.get(sandbox.url + "/_sandbox/updates") as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        await resp.content.readline()  # ": connected"
        await client.post("support", "bob", "ping")
        events = []
        while not events:
            line = (await asyncio.wait_for(resp.content.readline(), 2)).decode().strip()
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[0] == {"type": "changed", "channel": "C0SUPPORT"}


async def test_history_survives_restart(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    db = tmp_path / "sandbox.db"
    first = Sandbox(SandboxConfig(db_path=db, rate_limits=False))
    await first.start()
    ts = await SandboxClient(first.url, http).post("general", "alice", "remember me")
    await SandboxClient(first.url, http).react("general", ts, "bob", "eyes")
    await first.stop()

    second = Sandbox(SandboxConfig(db_path=db, rate_limits=False))
    await second.start()
    try:
        client = SandboxClient(second.url, http)
        msgs = await client.messages("general")
        assert [(m["ts"], m["text"]) for m in msgs] == [(ts, "remember me")]
        assert msgs[0]["reactions"][0]["users"] == ["U0BOB"]
        newer = await client.post("general", "alice", "after restart")
        assert float(newer) > float(ts)
    finally:
        await second.stop()


async def test_workspace_lists_seeded_ids(client: SandboxClient) -> None:
    ws = await client.workspace()
    assert ws["team"]["id"] == "T0TANDEM" and ws["bot"]["user_id"] == "U0BOT"
    assert {c["id"] for c in ws["channels"]} >= {"C0GENERAL", "C0SUPPORT", "C0ACME",
                                                 "C0REVIEWS"}
    assert {u["name"] for u in ws["users"]} == {"alice", "bob", "carol", "tandem"}
