"""Decisions made in Slack become training rows and stats, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.helpers import decisions, finals, wait_verdict
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness


async def test_approved_and_edited_decisions_export_as_sft_and_dpo(
        tandem: Harness, fake_llm: FakeLLM, tmp_path: Path) -> None:
    slack = tandem.slack
    assert slack is not None
    first = await slack.post("general", "alice", "<@U0BOT> write the release note for 2.3")
    draft = await tandem.wait_draft("C0GENERAL", first)
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: finals(tandem, "C0GENERAL", first))
    fake_llm.reply = lambda _body: "Draft two. Contact bob@example.com for details."
    second = await slack.post("general", "alice", "<@U0BOT> write the outage summary")
    draft2 = await tandem.wait_draft("C0GENERAL", second)
    await slack.click("bob", "tandem_edit", channel="C0GENERAL", ts=draft2["ts"])
    modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
    await slack.submit(modal["id"], "bob", {"edit_part_0": {"text": {
        "type": "plain_text_input", "value": "Draft two, edited. Contact bob@example.com."}}})
    await wait_verdict(tandem, "C0GENERAL", second, draft2["ts"], "Edited and posted")
    await slack.wait_for(lambda: _n(tandem, 2))
    env = {"TANDEM_DB_URL": f"sqlite:///{tmp_path / 'tandem.sqlite'}", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    rows = {}
    for fmt in ("sft", "dpo"):
        out = tmp_path / f"{fmt}.jsonl"
        done = subprocess.run([sys.executable, "-m", "bot", "export", "--format", fmt,
                               "--out", str(out)], env=env, capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[2], timeout=120)
        assert done.returncode == 0, done.stderr
        rows[fmt] = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows["sft"]) == 2 and len(rows["dpo"]) == 1
    system = rows["sft"][0]["messages"][0]
    assert system["role"] == "system" and "Tandem" in system["content"]
    edited = rows["dpo"][0]
    assert "edited" in edited["chosen"][0]["content"]
    # PII is redacted by default: the email becomes a placeholder in both sides.
    assert "bob@example.com" not in json.dumps(rows)
    stats = subprocess.run([sys.executable, "-m", "bot", "stats", "--json"], env=env,
                           capture_output=True, text=True, timeout=120,
                           cwd=Path(__file__).resolve().parents[2])
    assert stats.returncode == 0, stats.stderr
    assert "fake-model" in stats.stdout


async def _n(h: Harness, n: int) -> bool:
    return len([d for d in decisions(h) if d.final_ts]) >= n
