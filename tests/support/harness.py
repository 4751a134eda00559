"""An end-to-end harness: the sandbox workspace, a fake (or real) LLM, and the real bot.

`Harness.start()` wires Tandem's own `start_bot` to a sandbox on a free port,
in Socket Mode or HTTP mode, so every test drives the real Bolt app through
real HTTP and WebSocket. Helpers read drafts and final posts back the way a
person would see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.runner import Bot, start_bot
from bot.sandbox.server import Sandbox, SandboxConfig
from bot.settings import ChannelPolicy, Settings
from bot.slack.limiter import SlackLimiter
from tests.support.sandbox_client import SandboxClient

__all__ = ["Harness", "button_values", "text_of"]


def text_of(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: text plus block texts."""
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"].get("text") or "")
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                parts.append(element["text"])
            elif isinstance(element, dict) and isinstance(element.get("text"), dict):
                parts.append(element["text"].get("text") or "")
    return "\n".join(parts)


def button_values(message: dict[str, Any]) -> dict[str, str]:
    found = {}
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found[accessory["action_id"]] = accessory.get("value", "")
    return found


@dataclass
class Harness:
    tmp: Path
    llm_url: str
    llm_model: str = "fake-model"
    mode: str = "socket"  # socket | http
    channels: dict[str, ChannelPolicy] = field(default_factory=dict)
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    rate_limits: bool = False
    rate_scale: float = 1.0
    bot_limiter: bool | None = None  # None: same as rate_limits
    ack_timeout: float = 3.0
    with_kb: bool = False
    sandbox: Sandbox | None = None
    bot: Bot | None = None
    session: aiohttp.ClientSession | None = None
    slack: SandboxClient | None = None

    async def start(self) -> Harness:
        self.session = aiohttp.ClientSession()
        http_port = _free_port()
        request_url = f"http://127.0.0.1:{http_port}/slack/events" if self.mode == "http" else None
        self.sandbox = Sandbox(SandboxConfig(db_path=self.tmp / "sandbox.sqlite",
                                             rate_limits=self.rate_limits,
                                             rate_scale=self.rate_scale,
                                             request_url=request_url,
                                             ack_timeout=self.ack_timeout))
        await self.sandbox.start()
        self.slack = SandboxClient(self.sandbox.url, self.session)
        await self.start_bot(http_port)
        return self

    def settings(self, http_port: int) -> Settings:
        channels = {"support": ChannelPolicy(support=True),
                    "acme-shared": ChannelPolicy(support=True, review_channel="#reviews"),
                    **self.channels}
        assert self.sandbox is not None
        values: dict[str, Any] = {
            "slack_bot_token": "xoxb-sandbox", "slack_api_url": self.sandbox.api_url,
            "tandem_llm_base_url": self.llm_url, "tandem_llm_model": self.llm_model,
            "tandem_db_url": f"sqlite:///{self.tmp / 'tandem.sqlite'}",
            "tandem_data_dir": self.tmp, "tandem_http_port": http_port, "channels": channels,
            "stream_update_interval": 0.05}
        if self.mode == "socket":
            values["slack_app_token"] = "xapp-sandbox"
        else:
            values["slack_signing_secret"] = "sandbox-secret"
        values.update(self.settings_overrides)
        return Settings(**values)

    async def start_bot(self, http_port: int | None = None) -> Bot:
        port = http_port or _free_port()
        if self.sandbox is not None and self.mode == "http":
            self.sandbox.cfg.request_url = f"http://127.0.0.1:{port}/slack/events"
        self.bot = await start_bot(self.settings(port),
                                   limiter=SlackLimiter(
                                       enabled=self.rate_limits if self.bot_limiter is None
                                       else self.bot_limiter, scale=self.rate_scale),
                                   with_kb=self.with_kb)
        return self.bot

    async def restart_bot(self) -> Bot:
        assert self.bot is not None
        await self.bot.stop()
        return await self.start_bot()

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        if self.sandbox is not None:
            await self.sandbox.stop()
        if self.session is not None:
            await self.session.close()

    # ---- reading the workspace as a person would ------------------------------
    async def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        assert self.slack is not None
        return await self.slack.messages(channel, thread_ts=ts)

    async def wait_draft(self, channel: str, thread_ts: str | None, timeout: float = 10,
                         *, or_failed: bool = False) -> dict[str, Any]:
        """The newest finished draft (with review buttons) in a thread or channel; with
        `or_failed`, a draft that failed (Retry button) also ends the wait."""
        assert self.slack is not None
        slack = self.slack

        def settled(m: dict[str, Any]) -> bool:
            buttons = button_values(m)
            return not m.get("streaming") and (
                "tandem_approve" in buttons or (or_failed and "tandem_retry" in buttons))

        async def ready() -> dict[str, Any] | None:
            messages = await slack.messages(channel, thread_ts=thread_ts)
            drafts = [m for m in messages if settled(m)]
            return drafts[-1] if drafts else None

        return await slack.wait_for(ready, timeout=timeout)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
