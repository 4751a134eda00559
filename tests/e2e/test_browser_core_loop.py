"""A person in the sandbox's browser UI drives Tandem: ask, watch the draft stream, approve."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.helpers import decisions
from tests.support.browser import launch_chromium, open_page
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_browser_user_sees_draft_stream_in_then_approves_it(tmp_path: Path) -> None:
    llm = FakeLLM(reply=lambda _b: " ".join(f"word{i}" for i in range(40)), token_delay=0.2)
    await llm.start()
    h = await Harness(tmp=tmp_path, llm_url=llm.base_url).start()
    try:
        assert h.sandbox is not None
        async with launch_chromium() as browser, open_page(browser, h.sandbox.url) as ui:
            page = ui.page
            await expect(page.locator("body")).to_have_attribute("data-live", "1")
            await page.get_by_test_id("user-switcher").select_option("U0ALICE")
            await page.locator("[data-testid=channel-item][data-channel-name=general]").click()
            await page.get_by_test_id("composer-input").fill("<@U0BOT> write the launch note")
            await page.get_by_test_id("composer-input").press("Enter")
            ask = page.get_by_test_id("messages").get_by_test_id("message").last
            await expect(ask.get_by_test_id("thread-link")).to_be_visible(timeout=10000)
            await ask.get_by_test_id("thread-link").click()
            thread = page.get_by_test_id("thread-messages")
            # The draft grows while the model writes, then settles with review buttons.
            await expect(thread.get_by_test_id("streaming-indicator")).to_be_visible(
                timeout=10000)
            approve = thread.locator("[data-testid=block-button]"
                                     "[data-action-id=tandem_approve]")
            await expect(approve).to_be_visible(timeout=15000)
            await expect(thread).to_contain_text("word39")
            await page.get_by_test_id("user-switcher").select_option("U0BOB")
            await approve.click()
            await expect(thread).to_contain_text("Approved by", timeout=10000)
            await expect(thread.locator("[data-testid=block-button]"
                                        "[data-action-id=tandem_approve]")).to_have_count(0)
            finals = thread.get_by_test_id("message").filter(has_text="word39")
            await expect(finals).to_have_count(2)  # the decided draft and the final post
            await page.screenshot(path=str(tmp_path / "approved.png"))
            assert ui.errors == []
        (decision,) = decisions(h)
        assert decision.verdict == "approved" and decision.reviewer_id == "U0BOB"
    finally:
        await h.stop()
        await llm.stop()
