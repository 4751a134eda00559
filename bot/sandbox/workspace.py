"""The seeded sandbox workspace: fixed team, users, bot, channels and user group.

IDs are fixed so tests, fixtures and docs can name them. This module is pure
data plus name resolution ("general", "#general", "alice", "@alice", "dm:alice"
or an ID all resolve to the same object); it does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TEAM_ID", "TEAM_NAME", "TEAM_DOMAIN", "BOT_USER_ID", "BOT_ID", "APP_ID", "BOT_NAME",
    "User", "Channel", "Workspace", "dm_channel_id",
]

TEAM_ID = "T0TANDEM"
TEAM_NAME = "Tandem Sandbox"
TEAM_DOMAIN = "sandbox"
ACME_ID = "T0ACME"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0TANDEM"
BOT_NAME = "tandem"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    real_name: str
    team_id: str = TEAM_ID
    is_bot: bool = False

    @property
    def external(self) -> bool:
        return self.team_id != TEAM_ID

    def to_api(self) -> dict[str, Any]:
        """The `user` object users.info / users.list return."""
        profile = {
            "real_name": self.real_name, "display_name": self.name, "team": self.team_id,
            "image_48": "", "image_72": "", "email": f"{self.name}@{self.team_id.lower()}.example",
        }
        if self.is_bot:
            profile["bot_id"] = BOT_ID
        return {
            "id": self.id, "team_id": self.team_id, "name": self.name, "deleted": False,
            "real_name": self.real_name, "tz": "Etc/UTC", "tz_label": "UTC", "tz_offset": 0,
            "profile": profile, "is_admin": False, "is_owner": False, "is_bot": self.is_bot,
            "is_app_user": False, "is_restricted": False, "is_ultra_restricted": False,
            "is_stranger": self.external, "updated": 1700000000,
        }


@dataclass
class Channel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    purpose: str = ""
    is_ext_shared: bool = False
    is_im: bool = False
    # A private channel is invisible to non-members: Slack answers `channel_not_found`
    # to them (the bot included) rather than `not_in_channel`, and lists it only to members.
    is_private: bool = False

    def hidden_from(self, user_id: str) -> bool:
        return self.is_private and user_id not in self.members

    def to_api(self) -> dict[str, Any]:
        base: dict[str, Any] = {"id": self.id, "created": 1700000000, "is_archived": False}
        if self.is_im:
            return {**base, "is_im": True, "is_channel": False, "is_group": False,
                    "user": next(m for m in self.members if m != BOT_USER_ID),
                    "is_user_deleted": False, "is_org_shared": False}
        return {
            **base, "name": self.name, "name_normalized": self.name, "is_channel": True,
            "is_group": False, "is_im": False, "is_mpim": False, "is_private": self.is_private,
            "is_general": self.name == "general", "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared, "is_org_shared": False,
            "is_member": BOT_USER_ID in self.members, "num_members": len(self.members),
            "context_team_id": TEAM_ID, "creator": "U0ALICE",
            "shared_team_ids": [TEAM_ID, ACME_ID] if self.is_ext_shared else [TEAM_ID],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


def dm_channel_id(user_id: str) -> str:
    # "D0" + the user's suffix: U0ALICE -> D0ALICE, stable across restarts.
    return "D0" + user_id[2:] if user_id.startswith("U0") else "D0" + user_id


class Workspace:
    """Users, channels and groups of the sandbox, with name-or-ID lookup."""

    def __init__(self) -> None:
        internal = ["U0ALICE", "U0BOB", BOT_USER_ID]
        self.users: dict[str, User] = {u.id: u for u in (
            User("U0ALICE", "alice", "Alice Example"),
            User("U0BOB", "bob", "Bob Example"),
            User("U0CAROL", "carol", "Carol Customer", team_id=ACME_ID),
            User(BOT_USER_ID, BOT_NAME, "Tandem", is_bot=True),
        )}
        self.channels: dict[str, Channel] = {c.id: c for c in (
            Channel("C0GENERAL", "general", list(internal), "Company-wide chat"),
            Channel("C0SUPPORT", "support", list(internal), "Internal support queue"),
            Channel("C0ACME", "acme-shared", [*internal, "U0CAROL"], "Shared with Acme",
                    is_ext_shared=True),
            Channel("C0REVIEWS", "reviews", list(internal), "Internal draft review"),
            Channel("C0LEADS", "leads", ["U0ALICE", BOT_USER_ID], "Team leads only",
                    is_private=True),
        )}
        self.usergroups: dict[str, dict[str, Any]] = {
            "S0REVIEWERS": {"id": "S0REVIEWERS", "handle": "reviewers", "name": "Reviewers",
                            "users": ["U0BOB"], "team_id": TEAM_ID},
        }
        self.teams = {TEAM_ID: (TEAM_NAME, TEAM_DOMAIN), ACME_ID: ("Acme", "acme")}

    def user(self, ref: str | None) -> User | None:
        if not ref:
            return None
        ref = ref.strip().lstrip("@")
        if ref in self.users:
            return self.users[ref]
        return next((u for u in self.users.values() if u.name == ref.lower()), None)

    def channel(self, ref: str | None, *, names: bool = True) -> Channel | None:
        """Resolve a channel; DMs with the bot are created on demand."""
        if not ref:
            return None
        ref = ref.strip()
        if ref in self.channels:
            return self.channels[ref]
        if ref.startswith("D0"):
            owner = next((u for u in self.users.values() if dm_channel_id(u.id) == ref), None)
            return self.dm(owner.id) if owner and not owner.is_bot else None
        if not names:
            return None
        if ref.startswith("dm:") or ref.startswith("@"):
            user = self.user(ref.removeprefix("dm:"))
            return self.dm(user.id) if user and not user.is_bot else None
        name = ref.lstrip("#").lower()
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def dm(self, user_id: str) -> Channel:
        cid = dm_channel_id(user_id)
        if cid not in self.channels:
            self.channels[cid] = Channel(cid, cid, [user_id, BOT_USER_ID], is_im=True)
        return self.channels[cid]

    def team_of(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.team_id if user else TEAM_ID
