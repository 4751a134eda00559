"""Dataset rows from decisions: the pure mapping, no database and no I/O.

A decision becomes zero or more *examples* (what was learned), and each example
renders into the rows of the formats that can carry it:

| Decision                                   | Examples                                 |
|--------------------------------------------|------------------------------------------|
| approved                                   | SFT (draft is the target), KTO true      |
| edited                                     | SFT (edited text), preference (edited ≻ draft) |
| rejected                                   | KTO false                                |
| regenerated, later version approved/edited | preference (that version ≻ superseded)   |
| expired, failed                            | none                                     |

The prompt side is always the chat messages the model saw (`Draft.messages`),
copied as role/content pairs; nothing is re-rendered from today's prompts. A draft
that began with its prompt's opening (an assistant message the model continued) keeps
it in `opening` (sft, dpo and kto rows): the server rendered that prompt as a model
turn already begun, which `tandem tune train` must reproduce (`bot.tuning.train`).
The OpenAI formats cannot say so and leave it out.
Field names follow TRL's conversational dataset types (`messages`;
`prompt`/`chosen`/`rejected`; `prompt`/`completion`/`label`) and OpenAI's
fine-tuning files (`messages`; `input`/`preferred_output`/`non_preferred_output`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "FORMATS",
    "DecisionRecord",
    "Example",
    "examples_for_decision",
    "examples_for_regeneration",
    "opening_of",
    "prompt_side",
    "render",
    "rows_for",
]

Format = Literal["sft", "dpo", "kto", "openai-sft", "openai-dpo"]
FORMATS: tuple[str, ...] = ("sft", "dpo", "kto", "openai-sft", "openai-dpo")
Kind = Literal["sft", "pref", "kto"]
Message = dict[str, str]

# Which example kind each format carries.
_KIND_OF: dict[str, Kind] = {
    "sft": "sft",
    "openai-sft": "sft",
    "dpo": "pref",
    "openai-dpo": "pref",
    "kto": "kto",
}


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """What the mapping needs from one decision and the draft it decided."""

    verdict: str
    job: str
    messages: list[dict[str, Any]]
    draft_text: str
    final_text: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """One learned example; `rejected` is set for preferences, `label` for KTO."""

    kind: Kind
    job: str
    prompt: list[Message]
    completion: str
    rejected: str | None = None
    label: bool | None = None
    opening: str | None = None  # the words the model's turn began with, if any


def prompt_side(messages: Iterable[dict[str, Any]]) -> list[Message]:
    """The messages as role/content pairs, dropping Slack or vLLM extras. An opening the
    model continued (an assistant message last) is left out: the draft's text begins
    with it, so the completion side holds it."""
    out = [{"role": str(m.get("role", "user")), "content": _text(m)} for m in messages]
    return out[:-1] if out and out[-1]["role"] == "assistant" else out


def opening_of(messages: list[dict[str, Any]]) -> str | None:
    """The opening the model continued (an assistant message last), or None."""
    if messages and messages[-1].get("role") == "assistant":
        return _text(messages[-1]) or None
    return None


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _usable(text: str | None) -> bool:
    return bool(text and text.strip())


def examples_for_decision(record: DecisionRecord) -> list[Example]:
    """The examples one decision yields; expired, failed and empty ones yield none."""
    prompt = prompt_side(record.messages)
    if not prompt:
        return []  # without the prompt the model saw there is nothing to learn from
    draft, job, opening = record.draft_text, record.job, opening_of(record.messages)
    if record.verdict == "approved" and _usable(draft):
        return [
            Example("sft", job, prompt, draft, opening=opening),
            Example("kto", job, prompt, draft, label=True, opening=opening),
        ]
    if record.verdict == "edited":
        final = record.final_text
        if not _usable(final):
            return []
        assert final is not None
        out = [Example("sft", job, prompt, final, opening=opening)]
        # An "edit" that changed nothing carries no preference.
        if _usable(draft) and final.strip() != draft.strip():
            out.append(Example("pref", job, prompt, final, rejected=draft, opening=opening))
        return out
    if record.verdict == "rejected" and _usable(draft):
        return [Example("kto", job, prompt, draft, label=False, opening=opening)]
    return []


def examples_for_regeneration(chosen: DecisionRecord, superseded_text: str) -> list[Example]:
    """A later version was kept: it is preferred over the version it replaced.

    The prompt is the kept version's messages (the context may have moved on
    between versions; the kept one is what the reviewer judged).
    """
    if chosen.verdict not in ("approved", "edited"):
        return []
    kept = chosen.final_text if chosen.verdict == "edited" else chosen.draft_text
    prompt = prompt_side(chosen.messages)
    if not prompt or not _usable(kept) or not _usable(superseded_text):
        return []
    assert kept is not None
    if kept.strip() == superseded_text.strip():
        return []
    return [Example("pref", chosen.job, prompt, kept, rejected=superseded_text,
                    opening=opening_of(chosen.messages))]


def _assistant(text: str) -> list[Message]:
    return [{"role": "assistant", "content": text}]


def render(example: Example, fmt: str) -> dict[str, Any] | None:
    """The row `example` becomes in `fmt`, or None when the format cannot carry it."""
    if _KIND_OF.get(fmt) != example.kind:
        return None
    if fmt == "openai-sft":
        return {"messages": [*example.prompt, *_assistant(example.completion)]}
    begun = {"opening": example.opening} if example.opening else {}
    if fmt == "sft":
        return {"messages": [*example.prompt, *_assistant(example.completion)], **begun}
    if fmt == "dpo":
        assert example.rejected is not None
        return {
            "prompt": example.prompt,
            "chosen": _assistant(example.completion),
            "rejected": _assistant(example.rejected),
            **begun,
        }
    if fmt == "openai-dpo":
        assert example.rejected is not None
        return {
            "input": {"messages": example.prompt},
            "preferred_output": _assistant(example.completion),
            "non_preferred_output": _assistant(example.rejected),
        }
    # kto: TRL's conversational unpaired preference type.
    return {
        "prompt": example.prompt,
        "completion": _assistant(example.completion),
        "label": bool(example.label),
        **begun,
    }


def rows_for(examples: Iterable[Example], fmt: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job, row) for each example the format carries."""
    for example in examples:
        row = render(example, fmt)
        if row is not None:
            yield example.job, row
