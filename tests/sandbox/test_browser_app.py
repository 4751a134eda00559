"""The browser UI against a real app: modals, shortcuts, slash commands, App Home, streaming.

A minimal plain Bolt AsyncApp (not Tandem's) runs over Socket Mode against a
real Sandbox; chromium clicks what a person would click. Assertions check both
the page and what the app received, so neither side can fake the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.server import Sandbox
from tests.sandbox.browser_fixtures import chromium, client, sandbox  # noqa: F401
from tests.support.browser import BrowserPage, open_page
from tests.support.sandbox_client import SandboxClient

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

REVIEW = [
    {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*Draft*: hello"}},
    {"type": "actions", "block_id": "a", "elements": [
        {"type": "button", "action_id": "edit", "value": "d1",
         "text": {"type": "plain_text", "text": "Edit"}}]},
]
MODAL = {
    "type": "modal", "callback_id": "edit_modal",
    "title": {"type": "plain_text", "text": "Edit draft"},
    "submit": {"type": "plain_text", "text": "Post"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {"type": "input", "block_id": "body", "label": {"type": "plain_text", "text": "Draft"},
         "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                     "initial_value": "draft text"}},
        {"type": "input", "block_id": "note", "optional": True,
         "label": {"type": "plain_text", "text": "Note"},
         "element": {"type": "plain_text_input", "action_id": "n"}},
    ],
}


@pytest_asyncio.fixture(loop_scope="module")
async def app(sandbox: Sandbox) -> AsyncIterator[dict[str, list[Any]]]:
    """A plain Bolt app; the dict records what it received."""
    web = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    bolt = AsyncApp(client=web)
    seen: dict[str, list[Any]] = {"submitted": [], "closed": [], "shortcuts": [], "commands": []}

    @bolt.event("app_mention")
    async def on_mention(say: Any) -> None:
        await say(text="Draft: hello", blocks=REVIEW)

    @bolt.event("message")
    async def on_message() -> None:
        return None

    @bolt.action("edit")
    async def on_edit(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"],
                                view={**MODAL, "notify_on_close": True})

    @bolt.view("edit_modal")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        text = values["body"]["text"]["value"] or ""
        if not text.strip():
            await ack(response_action="errors", errors={"body": "Write something first"})
            return
        seen["submitted"].append((text, values["note"]["n"]["value"]))
        await ack()

    @bolt.view_closed("edit_modal")
    async def on_closed(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen["closed"].append(view["id"])

    @bolt.shortcut("tandem_draft_reply")
    async def on_shortcut(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen["shortcuts"].append(body["message"]["ts"])
        await client.chat_postMessage(channel=body["channel"]["id"], text="Drafting a reply…",
                                      thread_ts=body["message"]["ts"])

    @bolt.command("/tandem")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        seen["commands"].append(command["text"])
        await ack(text=f"You asked: {command['text']}")

    @bolt.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Tandem home"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*2* drafts waiting"}}]})

    handler = AsyncSocketModeHandler(bolt, sandbox.cfg.app_token)
    await handler.connect_async()
    yield seen
    await handler.close_async()


@pytest_asyncio.fixture(loop_scope="module")
async def ui(chromium: Browser, sandbox: Sandbox) -> AsyncIterator[BrowserPage]:
    async with open_page(chromium, sandbox.url) as opened:
        await expect(opened.page.locator("body")).to_have_attribute("data-live", "1")
        yield opened
        assert opened.errors == []


async def _open_edit_modal(page: Page) -> Any:
    await page.get_by_test_id("composer-input").fill("<@U0BOT> please draft")
    await page.get_by_test_id("composer-input").press("Enter")
    await page.locator("[data-testid=block-button][data-action-id=edit]").click()
    modal = page.get_by_test_id("modal")
    await expect(modal.get_by_test_id("modal-title")).to_have_text("Edit draft")
    return modal


async def test_modal_from_button_submits_typed_values(
        ui: BrowserPage, app: dict[str, list[Any]], client: SandboxClient) -> None:
    page = ui.page
    modal = await _open_edit_modal(page)
    inputs = modal.get_by_test_id("modal-input")
    await expect(inputs.nth(0)).to_have_value("draft text")  # initial_value, multiline
    await expect(inputs.nth(0)).to_have_js_property("tagName", "TEXTAREA")
    await inputs.nth(0).fill("edited by alice")
    await inputs.nth(1).fill("shorter")
    await modal.get_by_test_id("modal-submit").click()

    await expect(page.get_by_test_id("modal-overlay")).to_be_hidden()
    assert app["submitted"] == [("edited by alice", "shorter")]
    assert await client.views("alice") == []


async def test_modal_errors_keep_it_open_with_the_message(
        ui: BrowserPage, app: dict[str, list[Any]]) -> None:
    page = ui.page
    modal = await _open_edit_modal(page)
    await modal.get_by_test_id("modal-input").nth(0).fill("")
    await modal.get_by_test_id("modal-submit").click()

    await expect(modal.get_by_test_id("input-error").nth(0)).to_have_text("Write something first")
    await expect(modal).to_be_visible()
    assert app["submitted"] == []


async def test_modal_cancel_closes_and_notifies_app(
        ui: BrowserPage, app: dict[str, list[Any]], client: SandboxClient) -> None:
    page = ui.page
    modal = await _open_edit_modal(page)
    view_id = await modal.get_attribute("data-view-id")
    await modal.get_by_test_id("modal-close").click()

    await expect(page.get_by_test_id("modal-overlay")).to_be_hidden()

    async def closed() -> list[Any]:
        return app["closed"]

    assert await client.wait_for(closed) == [view_id]
    assert await client.views("alice") == []


async def test_message_shortcut_reaches_app_and_reply_shows_in_thread(
        ui: BrowserPage, app: dict[str, list[Any]], client: SandboxClient) -> None:
    page = ui.page
    ts = await client.post("general", "bob", "customer asks about pricing")
    row = page.get_by_test_id("messages").get_by_test_id("message").filter(has_text="pricing")
    await row.hover()
    await row.get_by_test_id("message-actions").click()
    await page.get_by_test_id("shortcut-tandem_draft_reply").click()

    await row.get_by_test_id("thread-link").click()
    thread = page.get_by_test_id("thread-messages")
    await expect(thread.get_by_test_id("message")).to_have_count(2)
    await expect(thread.get_by_test_id("message").nth(1)).to_contain_text("Drafting a reply")
    assert app["shortcuts"] == [ts]


async def test_slash_command_goes_to_app_and_answer_is_ephemeral(
        ui: BrowserPage, app: dict[str, list[Any]], client: SandboxClient) -> None:
    page = ui.page
    await page.get_by_test_id("composer-input").fill("/tandem summarize this")
    await page.get_by_test_id("composer-input").press("Enter")

    answer = page.get_by_test_id("message").filter(has_text="You asked: summarize this")
    await expect(answer.get_by_test_id("ephemeral-note")).to_be_visible()
    assert app["commands"] == ["summarize this"]
    # The command itself is not a message; only alice sees the answer.
    assert await client.messages("general", as_user="bob") == []


@pytest.mark.usefixtures("app")
async def test_app_home_tab_shows_published_view_and_dm_works(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    await page.get_by_test_id("app-home").click()
    home = page.get_by_test_id("home-view")
    await expect(home.locator(".bk-header")).to_have_text("Tandem home")
    await expect(home.locator("b")).to_have_text("2")
    await page.get_by_test_id("tab-messages").click()
    await expect(page.get_by_test_id("composer")).to_be_visible()
    await expect(page.get_by_test_id("channel-title")).to_have_text("tandem")
    await page.get_by_test_id("composer-input").fill("hello bot")
    await page.get_by_test_id("composer-input").press("Enter")
    await expect(page.get_by_test_id("message").filter(has_text="hello bot")).to_have_count(1)
    assert [m["text"] for m in await client.messages("D0ALICE")] == ["hello bot"]


async def test_streaming_message_grows_then_settles(
        ui: BrowserPage, sandbox: Sandbox, client: SandboxClient) -> None:
    page = ui.page
    web = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    parent = await client.post("general", "alice", "can you draft this?")
    await page.get_by_test_id("message").filter(has_text="draft this").hover()
    await page.get_by_test_id("reply-in-thread").click()
    started = await web.api_call("chat.startStream", json={
        "channel": "C0GENERAL", "thread_ts": parent, "recipient_user_id": "U0ALICE",
        "recipient_team_id": "T0TANDEM", "markdown_text": "Hello **there**"})

    thread = page.get_by_test_id("thread-messages")
    draft = thread.get_by_test_id("message").filter(has_text="Hello")
    await expect(draft.get_by_test_id("streaming-indicator")).to_be_visible()
    await expect(draft.locator("strong, b")).to_have_text("there")
    await web.api_call("chat.appendStream", json={
        "channel": "C0GENERAL", "ts": started["ts"], "markdown_text": ", more words"})
    await expect(draft.get_by_test_id("message-body")).to_contain_text("there, more words")
    await expect(draft.get_by_test_id("stream-cursor")).to_be_visible()

    await web.api_call("chat.stopStream", json={"channel": "C0GENERAL", "ts": started["ts"]})
    await expect(draft.get_by_test_id("streaming-indicator")).to_have_count(0)
    await expect(draft.get_by_test_id("stream-cursor")).to_have_count(0)
    await expect(draft.get_by_test_id("message-body")).to_have_text("Hello there, more words")
