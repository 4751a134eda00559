"""Every payload the sandbox generates carries every key of the Slack fixture of its kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.server import Sandbox
from tests.sandbox.raw_socket import RawSocket
from tests.support.sandbox_client import SandboxClient

FIXTURES = Path("/work/shared/data/slack")
if not FIXTURES.is_dir():
    FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "data" / "slack"
# Keys the sandbox deliberately does not produce: it is not an Enterprise Grid org and
# does not unfurl links.
NOT_EMULATED = {"enterprise_id", "enterprise_name", "attachments"}
BUTTON = {"type": "actions", "block_id": "acts", "elements": [
    {"type": "button", "action_id": "go", "value": "v1", "text": {"type": "plain_text",
                                                                  "text": "Go"}}]}
MODAL = {"type": "modal", "callback_id": "m", "notify_on_close": True,
         "title": {"type": "plain_text", "text": "T"}, "submit": {"type": "plain_text",
                                                                   "text": "OK"},
         "close": {"type": "plain_text", "text": "Cancel"},
         "blocks": [BUTTON, {"type": "input", "block_id": "in", "label": {
             "type": "plain_text", "text": "L"}, "element": {"type": "plain_text_input",
                                                              "action_id": "txt"}}]}


def missing(fixture: Any, ours: Any, path: str = "",
            skip: frozenset[str] = frozenset()) -> list[str]:
    out: list[str] = []
    if isinstance(fixture, dict) and isinstance(ours, dict):
        if path.endswith("/values"):
            return out  # a map keyed by block_id / action_id: data, not schema
        for key, value in fixture.items():
            if key in NOT_EMULATED or key in skip:
                continue
            if key not in ours:
                out.append(f"{path}/{key}")
            else:
                out += missing(value, ours[key], f"{path}/{key}", skip)
    elif isinstance(fixture, list) and isinstance(ours, list) and fixture and ours:
        for item in fixture:
            # Lists of blocks/elements mix types; compare like with like.
            kind = item.get("type") if isinstance(item, dict) else None
            peers = [o for o in ours if isinstance(o, dict) and o.get("type") == kind]
            if kind is None:
                peers = ours[:1]
            if peers:
                out += missing(item, peers[0], f"{path}[]", skip)
    return out


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def api(http: aiohttp.ClientSession, sb: Sandbox, method: str, **args: Any) -> Any:
    async with http.post(sb.api_url + method, json=args,
                         headers={"Authorization": f"Bearer {sb.cfg.bot_token}"}) as r:
        body = await r.json()
    assert body["ok"], body
    return body


@pytest.fixture
async def generated(sandbox: Sandbox, http: aiohttp.ClientSession,
                    client: SandboxClient) -> AsyncIterator[RawSocket]:
    """Drive one of everything through the sandbox and collect what a Socket Mode app sees."""
    sock = RawSocket(http, sandbox.api_url, sandbox.cfg.app_token)
    await sock.connect()
    mention = await client.post("general", "alice", "<@U0BOT> hi")
    await client.post("dm:alice", "alice", "in a DM")
    await client.post("general", "alice", "a reply", thread_ts=mention)
    bot = await api(http, sandbox, "chat.postMessage", channel="C0GENERAL", text="draft",
                    blocks=[BUTTON], thread_ts=mention)
    await api(http, sandbox, "chat.update", channel="C0GENERAL", ts=bot["ts"], text="draft 2",
              blocks=[BUTTON])
    await client.react("general", mention, "bob", "eyes")
    await client.home("alice")
    click = await client.click("alice", "go", channel="general", ts=bot["ts"])
    opened = await api(http, sandbox, "views.open", trigger_id=click["trigger_id"], view=MODAL)
    await client.click("alice", "go", view_id=opened["view"]["id"])
    await client.submit(opened["view"]["id"], "alice", {"txt": "hello"})
    again = await client.shortcut("alice", "global_cb")
    second = await api(http, sandbox, "views.open", trigger_id=again["trigger_id"], view=MODAL)
    await client.close(second["view"]["id"], "alice")
    eph = await api(http, sandbox, "chat.postEphemeral", channel="C0GENERAL", user="U0ALICE",
                    text="only you", blocks=[BUTTON])
    await client.click("alice", "go", channel="general", ts=eph["message_ts"])
    await client.command("general", "alice", "/tandem", "help")

    async def all_events() -> bool:
        return len(sock.of("events_api")) >= 8

    await client.wait_for(all_events)
    yield sock
    await sock.close()


CASES = [
    ("events_api", {"type": "message", "channel_type": "channel", "thread_ts": None},
     "events/message_channel.json"),
    ("events_api", {"type": "message", "channel_type": "im"}, "events/message_im.json"),
    ("events_api", {"type": "app_mention"}, "events/app_mention.json"),
    ("events_api", {"type": "message", "text": "a reply"},
     "events/message_thread_reply_channel.json"),
    ("events_api", {"type": "message", "text": "draft"},
     "events/message_bot_thread_reply_channel.json"),
    ("events_api", {"type": "reaction_added"}, "events/reaction_added.json"),
    ("events_api", {"type": "reaction_added"}, "shapes/event_ReactionAddedPayload.json"),
    ("events_api", {"type": "app_home_opened"}, "events/app_home_opened_home.json"),
    ("interactive", {"type": "shortcut"}, "interactive/shortcut_global.json"),
    ("interactive", {"type": "view_submission"}, "interactive/view_submission.json"),
    ("interactive", {"type": "view_closed"}, "interactive/view_closed.json"),
    ("slash_commands", {}, "interactive/slash_command_socket_payload.json"),
    ("slash_commands", {}, "shapes/interactive_SlashCommandPayload.json"),
]


@pytest.mark.parametrize(("kind", "match", "fixture"), CASES, ids=[c[2] for c in CASES])
async def test_payload_has_fixture_keys(generated: RawSocket, kind: str, match: dict[str, Any],
                                        fixture: str) -> None:
    found = [f for f in generated.of(kind, **{k: v for k, v in match.items() if v is not None})
             if all(f["payload"].get("event", {}).get(k) is None
                    for k, v in match.items() if v is None)]
    assert found, f"no {kind} payload matching {match}"
    assert missing(load(fixture), found[0]["payload"]) == []


async def test_message_changed_has_fixture_keys(generated: RawSocket) -> None:
    found = generated.of("events_api", subtype="message_changed")
    assert found
    # The fixture edits a user's message; ours edits the bot's, which has no client_msg_id.
    assert missing(load("events/message_changed.json"), found[0]["payload"],
                   skip=frozenset({"client_msg_id"})) == []


@pytest.mark.parametrize("fixture", ["interactive/block_actions_message_button.json",
                                     "interactive/block_actions_ephemeral_button.json"])
async def test_block_actions_has_fixture_keys(generated: RawSocket, fixture: str) -> None:
    want = load(fixture)
    found = [f["payload"] for f in generated.of("interactive", type="block_actions")
             if f["payload"]["container"].get("is_ephemeral") == want["container"]["is_ephemeral"]
             and f["payload"]["container"]["type"] == "message"]
    assert found
    assert missing(want, found[0]) == []
    if want["container"]["is_ephemeral"]:
        assert "message" not in found[0]


async def test_block_actions_in_view_has_fixture_keys(generated: RawSocket) -> None:
    want = load("socket_mode/interactive_block_actions_view_static_select.json")
    found = [f for f in generated.of("interactive", type="block_actions")
             if f["payload"]["container"]["type"] == "view"]
    assert found
    # The fixture's action is a static_select; button action keys are checked above.
    assert missing(want, found[0], skip=frozenset({"actions", "blocks"})) == []


async def test_envelopes_and_hello_have_fixture_keys(generated: RawSocket) -> None:
    hello = [f for f in generated.frames if f.get("type") == "hello"]
    assert hello and missing(load("socket_mode/hello.json"), hello[0]) == []
    event = generated.of("events_api", type="app_mention")[0]
    envelope = load("socket_mode/events_api_app_mention.json")
    assert missing(envelope, event, skip=frozenset({"payload"})) == []
    assert (event["retry_attempt"], event["retry_reason"]) == (0, "")
    slash = generated.of("slash_commands")[0]
    assert missing(load("socket_mode/slash_commands.json"), slash,
                   skip=frozenset({"payload"})) == []
    assert slash["accepts_response_payload"] is True
    assert event["accepts_response_payload"] is False


async def test_view_closed_reports_is_cleared(generated: RawSocket) -> None:
    closed = generated.of("interactive", type="view_closed")[0]["payload"]
    assert closed["is_cleared"] is False
    assert missing(load("shapes/interactive_ViewClosedPayload.json"), closed,
                   skip=frozenset({"bot_access_token", "function_data", "interactivity",
                                   "enterprise"})) == []
