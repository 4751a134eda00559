"""The sandbox's browser UI, driven through Debian chromium: post, react, switch users, render.

Each test runs a real Sandbox on a free port (the `sandbox` fixture) and checks
both what the page shows and what the sandbox recorded, so a UI that only
looks right (or a server that never heard the click) fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.server import Sandbox
from tests.sandbox.browser_fixtures import chromium, client, sandbox  # noqa: F401
from tests.support.browser import BrowserPage, open_page
from tests.support.sandbox_client import SandboxClient

# One chromium for the module: the tests, the browser and the sandbox share its loop.
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def ui(chromium: Browser, sandbox: Sandbox) -> AsyncIterator[BrowserPage]:
    async with open_page(chromium, sandbox.url) as opened:
        # Live means the SSE stream is open, so later server-side changes reach the page.
        await expect(opened.page.locator("body")).to_have_attribute("data-live", "1")
        yield opened
        assert opened.errors == []


def _message(page: Page, text: str) -> Any:
    return page.get_by_test_id("messages").get_by_test_id("message").filter(has_text=text)


async def test_composer_post_appears_and_reaches_sandbox(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    await page.get_by_test_id("composer-input").fill("Hello *team*, ship it")
    await page.get_by_test_id("composer-input").press("Enter")

    row = _message(page, "ship it")
    await expect(row).to_have_count(1)
    await expect(row.locator("b")).to_have_text("team")
    await expect(row.get_by_test_id("message-author")).to_have_text("alice")
    stored = await client.messages("general")
    assert [(m["user"], m["text"]) for m in stored] == [("U0ALICE", "Hello *team*, ship it")]


async def test_message_from_elsewhere_appears_live(ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    await client.post("general", "bob", "posted while you watch")
    # No reload: only the SSE stream can bring it in.
    await expect(_message(page, "posted while you watch")
                 .get_by_test_id("message-author")).to_have_text("bob")


async def test_reaction_picker_adds_and_chip_click_removes(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    ts = await client.post("general", "bob", "react to me")
    row = _message(page, "react to me")
    await row.hover()
    await row.get_by_test_id("add-reaction").click()
    await page.get_by_test_id("pick-white_check_mark").click()

    chip = row.locator("[data-testid=reaction][data-name=white_check_mark]")
    await expect(chip).to_have_attribute("data-mine", "1")
    await expect(chip.get_by_test_id("reaction-count")).to_have_text("1")
    (msg,) = await client.messages("general")
    assert msg["ts"] == ts and msg["reactions"][0]["users"] == ["U0ALICE"]

    await chip.click()
    await expect(chip).to_have_count(0)
    (msg,) = await client.messages("general")
    assert not msg["reactions"]


async def test_editing_ones_own_message_updates_it_and_others_cannot_be_edited(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    ts = await client.post("general", "alice", "release notes for 2.3")
    await client.post("general", "bob", "bob's own words")
    page.once("dialog", lambda dialog: dialog.accept("release notes for 2.4"))
    row = _message(page, "release notes for 2.3")
    await row.hover()
    await row.get_by_test_id("message-actions").click()
    await page.get_by_test_id("menu-edit").click()
    await expect(_message(page, "release notes for 2.4")).to_have_count(1)
    mine = [m for m in await client.messages("general") if m["ts"] == ts]
    assert mine[0]["text"] == "release notes for 2.4" and mine[0]["edited"]["user"] == "U0ALICE"
    await page.keyboard.press("Escape")
    other = _message(page, "bob's own words")
    await other.hover()
    await other.get_by_test_id("message-actions").click()
    await expect(page.get_by_test_id("actions-menu")).to_be_visible()
    await expect(page.get_by_test_id("menu-edit")).to_have_count(0)


async def test_switching_user_shows_only_their_channels_private_and_shared_ones_included(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    channels = page.get_by_test_id("channel-item")
    await expect(channels).to_have_count(5)  # alice is in the private #leads
    await expect(page.locator("[data-channel-name=leads]")).to_contain_text("🔒")

    await page.get_by_test_id("user-switcher").select_option("U0BOB")
    await expect(channels).to_have_count(4)
    await expect(page.locator("[data-channel-name=leads]")).to_have_count(0)

    await page.get_by_test_id("user-switcher").select_option(label="carol (Acme)")
    await expect(channels).to_have_count(1)
    await expect(channels).to_have_attribute("data-channel-name", "acme-shared")
    await expect(page.get_by_test_id("channel-title")).to_have_text("#acme-shared")

    await page.get_by_test_id("composer-input").fill("hi from Acme")
    await page.get_by_test_id("composer-send").click()
    await expect(_message(page, "hi from Acme").get_by_test_id("message-author")).to_have_text(
        "carol")
    await expect(_message(page, "hi from Acme").get_by_test_id("external-badge")).to_have_text(
        "Acme")
    (msg,) = await client.messages("acme-shared")
    assert msg["user"] == "U0CAROL"


async def test_block_kit_renders_and_unknown_block_is_contained(
        ui: BrowserPage, sandbox: Sandbox) -> None:
    page = ui.page
    web = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    await web.chat_postMessage(channel="C0GENERAL", text="Draft ready", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "Draft reply"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "For <@U0ALICE> in <#C0SUPPORT>"},
         "fields": [{"type": "mrkdwn", "text": "*Status*\nPending"}],
         "accessory": {"type": "button", "action_id": "more",
                       "text": {"type": "plain_text", "text": "Details"}}},
        {"type": "holographic_carousel", "frames": 3},
        {"type": "divider"},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "approve", "style": "primary",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "reject", "style": "danger",
             "text": {"type": "plain_text", "text": "Reject"}}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "prompt _v3_"}]},
        {"type": "rich_text", "elements": [{"type": "rich_text_list", "style": "bullet",
         "elements": [{"type": "rich_text_section", "elements": [
             {"type": "text", "text": "first", "style": {"bold": True}}]}]}]},
        {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "chart"},
    ])

    row = _message(page, "Draft reply")
    await expect(row.locator(".bk-header")).to_have_text("Draft reply")
    await expect(row.get_by_test_id("unsupported-block")).to_contain_text(
        "unsupported block: holographic_carousel")
    await expect(row.locator(".bk-section .mention")).to_have_text(["@alice", "#support"])
    await expect(row.locator(".bk-fields b")).to_have_text("Status")
    await expect(row.locator("button.bk-button.primary")).to_have_text("Approve")
    await expect(row.locator("button.bk-button.danger")).to_have_text("Reject")
    await expect(row.locator(".bk-context i")).to_have_text("v3")
    await expect(row.locator(".bk-rich-text li b")).to_have_text("first")
    # External images are not fetched: the sandbox works offline.
    await expect(row.locator(".bk-image img")).to_have_count(0)
    await expect(row.locator(".bk-image")).to_contain_text("chart")
    # Blocks after the unknown one still render, and the page still works.
    await page.get_by_test_id("composer-input").fill("still alive")
    await page.get_by_test_id("composer-input").press("Enter")
    await expect(_message(page, "still alive")).to_have_count(1)


async def test_mrkdwn_renders_links_mentions_and_code(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    await client.post("general", "bob", "<!here> ask <@U0ALICE> in <#C0SUPPORT>: "
                      "_see_ <https://example.com/docs|the docs>, ~old~ `x=1`\n```\nline 1\n```")
    body = _message(page, "ask").get_by_test_id("message-body")
    await expect(body.get_by_test_id("mention")).to_have_text(["@here", "@alice", "#support"])
    await expect(body.locator("a")).to_have_attribute("href", "https://example.com/docs")
    await expect(body.locator("a")).to_have_text("the docs")
    await expect(body.locator("i")).to_have_text("see")
    await expect(body.locator("s")).to_have_text("old")
    await expect(body.locator("code")).to_have_text("x=1")
    await expect(body.locator("pre")).to_have_text("line 1")


async def test_thread_reply_from_pane_lands_in_thread(
        ui: BrowserPage, client: SandboxClient) -> None:
    page = ui.page
    parent = await client.post("support", "bob", "printer on fire")
    await page.locator("[data-testid=channel-item][data-channel-name=support]").click()
    row = _message(page, "printer on fire")
    await row.hover()
    await row.get_by_test_id("reply-in-thread").click()
    await page.get_by_test_id("thread-composer-input").fill("have you tried water?")
    await page.get_by_test_id("thread-composer-send").click()

    thread = page.get_by_test_id("thread-messages").get_by_test_id("message")
    await expect(thread).to_have_count(2)
    await expect(row.get_by_test_id("thread-link")).to_have_text("1 reply")
    # The reply stays out of the channel list, as in Slack.
    await expect(_message(page, "have you tried water?")).to_have_count(0)
    replies = await client.messages("support", thread_ts=parent)
    assert [(m["user"], m["text"]) for m in replies[1:]] == [("U0ALICE", "have you tried water?")]


async def test_a_click_that_spans_a_refresh_of_the_channel_still_opens_the_thread(
        ui: BrowserPage, client: SandboxClient) -> None:
    # While a draft streams, the channel list refreshes many times a second; a
    # click whose press and release fall either side of a refresh must not be lost.
    page = ui.page
    parent = await client.post("general", "alice", "write the launch note")
    await client.post("general", "bob", "draft coming", thread_ts=parent)
    link = _message(page, "launch note").get_by_test_id("thread-link")
    await expect(link).to_have_text("1 reply")
    box = await link.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await client.post("general", "bob", "meanwhile, elsewhere")
    await expect(_message(page, "meanwhile, elsewhere")).to_have_count(1)
    await page.mouse.up()

    await expect(page.get_by_test_id("thread-pane")).to_be_visible()
    await expect(page.get_by_test_id("thread-messages")).to_contain_text("draft coming")
