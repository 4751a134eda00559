"""Train a LoRA adapter on an exported dataset with TRL and PEFT.

The adapter must load into vLLM at runtime, which sets three rules:
- the rank is at most the server's `--max-lora-rank` (16 for the embedded server);
- no `modules_to_save` (vLLM refuses adapters that carry whole modules);
- the directory holds `adapter_config.json` + `adapter_model.safetensors` only
  (no tokenizer files, so the server keeps using the base model's tokenizer).

Training sees exactly what vLLM saw. The prompt is rendered by the model
directory's own chat template as the server rendered it for the draft: with
`add_generation_prompt=True`, or, for a draft that began with its prompt's opening
(a row's `opening`), as a model turn already begun (`continue_final_message`), cut
before the opening; the target holds the reviewer's text, opening and all (or as the
reviewer rewrote it). The two renderings differ by more than the opening: the embedded
template adds a one-shot example only when no model turn exists, so a support reply
(which has an opening) was served without it. Trained with it, an adapter of 2026-12-06
stopped after the sign-off it had learnt on all 20 held-out prompts as trained, and on
13 of 20 as served (it wrote "team." on the other 7). The target ends with the
end-of-turn token (`<end_of_turn>` for Gemma), so the model learns to stop. SFT rows are
tokenized here and handed to TRL as `input_ids` + `completion_mask` (loss on the answer
only); DPO rows are handed over as the same rendered strings.

On CPU (the embedded Gemma 3 270M) this runs in float32 and takes minutes; on a
GPU the same code trains the production model (pass `--base`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.jsonl import read_objects

__all__ = ["TrainPlan", "dpo_strings", "fitting", "load_rows", "render_prompt", "sft_features",
           "stop_token", "train"]

DEFAULT_MAX_LORA_RANK = 16
# The embedded server's --max-model-len: no draft it served was longer. TRL cuts a longer
# row from the right, which drops the answer and its stop token, so such rows are skipped
# and counted instead. Batches are padded to their longest row, not to this.
DEFAULT_MAX_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class TrainPlan:
    fmt: str  # sft | dpo
    base: Path
    data: Path
    out: Path
    epochs: float = 3.0
    rank: int = 16
    max_lora_rank: int = DEFAULT_MAX_LORA_RANK
    learning_rate: float = 2e-4
    batch_size: int = 4
    max_length: int = DEFAULT_MAX_LENGTH
    seed: int = 0

    def check(self) -> None:
        self.check_options()
        if not self.data.is_file():
            raise ConfigError(f"no dataset at {self.data}")

    def check_options(self) -> None:
        """Everything but the dataset, which `tandem tune train` without --data exports
        after this: a bad flag is refused before that export is written."""
        if self.fmt not in ("sft", "dpo"):
            raise ConfigError(f"--format must be sft or dpo, not {self.fmt!r}")
        # --epochs 0 "trained" in 4 s and wrote an adapter that had learnt nothing.
        for flag, value in (("--epochs", self.epochs), ("--lr", self.learning_rate),
                            ("--max-length", self.max_length)):
            if not value > 0:
                raise ConfigError(f"{flag} must be above 0, not {value}")
        if not 1 <= self.rank <= self.max_lora_rank:
            raise ConfigError(f"--rank {self.rank} must be between 1 and the server's "
                              f"--max-lora-rank ({self.max_lora_rank})")
        if not (self.base / "config.json").is_file():
            raise ConfigError(f"{self.base} is not a prepared model directory (no config.json); "
                              "run `tandem llm serve` once to prepare it, or pass --base")


def _chat(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(m, dict) and "role" in m and "content" in m for m in value)


def _row_problem(fmt: str, row: dict[str, Any]) -> str | None:
    if fmt == "sft":
        if _chat(row.get("messages")) and row["messages"][-1]["role"] == "assistant":
            return None
        hint = " (a DPO row: pass --format dpo)" if "chosen" in row else ""
        return ("an SFT row needs `messages`, a list of {role, content} ending with the "
                f"assistant's{hint}")
    if all(_chat(row.get(key)) for key in ("prompt", "chosen", "rejected")):
        return None
    hint = " (an SFT row: pass --format sft)" if "messages" in row else ""
    return f"a DPO row needs `prompt`, `chosen` and `rejected`, lists of {{role, content}}{hint}"


def load_rows(path: Path, fmt: str = "sft") -> list[dict[str, Any]]:
    """The dataset's rows, each checked for the shape `fmt` trains on: a line that is not
    JSON, or a row of the other format, is named by its line instead of failing deep in
    training with a KeyError or a JSONDecodeError."""
    rows = []
    for number, row in read_objects(path, ConfigError):
        problem = _row_problem(fmt, row)
        if problem:
            raise ConfigError(f"{path}:{number}: {problem}; `tandem export --format {fmt}` "
                              "writes such rows")
        rows.append(row)
    return rows


def stop_token(tokenizer: Any) -> str:
    """The token that ends a model turn: `<end_of_turn>` for Gemma, else EOS."""
    if "<end_of_turn>" in tokenizer.get_vocab():
        return "<end_of_turn>"
    return str(tokenizer.eos_token)


def render_prompt(tokenizer: Any, messages: list[dict[str, Any]],
                  opening: str | None = None) -> str:
    """The prompt as the server rendered it, up to where the model's text begins, without
    the BOS the tokenizer adds itself. With an `opening`, the server continued the model
    turn it began; the text returned stops before the opening."""
    if opening:
        begun = [*messages, {"role": "assistant", "content": opening}]
        text: str = tokenizer.apply_chat_template(
            begun, continue_final_message=True, add_generation_prompt=False, tokenize=False)
        # Templates trim a message's content; the rendering ends with what is left of it.
        if not text.endswith(opening.strip()):
            raise ConfigError(f"the chat template does not end a begun turn with its opening "
                              f"{opening!r}")
        text = text[: len(text) - len(opening.strip())]
    else:
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                             tokenize=False)
    bos = tokenizer.bos_token
    return text[len(bos):] if bos and text.startswith(bos) else text


def sft_features(tokenizer: Any, row: dict[str, Any]) -> dict[str, list[int]]:
    """`{"messages": [..., assistant]}` → `input_ids` + `completion_mask` for TRL."""
    messages = row["messages"]
    if not messages or messages[-1].get("role") != "assistant":
        raise ConfigError("an SFT row must end with the assistant's message")
    prompt_ids = tokenizer(render_prompt(tokenizer, messages[:-1], row.get("opening")))[
        "input_ids"]
    target = str(messages[-1]["content"]).strip() + stop_token(tokenizer)
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    return {"input_ids": prompt_ids + target_ids,
            "completion_mask": [0] * len(prompt_ids) + [1] * len(target_ids)}


def fitting(rows: list[dict[str, Any]], lengths: list[int],
            max_length: int) -> tuple[list[dict[str, Any]], int]:
    """The rows of at most `max_length` tokens, and how many were longer."""
    kept = [row for row, n in zip(rows, lengths, strict=True) if n <= max_length]
    if not kept:
        raise ConfigError(f"every row is longer than --max-length {max_length} tokens")
    return kept, len(rows) - len(kept)


def dpo_strings(tokenizer: Any, row: dict[str, Any]) -> dict[str, str]:
    """A TRL conversational preference row → standard strings rendered like the server."""
    stop = stop_token(tokenizer)
    return {"prompt": render_prompt(tokenizer, row["prompt"], row.get("opening")),
            "chosen": str(row["chosen"][-1]["content"]).strip() + stop,
            "rejected": str(row["rejected"][-1]["content"]).strip() + stop}


def train(plan: TrainPlan) -> dict[str, Any]:
    """Train and save the adapter; returns what was done (also written beside it)."""
    plan.check()
    # Heavy imports here: `tandem export/stats` must not pay for torch.
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = load_rows(plan.data, plan.fmt)
    if not rows:
        raise ConfigError(f"{plan.data} holds no rows")
    tokenizer = AutoTokenizer.from_pretrained(plan.base)
    model = AutoModelForCausalLM.from_pretrained(plan.base, dtype="float32",
                                                 attn_implementation="eager")
    lora = LoraConfig(r=plan.rank, lora_alpha=2 * plan.rank, lora_dropout=0.05,
                      target_modules="all-linear", task_type="CAUSAL_LM")
    common: dict[str, Any] = {
        "output_dir": str(plan.out / ".checkpoints"), "num_train_epochs": plan.epochs,
        "per_device_train_batch_size": plan.batch_size, "learning_rate": plan.learning_rate,
        "lr_scheduler_type": "constant", "warmup_steps": 0, "logging_steps": 5,
        "save_strategy": "no", "report_to": [], "seed": plan.seed, "use_cpu": not _has_cuda(),
        "disable_tqdm": False, "bf16": False, "fp16": False,
        # TRL turns checkpointing on by default; a 270M model needs no memory saving and
        # recomputing activations costs about a third more time on CPU.
        "gradient_checkpointing": False,
    }
    started = time.monotonic()
    if plan.fmt == "sft":
        from trl import SFTConfig, SFTTrainer  # type: ignore[attr-defined]

        features = [sft_features(tokenizer, r) for r in rows]
        data, too_long = fitting(features, [len(f["input_ids"]) for f in features],
                                 plan.max_length)
        stop_id = tokenizer.convert_tokens_to_ids(stop_token(tokenizer))
        if data[0]["input_ids"][-1] != stop_id:  # the model would never learn to stop
            raise ConfigError("the end-of-turn token is not the last training target")
        trainer: Any = SFTTrainer(
            model=model, processing_class=tokenizer, train_dataset=Dataset.from_list(data),
            peft_config=lora,
            args=SFTConfig(**common, max_length=plan.max_length, completion_only_loss=True),
        )
    else:
        from trl import DPOConfig, DPOTrainer  # type: ignore[attr-defined]

        pairs = [dpo_strings(tokenizer, r) for r in rows]
        pairs, too_long = fitting(pairs, [_pair_length(tokenizer, p) for p in pairs],
                                  plan.max_length)
        trainer = DPOTrainer(
            model=model, processing_class=tokenizer,
            train_dataset=Dataset.from_list(pairs),
            peft_config=lora, args=DPOConfig(**common, max_length=plan.max_length),
        )
    result = trainer.train()
    plan.out.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(str(plan.out))  # adapter_config.json + safetensors only
    seconds = time.monotonic() - started
    config_path = plan.out / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("modules_to_save"):
        raise ConfigError("the adapter carries modules_to_save, which vLLM refuses")
    summary = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(plan).items()},
        "rows": len(rows) - too_long, "skipped_too_long": too_long,
        "train_seconds": round(seconds, 1),
        "train_loss": float(result.training_loss),
    }
    (plan.out / "tandem_training.json").write_text(json.dumps(summary, indent=2), "utf-8")
    return summary


def _pair_length(tokenizer: Any, pair: dict[str, str]) -> int:
    """Tokens of the prompt and the longer answer, with the BOS the tokenizer adds."""
    prompt = len(tokenizer(pair["prompt"])["input_ids"])
    return prompt + max(len(tokenizer(pair[k], add_special_tokens=False)["input_ids"])
                        for k in ("chosen", "rejected"))


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
