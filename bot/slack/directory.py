"""Cached facts about users, channels and user groups, read from the Web API.

Names and channel kinds rarely change, so each is fetched once per process
(members with a short TTL): a burst of drafts costs no extra Tier 2/3 calls.
Concurrent lookups of the same thing share one request: 200 asks arriving
together used to send about 100 users.info and conversations.info calls
before the first answer filled the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

from bot.slack.client import LimitedWebClient

log = logging.getLogger(__name__)

__all__ = ["ChannelInfo", "Directory", "UserInfo"]

T = TypeVar("T")


@dataclass(frozen=True)
class UserInfo:
    id: str
    name: str
    team_id: str
    is_bot: bool = False


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    is_im: bool = False
    is_shared: bool = False  # Slack Connect: people from other organisations can read it
    is_private: bool = False

    @classmethod
    def from_api(cls, c: dict[str, Any]) -> ChannelInfo:
        """From a conversation object (`conversations.info`, `conversations.list`)."""
        return cls(str(c["id"]), str(c.get("name") or c["id"]), bool(c.get("is_im")),
                   bool(c.get("is_ext_shared") or c.get("is_shared") or c.get("is_org_shared")),
                   bool(c.get("is_private") or c.get("is_group")))

    @property
    def confined(self) -> bool:
        """What is said here may be shown only here: a DM, a private channel, or one
        shared with another organisation (a customer's conversation)."""
        return self.is_im or self.is_private or self.is_shared


class Directory:
    def __init__(self, client: LimitedWebClient, *, team_id: str,
                 members_ttl: float = 60.0) -> None:
        self.client = client
        self.team_id = team_id
        self.members_ttl = members_ttl
        self._users: dict[str, UserInfo] = {}
        self._channels: dict[str, ChannelInfo] = {}
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._groups: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}  # channel name -> id
        self._inflight: dict[tuple[str, str], asyncio.Future[Any]] = {}

    async def _shared(self, key: tuple[str, str], fetch: Callable[[], Awaitable[T]]) -> T:
        """Run `fetch` once for all concurrent callers asking for `key`."""
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(fetch())
            self._inflight[key] = pending
            pending.add_done_callback(lambda f: self._settled(key, f))
        # A caller that is cancelled must not cancel the others' lookup.
        return await asyncio.shield(pending)

    def _settled(self, key: tuple[str, str], done: asyncio.Future[Any]) -> None:
        self._inflight.pop(key, None)
        # Read here, so the error counts as retrieved even when every caller was cancelled.
        error = None if done.cancelled() else done.exception()
        if error is not None:
            log.debug("directory lookup %s failed: %s", key, error)

    async def user(self, user_id: str) -> UserInfo:
        if user_id in self._users:
            return self._users[user_id]
        return await self._shared(("user", user_id), lambda: self._fetch_user(user_id))

    async def _fetch_user(self, user_id: str) -> UserInfo:
        try:
            u: dict[str, Any] = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError:
            return UserInfo(user_id, user_id, self.team_id)
        profile = u.get("profile") or {}
        name = profile.get("display_name") or u.get("real_name") or u.get("name") or user_id
        info = UserInfo(user_id, name, u.get("team_id") or self.team_id, bool(u.get("is_bot")))
        self._users[user_id] = info
        return info

    async def is_external(self, user_id: str, team_id: str | None = None) -> bool:
        if team_id and team_id != self.team_id:
            return True
        return (await self.user(user_id)).team_id != self.team_id

    async def channel(self, channel_id: str) -> ChannelInfo:
        if channel_id in self._channels:
            return self._channels[channel_id]
        return await self._shared(("channel", channel_id), lambda: self._fetch_channel(channel_id))

    async def _fetch_channel(self, channel_id: str) -> ChannelInfo:
        if channel_id.startswith("D"):
            info = ChannelInfo(channel_id, channel_id, is_im=True)
        else:
            try:
                c = (await self.client.conversations_info(channel=channel_id))["channel"]
            except SlackApiError:
                return ChannelInfo(channel_id, channel_id)
            info = ChannelInfo.from_api({**c, "id": channel_id})
        self._channels[channel_id] = info
        return info

    async def resolve_channel(self, ref: str | None) -> str | None:
        """A channel ID from an ID or a #name in tandem.yaml."""
        if not ref:
            return None
        name = ref.lstrip("#")
        if ref.startswith(("C", "G", "D")) and ref.upper() == ref:
            return ref
        if name not in self._names:
            await self._shared(("names", ""), self._fetch_names)
        return self._names.get(name)

    async def _fetch_names(self) -> None:
        cursor = None
        while True:
            resp = await self.client.conversations_list(
                cursor=cursor, limit=200, types="public_channel,private_channel")
            for c in resp["channels"]:
                self._names[c["name"]] = c["id"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break

    async def members(self, channel_id: str) -> set[str]:
        cached = self._members.get(channel_id)
        if cached and time.monotonic() - cached[0] < self.members_ttl:
            return cached[1]
        return await self._shared(("members", channel_id),
                                  lambda: self._fetch_members(channel_id))

    async def _fetch_members(self, channel_id: str) -> set[str]:
        members: set[str] = set()
        try:
            cursor = None
            while True:
                resp = await self.client.conversations_members(channel=channel_id, cursor=cursor,
                                                               limit=500)
                members.update(resp["members"])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError:
            return members
        self._members[channel_id] = (time.monotonic(), members)
        return members

    async def groups(self, handles: list[str]) -> dict[str, set[str]]:
        """Members of the user groups named in a reviewer list (by handle or S… id)."""
        wanted = [h.lstrip("@") for h in handles if h.startswith("@") or h.startswith("S")]
        missing = [h for h in wanted if h not in self._groups]
        if missing:
            try:
                listing = await self.client.usergroups_list()
                groups: list[dict[str, Any]] = listing.get("usergroups", [])
                by_handle = {g["handle"]: g["id"] for g in groups}
            except SlackApiError:
                by_handle = {}
            for handle in missing:
                group_id = handle if handle.startswith("S") else by_handle.get(handle)
                users: set[str] = set()
                if group_id:
                    try:
                        resp = await self.client.usergroups_users_list(usergroup=group_id)
                        users = set(resp["users"])
                    except SlackApiError:
                        users = set()
                self._groups[handle] = users
        return {h: self._groups.get(h, set()) for h in wanted}
