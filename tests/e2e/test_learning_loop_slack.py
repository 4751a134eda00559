"""The learning loop through Slack: reviewers' edits in the sandbox become a LoRA adapter
that drafts the way they edit, measured with `tandem stats`.

1. Customers (carol) post support questions in #acme-shared; the real bot drafts each one
   with the real embedded vLLM into #reviews.
2. A simulated reviewer (bob) clicks in the sandbox: Approve when the draft already ends
   with the sign-off "— The Tandem team", otherwise Edit → keeps the first sentences, adds
   the sign-off → submits the modal.
3. `tandem export --format sft` → `tandem tune train` → `tandem tune deploy --next`, all
   through the real CLI.
4. The bot restarts with `traffic: {support: {tandem-vN: 1.0}}`; held-out questions are
   drafted by the adapter and reviewed by the same reviewer.
5. Goal: ≥ 80 % of the adapter's drafts show the trait, < 5 % of the base model's, and
   the adapter's approval rate in `tandem stats --json` is above the base model's.

The support prompt runs without its few-shot example and with short drafts, to keep CPU
training and generation within minutes, sampled at temperature 0.2 in both phases.
Training runs 8 epochs: after 5, a clean-clone CI run of 2026-12-04 signed 4 of 20
held-out drafts "— The Tandem Team" (capital T) and missed the 80 % goal. Later misses
(14 and 13 of 20) came from training on a prompt the server never showed: see
`bot.tuning.train` on openings.
Results: JSON on stdout and in `$TANDEM_PROOF_JSON` (default
`.data/learning_loop_proof.json`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.prompts import default_prompt_dir
from bot.settings import LLMTimeouts
from tests.e2e.helpers import decisions, drafts
from tests.support.harness import Harness, button_values
from tests.tuning.test_learning_loop_proof import (
    HELD_OUT_TOPICS,
    SIGN_OFF,
    TOPICS,
    asks,
    first_sentences,
    has_trait,
)

pytestmark = [pytest.mark.vllm, pytest.mark.slow, pytest.mark.timeout(3600)]
ROOT = Path(__file__).resolve().parents[2]


def short_support_prompts(folder: Path, max_tokens: int) -> Path:
    """The support prompt, short, so CPU training stays in minutes; only the draft length
    differs between phases, never the messages the model sees."""
    out = folder / f"prompts-{max_tokens}"
    out.mkdir()
    for path in default_prompt_dir().glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        if data["name"] == "support":
            # Short sequences: CPU training time grows with every token of every row.
            data["version"] = "proof-1"
            data["system"] = "You are Tandem. Draft a short, kind reply to the customer."
            data["template"] = "Customer message: $request"
            data["examples"] = []
            # Sampled cool, as a team would run a support prompt: a 270M model at 0.7
            # wanders off into other scripts, which measures its noise, not what it learnt.
            data["params"] = {"temperature": 0.2, "max_tokens": max_tokens}
        (out / path.name).write_text(yaml.safe_dump(data, allow_unicode=True))
    return out


async def review_drafts(h: Harness, expected: int, *, decided: int) -> None:
    """Bob reviews `expected` new support drafts in #reviews the way a consistent team
    would, then waits until `decided` decisions are recorded in all."""
    assert h.slack is not None
    slack = h.slack
    reviewed: set[str] = set()
    deadline = time.monotonic() + 1800
    while len(reviewed) < expected and time.monotonic() < deadline:
        # A draft that failed (the model server died) is never reviewable: say so now,
        # not after the deadline.
        failed = [d for d in drafts(h) if d.status == "failed"]
        assert not failed, f"{len(failed)} drafts failed, first: {failed[0].error}"
        for top in await slack.messages("C0REVIEWS"):
            for m in await slack.messages("C0REVIEWS", thread_ts=top["ts"]):
                if m["ts"] in reviewed or m.get("streaming") \
                        or "tandem_approve" not in button_values(m):
                    continue
                draft_id = button_values(m)["tandem_approve"]
                (record,) = [d for d in drafts(h) if d.id == draft_id]
                if has_trait(record.text):
                    await slack.click("bob", "tandem_approve", channel="C0REVIEWS", ts=m["ts"])
                else:
                    body = first_sentences(record.text, limit=90) \
                        or "Thanks, we are looking into it."
                    await slack.click("bob", "tandem_edit", channel="C0REVIEWS", ts=m["ts"])
                    modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
                    await slack.submit(modal["id"], "bob", {"edit_part_0": {"text": {
                        "type": "plain_text_input", "value": f"{body}\n\n{SIGN_OFF}"}}})
                reviewed.add(m["ts"])
        await asyncio.sleep(1.0)
    await slack.wait_for(lambda: _decided(h, decided), timeout=120)


async def _decided(h: Harness, n: int) -> bool:
    return len(decisions(h)) >= n


async def ask_all(h: Harness, questions: list[str]) -> None:
    assert h.slack is not None
    for q in questions:  # one by one, as customers would; drafting runs concurrently
        await h.slack.post("acme-shared", "carol", q)


def cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=3000)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


async def test_reviewer_edits_in_slack_teach_an_adapter_the_sign_off(
        tmp_path: Path, vllm_server: Any) -> None:
    started = time.monotonic()
    timings: dict[str, float] = {}
    n_train = int(os.environ.get("TANDEM_PROOF_TRAIN", "64"))
    overrides = {"tandem_prompts_dir": short_support_prompts(tmp_path, 40),
                 "llm_timeouts": LLMTimeouts(first_token=900, idle=600, total=1800),
                 "draft_expiry_seconds": 86400.0}
    h = await Harness(tmp=tmp_path, llm_url=vllm_server.base_url, llm_model=vllm_server.model,
                      settings_overrides=overrides).start()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TANDEM_DATA_DIR": str(tmp_path),
           "TANDEM_DB_URL": f"sqlite:///{tmp_path / 'tandem.sqlite'}",
           "TANDEM_LLM_BASE_URL": vllm_server.base_url}
    try:
        # 1–2. Base drafts through Slack, reviewed by clicks and modals.
        t = time.monotonic()
        await ask_all(h, asks(TOPICS)[:n_train])
        await review_drafts(h, n_train, decided=n_train)
        base_drafts = [d for d in drafts(h) if d.model == vllm_server.model]
        timings["draft_and_review_s"] = time.monotonic() - t

        # 3. Export → train → deploy, through the real CLI.
        t = time.monotonic()
        data = tmp_path / "sft.jsonl"
        cli("export", "--format", "sft", "--job", "support", "--out", str(data), env=env)
        rows = data.read_text().splitlines()
        assert len(rows) >= n_train * 0.9
        out = tmp_path / "adapters" / "proof"
        cli("tune", "train", "--format", "sft", "--base", str(vllm_server.model_dir),
            "--data", str(data), "--out", str(out), "--epochs",
            os.environ.get("TANDEM_PROOF_EPOCHS", "8"), "--lr", "4e-4", env=env)
        timings["export_and_train_s"] = time.monotonic() - t
        deployed = cli("tune", "deploy", "tandem", str(out), "--next", env=env)
        name = re.findall(r"tandem-v\d+", deployed)[-1]

        # 4. The traffic split sends support drafts to the adapter.
        t = time.monotonic()
        h.settings_overrides["traffic"] = {"support": {name: 1.0}}
        # Room to reach the sign-off: the reviewer's replies were up to ~30 tokens + it,
        # and a sampled draft may run longer before it signs off.
        h.settings_overrides["tandem_prompts_dir"] = short_support_prompts(tmp_path, 128)
        await h.restart_bot()
        held = asks(HELD_OUT_TOPICS)
        await ask_all(h, held)
        await review_drafts(h, len(held), decided=n_train + len(held))
        timings["held_out_s"] = time.monotonic() - t
        adapter_drafts = [d for d in drafts(h) if d.model == name]
        assert len(adapter_drafts) == len(held)

        # 5. Measure, with the same CLI a team would use.
        stats = {row["model"]: row for row in json.loads(cli("stats", "--json", env=env))
                 if row.get("job") == "support"}
    finally:
        await h.stop()
    trait_base = sum(has_trait(d.text) for d in base_drafts) / len(base_drafts)
    trait_adapter = sum(has_trait(d.text) for d in adapter_drafts) / len(adapter_drafts)
    result = {
        "train_requests": n_train, "sft_rows": len(rows), "adapter": name,
        "held_out": len(held), "trait_rate_base": round(trait_base, 3),
        "trait_rate_adapter": round(trait_adapter, 3), "stats": stats,
        **{k: round(v, 1) for k, v in timings.items()},
        "total_s": round(time.monotonic() - started, 1),
        "samples_adapter": [re.sub(r"\s+", " ", d.text)[:160] for d in adapter_drafts[:3]],
        "adapter_misses": [re.sub(r"\s+", " ", d.text)[-200:] for d in adapter_drafts
                           if not has_trait(d.text)],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    target = Path(os.environ.get("TANDEM_PROOF_JSON", ROOT / ".data/learning_loop_proof.json"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    assert trait_base < 0.05, result
    assert trait_adapter >= 0.80, result
    base_rate = _approval(stats, vllm_server.model)
    assert _approval(stats, name) > base_rate, result


def _approval(stats: dict[str, Any], model: str) -> float:
    row = stats[model]
    for key in ("approved_rate", "approval", "approval_rate"):
        if key in row:
            return float(row[key])
    raise AssertionError(f"no approval rate in {row}")
