"""A small async client for the sandbox control API, for end-to-end tests.

Acts as users (post, react, click, shortcut, command, submit, close, home) and
reads what the app did (messages, views, Web API calls). Every method raises
`SandboxError` when the sandbox answers `ok: false`, so a test never silently
acts on nothing. `wait_for` polls an async predicate, the one way tests should
wait for the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

__all__ = ["SandboxClient", "SandboxError"]

T = TypeVar("T")


class SandboxError(RuntimeError):
    def __init__(self, path: str, body: dict[str, Any]) -> None:
        super().__init__(f"{path}: {body.get('error')} {body.get('response_metadata', '')}")
        self.error = body.get("error")
        self.body = body


class SandboxClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    async def _call(self, verb: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base_url}/_sandbox/{path}"
        async with self.session.request(verb, url, **kwargs) as resp:
            body: dict[str, Any] = await resp.json()
        if not body.get("ok"):
            raise SandboxError(path, body)
        return body

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", path, json={k: v for k, v in payload.items()
                                                    if v is not None})

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return await self._call("GET", path, params={k: str(v) for k, v in params.items()
                                                     if v is not None})

    # acting as a user ---------------------------------------------------------------
    async def post(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> str:
        body = await self._post("post", {"channel": channel, "user": user, "text": text,
                                         "thread_ts": thread_ts})
        return str(body["ts"])

    async def edit(self, channel: str, ts: str, user: str, text: str) -> None:
        await self._post("edit", {"channel": channel, "ts": ts, "user": user, "text": text})

    async def react(self, channel: str, ts: str, user: str, name: str,
                    remove: bool = False) -> None:
        await self._post("react", {"channel": channel, "ts": ts, "user": user, "name": name,
                                   "remove": remove})

    async def click(self, user: str, action_id: str, *, channel: str | None = None,
                    ts: str | None = None, view_id: str | None = None,
                    value: str | None = None) -> dict[str, Any]:
        return await self._post("click", {"channel": channel, "ts": ts, "user": user,
                                          "action_id": action_id, "value": value,
                                          "view_id": view_id})

    async def shortcut(self, user: str, callback_id: str, *, channel: str | None = None,
                       ts: str | None = None) -> dict[str, Any]:
        return await self._post("shortcut", {"channel": channel, "ts": ts, "user": user,
                                             "callback_id": callback_id})

    async def command(self, channel: str, user: str, command: str,
                      text: str = "") -> dict[str, Any]:
        return await self._post("command", {"channel": channel, "user": user,
                                            "command": command, "text": text})

    async def submit(self, view_id: str, user: str,
                     values: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._post("submit", {"view_id": view_id, "user": user,
                                           "values": values or {}})

    async def close(self, view_id: str, user: str, clear: bool = False) -> dict[str, Any]:
        return await self._post("close", {"view_id": view_id, "user": user, "clear": clear})

    async def home(self, user: str) -> dict[str, Any]:
        return await self._post("home", {"user": user})

    async def reset(self) -> None:
        await self._post("reset", {})

    # reading what the app did -------------------------------------------------------
    async def messages(self, channel: str, thread_ts: str | None = None,
                       as_user: str | None = None) -> list[dict[str, Any]]:
        body = await self._get("messages", channel=channel, thread_ts=thread_ts,
                               as_user=as_user)
        return list(body["messages"])

    async def views(self, user: str) -> list[dict[str, Any]]:
        """Open modals of the user, bottom of the stack first (see `home_view`)."""
        return list((await self._get("views", user=user))["views"])

    async def home_view(self, user: str) -> dict[str, Any] | None:
        home: dict[str, Any] | None = (await self._get("views", user=user))["home"]
        return home

    async def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return list((await self._get("calls", method=method))["calls"])

    async def deliveries(self) -> list[dict[str, Any]]:
        return list((await self._get("deliveries"))["deliveries"])

    async def workspace(self) -> dict[str, Any]:
        return await self._get("workspace")

    async def wait_for(self, predicate: Callable[[], Awaitable[T]], timeout: float = 10,
                       interval: float = 0.05) -> T:
        """Poll `predicate` until it returns a truthy value; return that value.

        Raises TimeoutError naming the predicate when it never holds, so a failing
        end-to-end test says what it was waiting for.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = await predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                name = getattr(predicate, "__name__", repr(predicate))
                raise TimeoutError(f"wait_for({name}) still false after {timeout}s")
            await asyncio.sleep(interval)
