"""Buttons, the modal and reactions on a draft, end to end through the sandbox."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.helpers import decisions, drafts, finals, wait_text, wait_verdict
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness, button_values, text_of


async def _draft(h: Harness, text: str = "<@U0BOT> write the release notes for 2.3",
                 user: str = "alice", channel: str = "general") -> tuple[str, dict]:
    assert h.slack is not None
    ts = await h.slack.post(channel, user, text)
    return ts, await h.wait_draft("C0" + channel.upper() if channel == "general" else channel, ts)


async def test_edit_modal_posts_edited_text_and_records_edit_distance(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, draft = await _draft(tandem)
    await slack.click("bob", "tandem_edit", channel="C0GENERAL", ts=draft["ts"])
    views = await slack.wait_for(lambda: slack.views("bob"))
    modal = views[-1]
    initial = modal["blocks"][0]["element"]["initial_value"]
    assert "Here is a short draft" in initial
    edited = initial + "\n\n— The Tandem team"
    await slack.submit(modal["id"], "bob", {"edit_part_0": {"text": {
        "type": "plain_text_input", "value": edited}}})
    final = await wait_text(tandem, "C0GENERAL", ts, "— The Tandem team")
    assert not button_values(final)
    await wait_verdict(tandem, "C0GENERAL", ts, draft["ts"], "Edited and posted by <@U0BOB>")
    (decision,) = decisions(tandem)
    assert decision.verdict == "edited" and decision.final_text == edited
    assert decision.edit_distance == 4  # "—", "The", "Tandem", "team"


async def test_edit_modal_with_empty_text_shows_error_and_keeps_draft(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, draft = await _draft(tandem)
    await slack.click("bob", "tandem_edit", channel="C0GENERAL", ts=draft["ts"])
    modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
    result = await slack.submit(modal["id"], "bob", {"edit_part_0": {"text": {
        "type": "plain_text_input", "value": "   "}}})
    assert "edit_part_0" in str(result)
    await asyncio.sleep(0.3)
    assert decisions(tandem) == []
    assert await finals(tandem, "C0GENERAL", ts) == []


async def test_long_draft_is_fully_editable_across_inputs(tmp_path, fake_llm: FakeLLM) -> None:
    long_text = " ".join(f"{i:04d}" + "x" * 25 for i in range(350))  # ~10.5k characters
    fake_llm.reply = lambda _body: long_text
    h = await Harness(tmp=tmp_path, llm_url=fake_llm.base_url).start()
    try:
        slack = h.slack
        assert slack is not None
        ts = await slack.post("general", "alice", "<@U0BOT> write a very long report")
        draft = await h.wait_draft("C0GENERAL", ts, timeout=20)
        await slack.click("bob", "tandem_edit", channel="C0GENERAL", ts=draft["ts"])
        modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
        inputs = [b for b in modal["blocks"] if b["type"] == "input"]
        assert len(inputs) >= 4
        assert all(len(b["element"]["initial_value"]) <= 3000 for b in inputs)
        assert "".join(b["element"]["initial_value"] for b in inputs) == long_text
    finally:
        await h.stop()


async def test_reject_with_reason_records_reason_and_posts_nothing(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, draft = await _draft(tandem)
    await slack.click("bob", "tandem_reject", channel="C0GENERAL", ts=draft["ts"])
    modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
    await slack.submit(modal["id"], "bob", {"reason": {"text": {
        "type": "plain_text_input", "value": "wrong tone"}}})
    await wait_verdict(tandem, "C0GENERAL", ts, draft["ts"], "Rejected by <@U0BOB>")
    (decision,) = decisions(tandem)
    assert decision.verdict == "rejected" and decision.reason == "wrong tone"
    assert await finals(tandem, "C0GENERAL", ts) == []


async def test_regenerate_supersedes_old_version_and_keeps_it(tandem: Harness,
                                                             fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, draft = await _draft(tandem)
    fake_llm.reply = lambda _body: "A second, better version of the draft."
    await slack.click("bob", "tandem_regenerate", channel="C0GENERAL", ts=draft["ts"])
    second = await wait_text(tandem, "C0GENERAL", ts, "A second, better version")
    await slack.wait_for(lambda: _has_buttons(tandem, ts, second["ts"]))
    await wait_verdict(tandem, "C0GENERAL", ts, draft["ts"], "Replaced by a newer version")
    versions = drafts(tandem)
    assert [d.version for d in versions] == [1, 2]
    assert [d.status for d in versions] == ["superseded", "pending_review"]
    assert versions[0].text.startswith("Here is a short draft")
    # The old draft's buttons are gone, so approving it is impossible.
    old = [m for m in await slack.messages("C0GENERAL", thread_ts=ts) if m["ts"] == draft["ts"]]
    assert "tandem_approve" not in button_values(old[0])


async def _has_buttons(h: Harness, thread: str, ts: str) -> bool:
    assert h.slack is not None
    msgs = await h.slack.messages("C0GENERAL", thread_ts=thread)
    return any(m["ts"] == ts and "tandem_approve" in button_values(m) for m in msgs)


@pytest.mark.parametrize("reaction,verdict", [("white_check_mark", "approved"),
                                              ("+1", "approved"), ("x", "rejected")])
async def test_reaction_on_draft_decides(tandem: Harness, reaction: str, verdict: str) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, draft = await _draft(tandem)
    await slack.react("C0GENERAL", draft["ts"], "bob", reaction)
    await slack.wait_for(lambda: _decided(tandem))
    (decision,) = decisions(tandem)
    assert decision.verdict == verdict and decision.source == "reaction"
    if verdict == "approved":
        await slack.wait_for(lambda: finals(tandem, "C0GENERAL", ts))


async def _decided(h: Harness) -> bool:
    return bool(decisions(h))


async def test_pencil_reaction_offers_edit_button_in_ephemeral(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, draft = await _draft(tandem)
    await slack.react("C0GENERAL", draft["ts"], "bob", "pencil2")
    eph = await wait_text(tandem, "C0GENERAL", ts, "Edit this draft?", as_user="U0BOB")
    assert button_values(eph)["tandem_edit_from_reaction"]
    channel_msgs = await slack.messages("C0GENERAL", thread_ts=ts, as_user="U0ALICE")
    assert not any("Edit this draft?" in text_of(m) for m in channel_msgs)
    await slack.click("bob", "tandem_edit_from_reaction", channel="C0GENERAL", ts=eph["ts"])
    modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
    assert modal["callback_id"] == "tandem_edit_view"
