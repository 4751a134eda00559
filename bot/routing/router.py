"""The router: context rules first, then the text classifier, then the LLM.

`decide_offline` is pure (no I/O after the classifier's one-time training
from the bundled seed file) and is what `tandem route eval` measures. `decide`
adds one step: when the classifier is unsure and an LLM client was given, it
asks the model to pick among the three jobs with structured output
(`choice`), and falls back to the classifier's answer if the model fails —
routing must never be the reason a mention goes unanswered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.routing.classifier import JOBS, TextClassifier
from bot.routing.rules import context_prior, context_rule

if TYPE_CHECKING:
    from bot.llm.client import LLMClient
    from bot.prompts import Prompt

__all__ = ["JOBS", "RouteDecision", "RouteInput", "Router"]

_JOB_PHRASE = {
    "document": "a request for a document",
    "question": "a question",
    "support": "a customer support request",
}


@dataclass(frozen=True)
class RouteInput:
    text: str
    channel_kind: str = "internal"  # internal | support | shared | im
    author: str = "member"  # member | external
    thread_parent: str | None = None
    explicit: str | None = None  # "doc" | "ask" | "reply" or a job name
    shortcut: bool = False


@dataclass(frozen=True)
class RouteDecision:
    job: str
    reason: str  # human-readable; shown in Slack next to the draft
    source: str  # context | explicit | classifier | llm
    confidence: float


class Router:
    def __init__(
        self,
        *,
        llm: LLMClient | None = None,
        prompt: Prompt | None = None,
        threshold: float = 0.6,
        classifier: TextClassifier | None = None,
    ) -> None:
        self.llm = llm
        self.prompt = prompt
        self.threshold = threshold
        self._classifier = classifier

    @property
    def classifier(self) -> TextClassifier:
        # Trained on first use, not at import or construction: start-up stays
        # instant and a process that never routes never pays for it.
        if self._classifier is None:
            self._classifier = TextClassifier.from_seeds()
        return self._classifier

    def decide_offline(self, inp: RouteInput) -> RouteDecision:
        hit = context_rule(
            text=inp.text,
            channel_kind=inp.channel_kind,
            author=inp.author,
            thread_parent=inp.thread_parent,
            explicit=inp.explicit,
            shortcut=inp.shortcut,
        )
        if hit:
            return RouteDecision(hit.job, hit.reason, hit.source, hit.confidence)
        prior = context_prior(channel_kind=inp.channel_kind, thread_parent=inp.thread_parent)
        pred = self.classifier.predict(inp.text, prior)
        cues = self.classifier.evidence(inp.text, pred.job)
        reason = f"reads like {_JOB_PHRASE[pred.job]}"
        if cues:
            reason += " (" + ", ".join(f"“{c}”" for c in cues) + ")"
        return RouteDecision(pred.job, reason, "classifier", round(pred.confidence, 4))

    def is_unsure(self, decision: RouteDecision) -> bool:
        return decision.source == "classifier" and decision.confidence < self.threshold

    async def decide(self, inp: RouteInput) -> RouteDecision:
        decision = self.decide_offline(inp)
        if self.llm is None or not self.is_unsure(decision):
            return decision
        try:
            from bot.llm.errors import LLMError
        except ImportError:  # the LLM package is optional for routing
            return decision
        if self.prompt is None:
            self.prompt = _router_prompt()  # loaded once, on the first unsure message
        prompt = self.prompt
        messages = prompt.render(
            request=inp.text,
            channel_kind=inp.channel_kind,
            author=inp.author,
            thread_parent=inp.thread_parent or "(none)",
        )
        try:
            reply = await self.llm.complete_chat(
                messages, structured_outputs={"choice": list(JOBS)}, params=prompt.params
            )
        except LLMError as exc:
            return _with_note(decision, f"the language model could not help: {exc.what}")
        job = _reply_text(reply).strip().strip("\"'` .").lower()
        if job not in JOBS:
            return _with_note(decision, f"the language model answered {job[:40]!r}")
        return RouteDecision(
            job,
            f"the language model chose {job} (the classifier was unsure: "
            f"{decision.job} at {decision.confidence:.0%})",
            "llm",
            max(decision.confidence, 0.5) if job == decision.job else 0.5,
        )


def _router_prompt() -> Prompt:
    from bot.prompts import PromptBook

    return PromptBook().get("router")


def _with_note(decision: RouteDecision, note: str) -> RouteDecision:
    return RouteDecision(
        decision.job, f"{decision.reason}; {note}", decision.source, decision.confidence
    )


def _reply_text(reply: Any) -> str:
    """The text of whatever the LLM client returns: a str, or an object/dict holding one."""
    if isinstance(reply, str):
        return reply
    for attr in ("text", "content"):
        value = getattr(reply, attr, None)
        if isinstance(value, str):
            return value
    if isinstance(reply, dict):
        try:
            return str(reply["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            return str(reply.get("text") or reply.get("content") or "")
    return str(reply)
