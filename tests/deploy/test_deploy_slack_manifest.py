"""deploy/slack/manifest.yaml grants every scope, event, shortcut and command Tandem uses.

The Web API methods and events are read from the code itself, so a new call
without its scope in the manifest fails here rather than with `missing_scope`
in someone's workspace.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.slack import ids
from tests.deploy.deploy_files import DEPLOY, load_docs

BOT = DEPLOY.parent / "bot"

# Web API method -> bot scopes, any one of which allows it (empty: no scope needed).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.startStream": {"chat:write"},
    "chat.appendStream": {"chat:write"},
    "chat.stopStream": {"chat:write"},
    "chat.getPermalink": set(),
    "assistant.threads.setStatus": {"assistant:write", "chat:write"},
    "reactions.add": {"reactions:write"},
    "reactions.remove": {"reactions:write"},
    "reactions.get": {"reactions:read"},
    "conversations.replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations.history": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations.info": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations.list": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations.members": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations.open": {"im:write"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "usergroups.list": {"usergroups:read"},
    "usergroups.users.list": {"usergroups:read"},
    "views.open": set(),
    "views.update": set(),
    "views.push": set(),
    "views.publish": set(),
}
# Methods the issue names even where the code does not call them yet.
BASELINE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.getPermalink",
                    "chat.startStream", "chat.appendStream", "chat.stopStream",
                    "assistant.threads.setStatus", "reactions.add", "reactions.get",
                    "conversations.replies", "conversations.info", "users.info",
                    "usergroups.users.list", "views.open", "views.publish"}
# Tandem reads threads and channel kinds wherever it is mentioned: all four conversation kinds.
CONVERSATION_KINDS = {"channels", "groups", "im", "mpim"}

EVENT_SUBSCRIPTIONS = {"message": {"message.im", "message.channels", "message.groups"}}
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write",
    "app_home_opened": None,
}
BASELINE_EVENTS = {"app_mention", "message", "reaction_added", "reaction_removed",
                   "app_home_opened", "assistant_thread_started"}

_CALL = re.compile(r"\.((?:chat|conversations|users|usergroups|reactions|views|assistant_threads"
                   r"|auth|pins|bookmarks|files|team|emoji|search|dnd|bots)_[A-Za-z_]+)\(")
_API_CALL = re.compile(r"api_call\(\s*[\"']([A-Za-z.]+)[\"']")
_EVENT = re.compile(r"\.event\(\s*[\"']([a-z_]+)[\"']")


def _sources() -> list[Path]:
    # The sandbox serves the Slack API; it does not call it.
    return [p for p in BOT.rglob("*.py") if "sandbox" not in p.parts]


def methods_called(sources: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        found |= {m.replace("_", ".") for m in _CALL.findall(text)}
        found |= set(_API_CALL.findall(text))
        if ".chat_stream(" in text:
            found |= {"chat.startStream", "chat.appendStream", "chat.stopStream"}
    return found


def events_listened(sources: list[Path]) -> set[str]:
    return {e for p in sources for e in _EVENT.findall(p.read_text(encoding="utf-8"))}


@pytest.fixture
def manifest() -> dict[str, Any]:
    (doc,) = load_docs(DEPLOY / "slack" / "manifest.yaml")
    return dict(doc)


def _scopes(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["oauth_config"]["scopes"]["bot"])


def test_scan_finds_calls_and_events(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text("await client.chat_postMessage(channel=c)\nclient.usergroups_users_list()\n"
                   "app.event('reaction_added')(f)\nawait client.api_call('pins.add')\n",
                   encoding="utf-8")
    assert methods_called([src]) == {"chat.postMessage", "usergroups.users.list", "pins.add"}
    assert events_listened([src]) == {"reaction_added"}


def test_every_called_method_has_its_scope(manifest: dict[str, Any]) -> None:
    scopes = _scopes(manifest)
    called = methods_called(_sources()) | BASELINE_METHODS
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    for method in called:
        needed = METHOD_SCOPES[method]
        assert not needed or needed & scopes, f"{method} needs one of {needed}"
        if method.startswith("conversations."):
            # Reading works in every kind of conversation Tandem may be mentioned in.
            assert needed <= scopes, f"{method}: grant all of {needed - scopes}"
    assert {f"{kind}:history" for kind in CONVERSATION_KINDS} <= scopes


def test_every_listened_event_is_subscribed_with_its_scope(manifest: dict[str, Any]) -> None:
    scopes = _scopes(manifest)
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    for event in events_listened(_sources()) | BASELINE_EVENTS:
        for subscription in EVENT_SUBSCRIPTIONS.get(event, {event}):
            assert subscription in subscribed, subscription
    for subscription in subscribed:
        assert subscription in EVENT_SCOPES, f"unknown event {subscription}"
        scope = EVENT_SCOPES[subscription]
        assert scope is None or scope in scopes, f"{subscription} needs {scope}"


def test_shortcut_and_command_match_the_code(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    (shortcut,) = features["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == ids.DRAFT_SHORTCUT
    (command,) = features["slash_commands"]
    assert command["command"] == ids.SLASH_COMMAND
    assert command["usage_hint"] == "[doc|ask|reply] <text>"
    assert "commands" in _scopes(manifest)


def test_surfaces_and_modes_are_enabled(manifest: dict[str, Any]) -> None:
    features, settings = manifest["features"], manifest["settings"]
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert features["app_home"]["messages_tab_read_only_enabled"] is False  # DMs are a trigger
    assert "assistant:write" in _scopes(manifest) and features["assistant_view"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    # Bots post only where they are members; public posting would bypass channel choice.
    assert "chat:write.public" not in _scopes(manifest)


def test_manifest_fits_slack_field_limits(manifest: dict[str, Any]) -> None:
    # Limits from Slack's published manifest schema: Slack rejects the manifest otherwise.
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35 and 1 <= len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])
    assert 1 <= len(manifest["features"]["bot_user"]["display_name"]) <= 80
    for shortcut in manifest["features"]["shortcuts"]:
        assert len(shortcut["name"]) <= 24 and 1 <= len(shortcut["description"]) <= 150
    for command in manifest["features"]["slash_commands"]:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command["command"])
    assert all(len(scope) <= 50 for scope in _scopes(manifest))
    assert len(set(manifest["settings"]["event_subscriptions"]["bot_events"])) == len(
        manifest["settings"]["event_subscriptions"]["bot_events"])
