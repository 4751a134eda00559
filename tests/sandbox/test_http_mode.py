"""HTTP Events API mode: Slack's v0 signing, form-encoded interactivity, and retries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.server import Sandbox, SandboxConfig
from tests.support.sandbox_client import SandboxClient


class Receiver:
    """A real local endpoint that records what the sandbox POSTs and answers as told."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # popped per request; 200 when empty
        self.delay = 0.0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/slack/events", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/slack/events"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def http_sandbox(receiver: Receiver) -> AsyncIterator[Sandbox]:
    sb = Sandbox(SandboxConfig(request_url=receiver.url, ack_timeout=0.5, rate_scale=100))
    await sb.start()
    yield sb
    await sb.stop()


async def _wait(pred: Any, timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.05)):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError


async def test_signature_verifies_with_slack_verifier_and_tampering_fails(
        http_sandbox: Sandbox, receiver: Receiver, http: aiohttp.ClientSession) -> None:
    await SandboxClient(http_sandbox.url, http).post("general", "alice", "hello")
    await _wait(lambda: receiver.requests)
    headers, body = receiver.requests[0]
    verifier = SignatureVerifier(http_sandbox.cfg.signing_secret)
    assert verifier.is_valid_request(body, headers)
    assert json.loads(body)["event"]["text"] == "hello"
    assert not verifier.is_valid_request(body.replace(b"hello", b"hellO"), headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)


async def test_interactive_payload_is_form_encoded(http_sandbox: Sandbox, receiver: Receiver,
                                                   http: aiohttp.ClientSession) -> None:
    client = SandboxClient(http_sandbox.url, http)
    await client.command("general", "alice", "/tandem", "draft notes")
    headers, body = receiver.requests[-1]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(body.decode())
    assert form["command"] == ["/tandem"] and form["text"] == ["draft notes"]
    await client.shortcut("alice", "cb")
    payload = json.loads(parse_qs(receiver.requests[-1][1].decode())["payload"][0])
    assert payload["type"] == "shortcut" and payload["callback_id"] == "cb"


async def test_event_retried_with_retry_headers_on_http_error(
        http_sandbox: Sandbox, receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.statuses = [500, 503]
    await SandboxClient(http_sandbox.url, http).post("general", "alice", "retry me")
    await _wait(lambda: len(receiver.requests) >= 3)
    await asyncio.sleep(0.3)
    heads = [h for h, _ in receiver.requests]
    assert len(heads) == 3
    assert "X-Slack-Retry-Num" not in heads[0]
    assert [(h["X-Slack-Retry-Num"], h["X-Slack-Retry-Reason"]) for h in heads[1:]] == [
        ("1", "http_error"), ("2", "http_error")]
    bodies = {json.loads(b)["event_id"] for _, b in receiver.requests}
    assert len(bodies) == 1  # a retry is the same event, not a new one


async def test_event_retried_on_timeout_at_most_three_times(
        http_sandbox: Sandbox, receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.delay = 1.0  # longer than the sandbox's 0.5 s ack timeout
    await SandboxClient(http_sandbox.url, http).post("general", "alice", "slow")
    await _wait(lambda: len(receiver.requests) >= 4, timeout=8)
    await asyncio.sleep(0.7)
    heads = [h for h, _ in receiver.requests]
    assert len(heads) == 4
    assert {h["X-Slack-Retry-Reason"] for h in heads[1:]} == {"http_timeout"}


async def test_bolt_http_app_answers_mention(http: aiohttp.ClientSession) -> None:
    # Bolt's own aiohttp adapter verifies the signature; a bad one would get 401.
    sb = Sandbox(SandboxConfig(request_url=None, rate_scale=100))
    await sb.start()
    app = AsyncApp(token=sb.cfg.bot_token, signing_secret=sb.cfg.signing_secret,
                   client=AsyncWebClient(token=sb.cfg.bot_token, base_url=sb.api_url))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any) -> None:
        await say(text="on it", thread_ts=event["ts"])

    @app.event("message")
    async def on_message() -> None:
        return None

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    assert sb.delivery is not None
    sb.delivery.request_url = f"http://127.0.0.1:{port}/slack/events"
    try:
        client = SandboxClient(sb.url, http)
        ts = await client.post("general", "alice", "<@U0BOT> hi")

        async def replied() -> bool:
            return any(m["text"] == "on it" for m in await client.messages("general", ts))

        assert await client.wait_for(replied)
        statuses = [d for d in sb.delivery.log if d.get("retry_attempt")]
        assert statuses == []  # Bolt accepted every signed request first time
    finally:
        await runner.cleanup()
        await sb.stop()
