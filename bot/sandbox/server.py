"""The sandbox Slack workspace as one aiohttp server: Web API, Socket Mode, control API, UI.

`Sandbox` owns the state (workspace, store, rate limiter, delivery) and the
routes; the handlers live in their own modules (`api*`, `actions`, `control`)
and receive the Sandbox. It can run alone (`tandem sandbox`) or in-process in
the same event loop as the app under test.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.ports import SANDBOX_PORT_CHANGE, listen
from bot.sandbox import api, control
from bot.sandbox.delivery import Delivery, DeliveryResult
from bot.sandbox.ratelimit import RateLimiter
from bot.sandbox.store import SandboxStore
from bot.sandbox.workspace import Workspace

__all__ = ["Sandbox", "SandboxConfig"]

STATIC_DIR = Path(__file__).parent / "static"
TRIGGER_TTL = 3.0  # seconds a trigger_id stays valid, as in Slack


@dataclass
class SandboxConfig:
    db_path: Path | None = None
    bot_token: str = "xoxb-sandbox"
    app_token: str = "xapp-sandbox"
    signing_secret: str = "sandbox-secret"
    rate_limits: bool = True
    rate_scale: float = 1.0
    request_url: str | None = None
    ack_timeout: float = 3.0
    host: str = "127.0.0.1"
    port: int = 0


class Sandbox:
    def __init__(self, cfg: SandboxConfig | None = None) -> None:
        self.cfg = cfg or SandboxConfig()
        self.ws = Workspace()
        self.store = SandboxStore(self.cfg.db_path)
        self.limiter = RateLimiter(scale=self.cfg.rate_scale)
        self.calls: list[dict[str, Any]] = []
        self.triggers: dict[str, float] = {}
        self.trigger_users: dict[str, str] = {}
        self.response_urls: dict[str, dict[str, Any]] = {}
        self.statuses: dict[tuple[str, str], str] = {}  # assistant.threads.setStatus
        self.url = ""
        self.api_url = ""
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.delivery: Delivery | None = None
        for cid in list(self.store.messages):  # re-create the DMs a restart brought back
            self.ws.channel(cid)

    # lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.delivery = Delivery(session=self._session, signing_secret=self.cfg.signing_secret,
                                 request_url=self.cfg.request_url, ack_timeout=self.cfg.ack_timeout)
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", functools.partial(api.handle, self))
        app.router.add_get("/socket/{ticket}", self._socket)
        control.add_routes(self, app)
        app.router.add_get("/", self._index)
        if STATIC_DIR.is_dir():
            app.router.add_static("/static/", STATIC_DIR)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            port = await listen(self._runner, self.cfg.host, self.cfg.port, what="the sandbox",
                                change=SANDBOX_PORT_CHANGE)
        except BaseException:
            self._runner = None
            await self._session.close()
            raise
        self.url = f"http://{self.cfg.host}:{port}"
        self.api_url = self.url + "/api/"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for queue in list(self._subscribers):
            queue.put_nowait({"type": "closed"})
        if self.delivery:
            for sock in list(self.delivery.sockets):
                await sock.close()
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()
        self.store.close()

    # helpers shared by the handler modules ------------------------------------------
    def new_trigger(self, user: str) -> str:
        tid = f"{int(time.time() * 1000)}.{secrets.randbelow(10**9)}.{secrets.token_hex(8)}"
        now = time.monotonic()
        for old in [t for t, issued in self.triggers.items() if now - issued > 60]:
            del self.triggers[old], self.trigger_users[old]  # long expired; keep the maps small
        self.triggers[tid] = now
        self.trigger_users[tid] = user
        return tid

    def trigger_error(self, trigger_id: str | None) -> str | None:
        issued = self.triggers.get(trigger_id or "")
        if issued is None:
            return "invalid_trigger_id"
        return "expired_trigger_id" if time.monotonic() - issued > TRIGGER_TTL else None

    def new_response_url(self, context: dict[str, Any]) -> str:
        key = secrets.token_urlsafe(12)
        self.response_urls[key] = context
        return f"{self.url}/_sandbox/response/{key}"

    def notify(self, *, channel: str | None = None, user: str | None = None) -> None:
        event = {"type": "changed", "channel": channel} if channel else {"type": "views",
                                                                          "user": user}
        for queue in self._subscribers:
            queue.put_nowait(event)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def deliver(self, kind: str, payload: dict[str, Any]) -> DeliveryResult:
        assert self.delivery is not None, "Sandbox.start() first"
        return await self.delivery.send(kind, payload)

    async def deliver_events(self, payloads: list[dict[str, Any]]) -> None:
        # One task per user action so its events arrive in order (message before app_mention).
        for payload in payloads:
            await self.deliver("events_api", payload)

    # routes ------------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.StreamResponse:
        assert self.delivery is not None
        sock = web.WebSocketResponse(autoping=True, heartbeat=None)
        await sock.prepare(request)
        self.delivery.sockets.append(sock)
        await sock.send_str(json.dumps({
            "type": "hello", "num_connections": len(self.delivery.sockets),
            "debug_info": {"host": "sandbox", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0TANDEM"}}))
        try:
            async for msg in sock:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    try:
                        data = json.loads(msg.data)
                    except ValueError:
                        continue
                    if isinstance(data, dict) and "envelope_id" in data:
                        self.delivery.on_ack(data)
        finally:
            self.delivery.sockets.remove(sock)
        return sock

    async def _index(self, _request: web.Request) -> web.StreamResponse:
        index = STATIC_DIR / "index.html"
        if index.is_file():
            return web.FileResponse(index)
        return web.Response(text="<h1>Tandem sandbox</h1><p>UI not built.</p>",
                            content_type="text/html")

    async def updates(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            await resp.write(b": connected\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await resp.write(b": keepalive\n\n")
                    continue
                if event.get("type") == "closed":
                    break
                await resp.write(f"data: {json.dumps(event)}\n\n".encode())
        except ConnectionResetError:
            pass  # the browser went away; nothing to clean up beyond the queue
        finally:
            self._subscribers.discard(queue)
        return resp
