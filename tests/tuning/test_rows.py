"""Row mapping: every decision kind × every format, with TRL/OpenAI field names."""

from __future__ import annotations

import pytest

from bot.tuning.rows import (
    FORMATS,
    DecisionRecord,
    examples_for_decision,
    examples_for_regeneration,
    prompt_side,
    render,
)

PROMPT = [
    {"role": "system", "content": "You draft replies for the support team."},
    {"role": "user", "content": "Context: invoice #12 shows 3 seats.\nSources: billing FAQ"},
    {"role": "user", "content": "my invoice is wrong"},
]
DRAFT = "Sorry, we will check the invoice."
FINAL = "Sorry, we will check the invoice.\n— The Tandem team"
ASSISTANT = {"role": "assistant"}

# TRL conversational dataset types and OpenAI fine-tuning files, by documented keys.
KEYS = {
    "sft": {"messages"},
    "openai-sft": {"messages"},
    "dpo": {"prompt", "chosen", "rejected"},
    "openai-dpo": {"input", "preferred_output", "non_preferred_output"},
    "kto": {"prompt", "completion", "label"},
}


def rows(record: DecisionRecord, fmt: str) -> list[dict]:
    return [r for e in examples_for_decision(record) if (r := render(e, fmt)) is not None]


def record(verdict: str, final: str | None = None) -> DecisionRecord:
    return DecisionRecord(verdict, "support", PROMPT, DRAFT, final)


# (verdict, final) -> number of rows expected per format
TABLE = {
    ("approved", None): {"sft": 1, "openai-sft": 1, "kto": 1, "dpo": 0, "openai-dpo": 0},
    ("edited", FINAL): {"sft": 1, "openai-sft": 1, "kto": 0, "dpo": 1, "openai-dpo": 1},
    ("rejected", None): {"sft": 0, "openai-sft": 0, "kto": 1, "dpo": 0, "openai-dpo": 0},
    ("expired", None): dict.fromkeys(FORMATS, 0),
    ("failed", None): dict.fromkeys(FORMATS, 0),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("verdict", "final"), list(TABLE))
def test_decision_maps_to_documented_rows_per_format(
    verdict: str, final: str | None, fmt: str,
) -> None:
    out = rows(record(verdict, final), fmt)
    assert len(out) == TABLE[(verdict, final)][fmt]
    for row in out:
        assert set(row) == KEYS[fmt]


def test_approved_sft_targets_the_draft_after_the_exact_prompt() -> None:
    (row,) = rows(record("approved"), "sft")
    assert row["messages"][:-1] == PROMPT
    assert row["messages"][-1] == {**ASSISTANT, "content": DRAFT}


def test_approved_kto_is_labelled_true_with_assistant_completion() -> None:
    (row,) = rows(record("approved"), "kto")
    assert row == {"prompt": PROMPT, "completion": [{**ASSISTANT, "content": DRAFT}], "label": True}


def test_rejected_kto_is_labelled_false() -> None:
    (row,) = rows(record("rejected"), "kto")
    assert row["label"] is False and row["completion"][0]["content"] == DRAFT


def test_edited_sft_targets_the_edited_text() -> None:
    (row,) = rows(record("edited", FINAL), "openai-sft")
    assert row["messages"][-1] == {**ASSISTANT, "content": FINAL}


def test_edited_dpo_prefers_edit_over_draft_in_trl_and_openai_shapes() -> None:
    (trl,) = rows(record("edited", FINAL), "dpo")
    assert trl == {"prompt": PROMPT, "chosen": [{**ASSISTANT, "content": FINAL}],
                   "rejected": [{**ASSISTANT, "content": DRAFT}]}
    (oai,) = rows(record("edited", FINAL), "openai-dpo")
    assert oai == {"input": {"messages": PROMPT},
                   "preferred_output": [{**ASSISTANT, "content": FINAL}],
                   "non_preferred_output": [{**ASSISTANT, "content": DRAFT}]}


def test_edit_that_changed_nothing_yields_no_preference() -> None:
    assert rows(record("edited", DRAFT + "  "), "dpo") == []
    assert len(rows(record("edited", DRAFT), "sft")) == 1


@pytest.mark.parametrize(("verdict", "kept"), [("approved", DRAFT), ("edited", FINAL)])
def test_regenerated_then_kept_prefers_kept_version_over_superseded(
    verdict: str, kept: str,
) -> None:
    chosen = record(verdict, FINAL if verdict == "edited" else None)
    (example,) = examples_for_regeneration(chosen, "An older, worse version.")
    row = render(example, "dpo")
    assert row is not None
    assert row["prompt"] == PROMPT
    assert row["chosen"][0]["content"] == kept
    assert row["rejected"][0]["content"] == "An older, worse version."
    assert render(example, "sft") is None and render(example, "kto") is None


@pytest.mark.parametrize("verdict", ["rejected", "expired", "failed"])
def test_regenerated_then_not_kept_yields_nothing(verdict: str) -> None:
    assert examples_for_regeneration(record(verdict), "older") == []


def test_record_without_prompt_messages_yields_nothing() -> None:
    assert examples_for_decision(DecisionRecord("approved", "support", [], DRAFT)) == []


@pytest.mark.parametrize(("verdict", "final"), [("approved", None), ("edited", FINAL),
                                               ("rejected", None)])
def test_a_draft_begun_with_an_opening_keeps_it_in_trainer_rows_not_openai_rows(
        verdict: str, final: str | None) -> None:
    opening = "Hi, thanks for reaching out. We"
    begun = DecisionRecord(verdict, "support",
                           [*PROMPT, {"role": "assistant", "content": opening}], DRAFT, final)
    for fmt in FORMATS:
        for row in rows(begun, fmt):
            assert row.get("opening") == (None if fmt.startswith("openai") else opening)
            assert set(row) - {"opening"} == KEYS[fmt]
    # A draft without an opening says nothing of one.
    assert all("opening" not in row for fmt in FORMATS for row in rows(record(verdict, final), fmt))


def test_a_kept_regeneration_begun_with_an_opening_keeps_it() -> None:
    opening = "Hi, thanks for reaching out. We"
    kept = DecisionRecord("approved", "support",
                          [*PROMPT, {"role": "assistant", "content": opening}], DRAFT)
    (row,) = [r for e in examples_for_regeneration(kept, "older") if (r := render(e, "dpo"))]
    assert row["opening"] == opening and row["prompt"] == PROMPT


def test_prompt_side_keeps_role_and_content_only() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}], "name": "x"}]
    assert prompt_side(messages) == [{"role": "user", "content": "hi"}]
