"""Socket Mode protocol: hello, acks with payloads, redelivery on missing acks, pings."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from bot.sandbox.server import Sandbox
from tests.sandbox.raw_socket import RawSocket
from tests.support.sandbox_client import SandboxClient


async def test_unacked_event_redelivered_three_times_with_timeout_reason(
        sandbox: Sandbox, http: aiohttp.ClientSession, client: SandboxClient) -> None:
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    sock.auto_ack = False
    await sock.connect()
    await client.post("general", "alice", "nobody acks this")

    async def four() -> bool:
        return len(sock.of("events_api")) >= 4

    await client.wait_for(four, timeout=8)
    await asyncio.sleep(sandbox.cfg.ack_timeout + 0.3)
    frames = sock.of("events_api")
    assert [(f["retry_attempt"], f["retry_reason"]) for f in frames] == [
        (0, ""), (1, "timeout"), (2, "timeout"), (3, "timeout")]
    assert len({f["payload"]["event_id"] for f in frames}) == 1
    assert len({f["envelope_id"] for f in frames}) == 4
    await sock.close()


async def test_acked_event_not_redelivered(sandbox: Sandbox, http: aiohttp.ClientSession,
                                           client: SandboxClient) -> None:
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    await sock.connect()
    await client.post("general", "alice", "acked")
    await asyncio.sleep(sandbox.cfg.ack_timeout + 0.3)
    assert [f["retry_attempt"] for f in sock.of("events_api")] == [0]
    await sock.close()


async def test_connections_open_needs_app_token(sandbox: Sandbox,
                                                http: aiohttp.ClientSession) -> None:
    for token, error in ((sandbox.cfg.bot_token, "invalid_auth"), (None, "not_authed")):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with http.post(sandbox.api_url + "apps.connections.open", headers=headers) as r:
            assert (r.status, (await r.json())["error"]) == (200, error)


async def test_socket_answers_ping_and_sends_hello(sandbox: Sandbox,
                                                   http: aiohttp.ClientSession) -> None:
    async with http.post(sandbox.api_url + "apps.connections.open",
                         headers={"Authorization": f"Bearer {sandbox.cfg.app_token}"}) as r:
        url = (await r.json())["url"]
    assert url.startswith("ws://127.0.0.1:")
    async with http.ws_connect(url, autoping=False) as ws:
        hello = json.loads((await ws.receive(timeout=2)).data)
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == "A0TANDEM"
        await ws.ping(b"are-you-there")
        pong = await ws.receive(timeout=2)
        assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"are-you-there")


async def test_unacked_click_is_not_retried(sandbox: Sandbox, http: aiohttp.ClientSession,
                                            client: SandboxClient) -> None:
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    sock.auto_ack = False
    await sock.connect()
    result = await client.command("general", "alice", "/tandem", "x")
    await asyncio.sleep(0.3)
    assert result["acked"] is False
    assert len(sock.of("slash_commands")) == 1
    await sock.close()


async def test_slash_command_ack_payload_shown_as_ephemeral(
        sandbox: Sandbox, http: aiohttp.ClientSession, client: SandboxClient) -> None:
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    sock.ack_payloads[""] = {"text": "Working on it"}  # slash payloads have no "type"
    await sock.connect()
    await client.command("general", "alice", "/tandem", "x")
    mine = await client.messages("general", as_user="alice")
    assert [(m["text"], m["ephemeral_for"]) for m in mine] == [("Working on it", "U0ALICE")]
    assert await client.messages("general", as_user="bob") == []
    await sock.close()
