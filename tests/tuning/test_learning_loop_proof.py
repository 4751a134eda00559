"""The proof: reviewers' edits become a LoRA adapter that drafts the way they edit.

Layer 1 (this test, no Slack): support requests are drafted by the real
embedded model, a simulated reviewer edits each draft in one checkable way
(keep the first sentences, end with the sign-off "— The Tandem team") or
approves it when the sign-off is already there, and every decision is stored
the way the bot stores it. Then: `export` SFT rows → `tandem tune train`
(a subprocess, the real CLI) → deploy into the running vLLM under the next
free `tandem-vN` → draft held-out requests on base and on the adapter (chosen
by the traffic split) → the same reviewer decides → `stats` compares arms.

Goal (issue 4): ≥ 80% of the adapter's drafts carry the trait, < 5% of the
base model's, and the adapter's approval rate is above the base's.
Layer 2 (the lead) drives the same loop through the sandbox Slack flow.

The support prompt is used without its few-shot example, which keeps
every training sequence short (CPU training time grows with tokens; the
machine this was written on ran three vLLM servers on two cores).
Knobs: TANDEM_PROOF_TRAIN (training requests, default 48), TANDEM_PROOF_EPOCHS
(default 3). Results: JSON on stdout (run with -s) and in
TANDEM_PROOF_JSON if set.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.llm.client import LLMClient
from bot.prompts import PromptBook
from bot.settings import LLMTimeouts
from bot.store.db import Store
from bot.store.models import Decision, Draft, DraftStatus, Request, Verdict
from bot.tuning.deploy import Registry, deploy_adapter, list_models, next_name
from bot.tuning.export import export, open_readonly
from bot.tuning.stats import query_stats
from bot.tuning.traffic import choose_model

pytestmark = [
    pytest.mark.vllm, pytest.mark.slow, pytest.mark.timeout(5400),
    # CI runs the same proof through Slack (tests/e2e/test_learning_loop_slack.py); this
    # layer, without Slack, is for tuning work: TANDEM_PROOF_LAYER1=1 runs it.
    pytest.mark.skipif(not os.environ.get("TANDEM_PROOF_LAYER1"),
                       reason="set TANDEM_PROOF_LAYER1=1 (CI runs the Slack-level proof)"),
]

SIGN_OFF = "— The Tandem team"
TOPICS = [
    "my invoice shows the wrong VAT number", "I was charged twice this month",
    "the export to CSV button does nothing", "I can't log in after resetting my password",
    "our team seats went from 10 to 5 without warning", "the mobile app crashes on start",
    "how do I cancel my subscription", "the API returns 429 errors all day",
    "notifications stopped arriving by email", "I need a receipt for last year",
    "the dashboard loads very slowly", "can I move my account to another region",
    "my colleague cannot accept the invite", "the search ignores accented letters",
    "the calendar sync shows events twice", "two-factor codes are rejected",
    "I want to change the billing email", "the PDF report is missing charts",
    "our SSO login loops back to the start page", "data from yesterday is missing",
    "the discount code was not applied", "I cannot upload files over 10 MB",
    "the webhook stopped firing", "the trial ended earlier than promised",
]
OPENERS = ["Hi, {t}.", "Hello team — {t}, please help!", "{t}. What should I do?",
           "Urgent: {t}"]
HELD_OUT_TOPICS = [
    "the invoice currency is wrong", "my password reset email never arrives",
    "the app logs me out every hour", "I was billed after cancelling",
    "the import from Excel fails",
]


def has_trait(text: str) -> bool:
    return text.rstrip().endswith(SIGN_OFF)


def first_sentences(text: str, limit: int = 160) -> str:
    """What the simulated reviewer keeps: the first paragraph, cut at a sentence end."""
    para = text.strip().split("\n\n")[0].strip()
    if len(para) <= limit:
        return para
    cut = max(para.rfind(p, 0, limit) for p in (". ", "! ", "? "))
    return para[: cut + 1] if cut > 40 else para[:limit].rsplit(" ", 1)[0] + "."


def review(draft: str) -> tuple[Verdict, str | None]:
    """The simulated reviewer: approve drafts with the sign-off, else edit it in."""
    if has_trait(draft):
        return Verdict.approved, None
    body = first_sentences(draft) or "Thanks for reaching out, we are looking into it."
    return Verdict.edited, f"{body}\n\n{SIGN_OFF}"


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def asks(topics: list[str]) -> list[str]:
    return [o.format(t=t) for t in topics for o in OPENERS]


async def draft_all(client: LLMClient, jobs: list[tuple[str, list[dict[str, Any]], str]],
                    max_tokens: int) -> list[str]:
    # No per-request `seed`: the CPU build of vLLM kills its engine on one
    # ("CPU Generator does not use offset").
    async def one(messages: list[dict[str, Any]], model: str) -> str:
        result = await client.complete_chat(
            messages, model=model, params={"temperature": 0.7, "max_tokens": max_tokens})
        return result.text

    return await asyncio.gather(*(one(m, model) for _key, m, model in jobs))


async def record(store: Store, rows: list[dict[str, Any]]) -> None:
    """Requests, drafts and decisions exactly as the review flow writes them."""

    def work(session: Any) -> None:
        for row in rows:
            now = datetime.now(UTC)
            verdict, final = review(row["text"])
            session.add(Request(id=row["id"], event_key=f"ev-{row['id']}", channel_id="CSUPPORT",
                                channel_kind="support", author="external", trigger="external",
                                text=row["ask"], job="support", created_at=now))
            session.flush()  # no ORM relationships: the parent row must exist first
            session.add(Draft(id=f"d-{row['id']}", request_id=row["id"], version=1,
                              status=DraftStatus(verdict.value), job="support",
                              prompt_name="support", prompt_version=row["prompt_version"],
                              model=row["model"], messages=row["messages"], text=row["text"],
                              created_at=now, updated_at=now, completed_at=now))
            session.flush()
            session.add(Decision(
                id=f"x-{row['id']}", draft_id=f"d-{row['id']}", request_id=row["id"],
                idempotency_key=f"k-{row['id']}", verdict=verdict, reviewer_id="USIMREVIEW",
                job="support", prompt_name="support", prompt_version=row["prompt_version"],
                model=row["model"], request_text=row["ask"], draft_text=row["text"],
                final_text=final, edit_distance=levenshtein(row["text"], final) if final else 0,
                decided_at=now))

    await store.run(work)


async def test_learning_loop_lifts_the_sign_off_trait(vllm_server: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    timings: dict[str, float] = {}
    n_train = int(os.environ.get("TANDEM_PROOF_TRAIN", "48"))
    epochs = os.environ.get("TANDEM_PROOF_EPOCHS", "3")
    prompt = replace(PromptBook().get("support"), examples=[])
    base = vllm_server.model
    store = await Store.open(f"sqlite:///{tmp_path / 'tandem.sqlite'}")
    registry = Registry(tmp_path / "adapters.json")

    def request(kind: str, i: int, ask: str, model: str) -> dict[str, Any]:
        messages = prompt.render(request=ask, context="(none)")
        return {"id": f"{kind}-{i:03d}", "ask": ask, "messages": messages, "model": model,
                "prompt_version": prompt.version}

    async with aiohttp.ClientSession() as session:
        # A shared CPU can drop to a few tokens/s across a whole batch: generous deadlines.
        slow = LLMTimeouts(first_token=1200, idle=600, total=1800)
        client = LLMClient(session, vllm_server.base_url, model=base, timeouts=slow)

        # 1. Base drafts for the training requests, reviewed by the simulated reviewer.
        t = time.monotonic()
        train = [request("train", i, ask, base) for i, ask in enumerate(asks(TOPICS)[:n_train])]
        texts = await draft_all(client, [(r["id"], r["messages"], base) for r in train], 48)
        for row, text in zip(train, texts, strict=True):
            row["text"] = text
        await record(store, train)
        timings["draft_and_review_s"] = time.monotonic() - t

        # 2. Export SFT rows from the decisions.
        t = time.monotonic()
        data = tmp_path / "sft.jsonl"
        engine = open_readonly(store.url)
        with data.open("w", encoding="utf-8") as fh:
            counts = export(engine, "sft", fh)
        assert sum(counts.rows.values()) >= n_train * 0.9, counts.summary()
        timings["export_s"] = time.monotonic() - t

        # 3. Train through the real CLI.
        t = time.monotonic()
        out = tmp_path / "adapters" / "proof"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "tune", "train", "--format", "sft",
            "--base", str(vllm_server.model_dir), "--data", str(data), "--out", str(out),
            "--epochs", epochs, "--rank", "16", "--lr", "3e-4",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        log, _ = await proc.communicate()
        assert proc.returncode == 0, log.decode()[-3000:]
        training = json.loads((out / "tandem_training.json").read_text())
        timings["train_s"] = time.monotonic() - t

        # 4. Deploy under the next free version name.
        name = next_name([*await list_models(session, vllm_server.base_url), *registry.names()])
        await deploy_adapter(session, vllm_server.base_url, name, out, registry)
        assert name in await list_models(session, vllm_server.base_url)

        # 5. Held-out requests: the traffic split routes them to the adapter; the same
        #    requests are also drafted on base for a paired comparison.
        t = time.monotonic()
        traffic = {"support": {name: 1.0}}
        held = asks(HELD_OUT_TOPICS)
        arms = [request("eval-base", i, ask, base) for i, ask in enumerate(held)]
        arms += [request("eval-lora", i, ask, choose_model("support", traffic, base, f"h{i}"))
                 for i, ask in enumerate(held)]
        assert {r["model"] for r in arms} == {base, name}
        texts = await draft_all(client, [(r["id"], r["messages"], r["model"]) for r in arms], 72)
        for row, text in zip(arms, texts, strict=True):
            row["text"] = text
        await record(store, arms)
        timings["eval_s"] = time.monotonic() - t

    # 6. Measure.
    trait = {m: sum(has_trait(r["text"]) for r in arms if r["model"] == m) / len(held)
             for m in (base, name)}
    stats = {s.model: s.as_dict() for s in query_stats(engine)}
    engine.dispose()
    await store.close()
    result = {
        "train_requests": n_train, "sft_rows": sum(counts.rows.values()), "epochs": epochs,
        "train_seconds_in_trainer": training["train_seconds"], "train_loss": training["train_loss"],
        "held_out": len(held), "trait_rate_base": trait[base], "trait_rate_adapter": trait[name],
        "approval_base": stats[base]["approved_rate"],
        "approval_adapter": stats[name]["approved_rate"],
        "approval_adapter_ci95": stats[name]["approved_ci95"], "adapter": name,
        **{k: round(v, 1) for k, v in timings.items()},
        "total_s": round(time.monotonic() - started, 1),
        "samples_adapter": [re.sub(r"\s+", " ", r["text"])[:160] for r in arms
                            if r["model"] == name][:3],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))  # noqa: T201
    if os.environ.get("TANDEM_PROOF_JSON"):
        Path(os.environ["TANDEM_PROOF_JSON"]).write_text(json.dumps(result, indent=2))
    assert trait[base] < 0.05, result
    assert trait[name] >= 0.80, result
    assert stats[name]["approved_rate"] > stats[base]["approved_rate"], result
