"""The directory's cache: concurrent lookups of one user or channel share one Web API call."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.directory import Directory


class SlowClient:
    """Answers users.info / conversations.info once `release` is set, counting the calls."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.release = asyncio.Event()
        self.fail = fail

    async def _answer(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(method)
        await self.release.wait()
        if self.fail:
            raise SlackApiError("no", AsyncSlackResponse(
                client=None, http_verb="POST", api_url=method, req_args={},  # type: ignore[arg-type]
                data={"ok": False, "error": "internal_error"}, headers={}, status_code=200))
        return data

    async def users_info(self, *, user: str) -> dict[str, Any]:
        return await self._answer("users.info", {"user": {
            "id": user, "team_id": "T1", "profile": {"display_name": "Alice"}}})

    async def conversations_info(self, *, channel: str) -> dict[str, Any]:
        return await self._answer("conversations.info", {"channel": {
            "id": channel, "name": "general", "is_ext_shared": True}})


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_burst_of_lookups_of_one_channel_and_user_sends_one_call_each() -> None:
    client = SlowClient()
    directory = Directory(client, team_id="T1")  # type: ignore[arg-type]
    lookups = [asyncio.ensure_future(directory.channel("C1")) for _ in range(20)]
    lookups += [asyncio.ensure_future(directory.user("U1")) for _ in range(20)]
    await _settle()
    client.release.set()
    results = await asyncio.gather(*lookups)
    assert sorted(client.calls) == ["conversations.info", "users.info"]
    assert {r.name for r in results} == {"general", "Alice"}
    assert all(r.is_shared for r in results[:20])
    assert (await directory.channel("C1")).name == "general"  # cached: no further call
    assert len(client.calls) == 2


async def test_a_cancelled_lookup_does_not_cancel_the_others_sharing_its_call() -> None:
    client = SlowClient()
    directory = Directory(client, team_id="T1")  # type: ignore[arg-type]
    first = asyncio.ensure_future(directory.user("U1"))
    second = asyncio.ensure_future(directory.user("U1"))
    await _settle()
    first.cancel()
    await _settle()
    client.release.set()
    assert (await second).name == "Alice"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert client.calls == ["users.info"]


async def test_a_failed_lookup_falls_back_and_is_tried_again_next_time() -> None:
    client = SlowClient(fail=True)
    client.release.set()
    directory = Directory(client, team_id="T1")  # type: ignore[arg-type]
    fallback = await directory.channel("C9")
    assert (fallback.name, fallback.is_shared) == ("C9", False)
    client.fail = False
    assert (await directory.channel("C9")).name == "general"
    assert client.calls == ["conversations.info", "conversations.info"]


async def test_a_lookup_that_fails_after_all_its_callers_left_reports_no_lost_error() -> None:
    client = SlowClient()

    async def broken(**_: str) -> dict[str, Any]:
        await client.release.wait()
        raise OSError("connection reset")

    client.users_info = broken  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        directory = Directory(client, team_id="T1")  # type: ignore[arg-type]
        caller = asyncio.ensure_future(directory.user("U1"))
        await _settle()
        caller.cancel()
        await _settle()
        client.release.set()
        await _settle()
        del caller
        gc.collect()
        await _settle()
    finally:
        loop.set_exception_handler(None)
    assert not [c for c in reported if "never retrieved" in str(c.get("message"))], reported
    assert not directory._inflight  # the next lookup tries again
