"""Training inputs: the server's prompt rendering, the stop token in the targets, TRL's view.

Uses the prepared embedded model's tokenizer (no weights are loaded); skipped
where the model cache has not been prepared yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.tuning.rows import DecisionRecord, examples_for_decision, render
from bot.tuning.train import TrainPlan, dpo_strings, fitting, load_rows, render_prompt, sft_features

PROMPT = [
    {"role": "system", "content": "You draft replies for the support team."},
    {"role": "user", "content": "Customer message: my invoice is wrong"},
]
FINAL = "Sorry about that, we will fix it.\n\n— The Tandem team"
OPENING = "Hi, thanks for reaching out to us. We"
BEGUN_FINAL = "Hi, thanks for reaching out to us. We will fix the invoice.\n\n— The Tandem team"


def _model_dir() -> Path:
    from bot.llm.model_prep import MARKER, default_cache_dir

    folder = default_cache_dir()
    # The marker is written last; checking every file's hash here would cost ~30 s.
    if not (folder / MARKER).is_file():
        pytest.skip(f"embedded model not prepared in {folder}")
    return folder


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(str(_model_dir()))


def sft_row() -> dict[str, Any]:
    record = DecisionRecord("edited", "support", PROMPT, "Sorry.", FINAL)
    row = render(examples_for_decision(record)[0], "sft")
    assert row is not None
    return row


def test_sft_prompt_tokens_equal_what_the_server_feeds_the_model(tokenizer: Any) -> None:
    features = sft_features(tokenizer, sft_row())
    served = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=True,
                                           return_dict=True)["input_ids"]
    n_prompt = features["completion_mask"].index(1)
    assert features["input_ids"][:n_prompt] == served
    assert features["input_ids"].count(tokenizer.bos_token_id) == 1


def test_sft_targets_are_the_answer_and_the_end_of_turn_token(tokenizer: Any) -> None:
    features = sft_features(tokenizer, sft_row())
    target = [t for t, m in zip(features["input_ids"], features["completion_mask"], strict=True)
              if m]
    assert tokenizer.decode(target) == FINAL + "<end_of_turn>"


def begun_record(verdict: str = "edited") -> DecisionRecord:
    """A support draft the server began with the prompt's opening, as the bot stores it."""
    messages = [*PROMPT, {"role": "assistant", "content": OPENING}]
    return DecisionRecord(verdict, "support", messages, OPENING + " are on it.", BEGUN_FINAL)


def served_begun(tokenizer: Any) -> list[int]:
    """The tokens vLLM fed the model for a draft begun with OPENING."""
    begun = [*PROMPT, {"role": "assistant", "content": OPENING}]
    ids: list[int] = tokenizer.apply_chat_template(
        begun, continue_final_message=True, add_generation_prompt=False, tokenize=True,
        return_dict=True)["input_ids"]
    return ids


def test_sft_prompt_of_a_draft_begun_with_an_opening_is_the_begun_turn_the_server_fed(
        tokenizer: Any) -> None:
    row = render(examples_for_decision(begun_record())[0], "sft")
    assert row is not None
    features = sft_features(tokenizer, row)
    served = served_begun(tokenizer)
    # The server's tokens, opening included, then the reviewer's words after it.
    assert features["input_ids"][:len(served)] == served
    n_prompt = features["completion_mask"].index(1)
    prompt_text = tokenizer.decode(features["input_ids"][:n_prompt])
    # Served as a begun turn, the prompt had no one-shot example: neither has training.
    assert "build is green" not in prompt_text and prompt_text.endswith("<start_of_turn>model\n")
    target = [t for t, m in zip(features["input_ids"], features["completion_mask"], strict=True)
              if m]
    assert tokenizer.decode(target) == BEGUN_FINAL + "<end_of_turn>"


def test_dpo_prompt_of_a_draft_begun_with_an_opening_is_the_begun_turn(tokenizer: Any) -> None:
    (pair,) = [r for e in examples_for_decision(begun_record()) if (r := render(e, "dpo"))]
    strings = dpo_strings(tokenizer, pair)
    served = tokenizer.decode(served_begun(tokenizer))
    assert tokenizer.bos_token + strings["prompt"] + OPENING == served
    assert strings["chosen"] == BEGUN_FINAL + "<end_of_turn>"


def test_dpo_strings_render_the_prompt_once_without_bos(tokenizer: Any) -> None:
    record = DecisionRecord("edited", "support", PROMPT, "Sorry.", FINAL)
    (pair,) = [r for e in examples_for_decision(record) if (r := render(e, "dpo"))]
    strings = dpo_strings(tokenizer, pair)
    assert not strings["prompt"].startswith(tokenizer.bos_token)
    assert strings["prompt"] == render_prompt(tokenizer, PROMPT)
    assert strings["chosen"] == FINAL + "<end_of_turn>"
    assert strings["rejected"] == "Sorry.<end_of_turn>"


@pytest.mark.parametrize("fmt", ["sft", "dpo", "kto"])
def test_trl_reads_our_rows_as_conversational(tokenizer: Any, fmt: str) -> None:
    data_utils = pytest.importorskip("trl.data_utils")
    verdict = "approved" if fmt == "kto" else "edited"
    record = DecisionRecord(verdict, "support", PROMPT, "Sorry.", FINAL)
    rows = [r for e in examples_for_decision(record) if (r := render(e, fmt))]
    assert rows and all(data_utils.is_conversational(r) for r in rows)
    templated = data_utils.maybe_apply_chat_template(rows[0], tokenizer)
    assert all(isinstance(v, str) for k, v in templated.items() if k != "label")


def test_rows_longer_than_max_length_are_skipped_and_counted_not_cut(tokenizer: Any) -> None:
    long_record = DecisionRecord("edited", "support",
                                 [PROMPT[0], {"role": "user", "content": "invoice " * 300}],
                                 "Sorry.", FINAL)
    rows = [sft_row(), render(examples_for_decision(long_record)[0], "sft")]
    features = [sft_features(tokenizer, r) for r in rows if r is not None]
    lengths = [len(f["input_ids"]) for f in features]
    assert lengths[0] < 100 < 300 < lengths[1]
    kept, skipped = fitting(features, lengths, max_length=100)
    assert kept == features[:1] and skipped == 1
    with pytest.raises(ConfigError, match="every row is longer than --max-length 20"):
        fitting(features, lengths, max_length=20)


def test_plan_refuses_rank_above_the_servers_max(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "d.jsonl").write_text("{}\n")
    plan = TrainPlan(fmt="sft", base=tmp_path, data=tmp_path / "d.jsonl", out=tmp_path / "o",
                     rank=32, max_lora_rank=16)
    with pytest.raises(ConfigError, match="max-lora-rank"):
        plan.check()


@pytest.mark.parametrize(("field", "value"), [("epochs", 0.0), ("learning_rate", 0.0),
                                              ("max_length", 0)])
def test_plan_refuses_training_that_would_learn_nothing(tmp_path: Path, field: str,
                                                        value: float) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "d.jsonl").write_text("{}\n")
    plan = TrainPlan(fmt="sft", base=tmp_path, data=tmp_path / "d.jsonl", out=tmp_path / "o",
                     **{field: value})
    with pytest.raises(ConfigError, match="must be above 0"):
        plan.check()


def _exported(fmt: str) -> dict[str, Any]:
    record = DecisionRecord("edited", "support", PROMPT, "Sorry.", FINAL)
    rows = [r for e in examples_for_decision(record) if (r := render(e, fmt)) is not None]
    assert rows
    return rows[0]


@pytest.mark.parametrize("fmt", ["sft", "dpo"])
def test_rows_as_tandem_export_writes_them_load_for_training(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(_exported(fmt)) + "\n\n", encoding="utf-8")
    assert load_rows(path, fmt) == [_exported(fmt)]


@pytest.mark.parametrize(("fmt", "lines", "says"), [
    ("sft", ["{not json"], "d.jsonl:1: not JSON"),
    ("sft", ["dpo-row"], "d.jsonl:1: an SFT row needs `messages`"),
    ("sft", ["dpo-row"], "(a DPO row: pass --format dpo)"),
    ("dpo", ["dpo-row", "sft-row"], "d.jsonl:2: a DPO row needs `prompt`, `chosen` and "
                                    "`rejected`, lists of {role, content} (an SFT row: pass "
                                    "--format sft)"),
    ("sft", ['{"messages": [{"role": "user", "content": "hi"}]}'], "ending with the assistant"),
])
def test_a_dataset_line_that_cannot_train_is_named_before_the_model_loads(
        tmp_path: Path, fmt: str, lines: list[str], says: str) -> None:
    rows = {"sft-row": json.dumps(_exported("sft")), "dpo-row": json.dumps(_exported("dpo"))}
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(rows.get(line, line) for line in lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_rows(path, fmt)
    assert says in str(error.value)
