"""Cached facts about users, channels and user groups, read from the Web API.

Names and channel kinds rarely change, so each is fetched once per process
(members with a short TTL): a burst of drafts costs no extra Tier 2/3 calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.client import LimitedWebClient

__all__ = ["ChannelInfo", "Directory", "UserInfo"]


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

    async def user(self, user_id: str) -> UserInfo:
        if user_id not in self._users:
            try:
                resp = await self.client.users_info(user=user_id)
                u: dict[str, Any] = resp["user"]
                profile = u.get("profile") or {}
                name = profile.get("display_name") or u.get("real_name") or u.get("name") or user_id
                self._users[user_id] = UserInfo(user_id, name, u.get("team_id") or self.team_id,
                                                bool(u.get("is_bot")))
            except SlackApiError:
                return UserInfo(user_id, user_id, self.team_id)
        return self._users[user_id]

    async def is_external(self, user_id: str, team_id: str | None = None) -> bool:
        if team_id and team_id != self.team_id:
            return True
        return (await self.user(user_id)).team_id != self.team_id

    async def channel(self, channel_id: str) -> ChannelInfo:
        if channel_id not in self._channels:
            if channel_id.startswith("D"):
                self._channels[channel_id] = ChannelInfo(channel_id, channel_id, is_im=True)
            else:
                try:
                    c = (await self.client.conversations_info(channel=channel_id))["channel"]
                    self._channels[channel_id] = ChannelInfo(
                        channel_id, c.get("name") or channel_id, bool(c.get("is_im")),
                        bool(c.get("is_ext_shared") or c.get("is_shared")
                             or c.get("is_org_shared")), bool(c.get("is_private")))
                except SlackApiError:
                    return ChannelInfo(channel_id, channel_id)
        return self._channels[channel_id]

    async def resolve_channel(self, ref: str | None) -> str | None:
        """A channel ID from an ID or a #name in tandem.yaml."""
        if not ref:
            return None
        name = ref.lstrip("#")
        if ref.startswith(("C", "G", "D")) and ref.upper() == ref:
            return ref
        if name not in self._names:
            cursor = None
            while True:
                resp = await self.client.conversations_list(
                    cursor=cursor, limit=200, types="public_channel,private_channel")
                for c in resp["channels"]:
                    self._names[c["name"]] = c["id"]
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        return self._names.get(name)

    async def members(self, channel_id: str) -> set[str]:
        cached = self._members.get(channel_id)
        if cached and time.monotonic() - cached[0] < self.members_ttl:
            return cached[1]
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
