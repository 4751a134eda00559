"""Remedies a customer reply promises that no one on the team offered.

Pure functions. Asked to help a customer, the packaged base model commits the team to
remedies: asked "what's your return policy on swimwear?", it wrote "We will refund all
returned products up until 14 days after receiving them"; 3 of the 60 different customer
replies saved by seven runs of `tests/bench/bench_prompt_stops.py --save` promised a
refund no one had offered. A customer holds the team to it. Such a reply is flagged
beside its provenance, naming the remedy, and where the channel posts without review it
waits for a person.

A promise is a sentence in which the team commits ("we will", "we'll", "we can", "I will",
"you will receive", "will be refunded") to a remedy: a refund, a replacement, a
reimbursement, compensation, credit, a discount, a voucher, an exchange, something free of
charge, a waived fee. Not promises: a sentence that refuses one ("we cannot refund
swimwear") or only names one ("our refund policy"). A remedy is offered when the team's
own words hold it in a sentence that does not refuse it: the prompt's system text ("Do not
promise refunds" offers none), the sources, and where a teammate asked for the reply,
their request and the thread it is in. A customer asking for a refund does not offer one.
English only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.prompts import system_text, the_ask

__all__ = ["PROMISE_JOBS", "UNOFFERED_PROMISE", "offered", "promises", "unoffered_promises"]

# The flag's name, in `tandem_drafts_flagged_total{flag=...}` and `T.HELD_BECAUSE`.
UNOFFERED_PROMISE = "unoffered_promise"
# A customer reply speaks for the team; an answer quotes its sources, a document is its
# requester's own draft.
PROMISE_JOBS = frozenset({"support"})

# Each remedy by the name the reviewer sees, and the words that name it.
_REMEDIES = {
    "refund": r"refund\w*|money back",
    "replacement": r"replac\w*|re-?ship\w*|re-?send\w*"
                   r"|send(?:s|ing)? (?:you |them |him |her )?(?:a |another )?new",
    "reimbursement": r"reimburs\w*",
    "compensation": r"compensat\w*",
    "credit": r"credit(?:s|ed)?\b(?! card)",
    "discount": r"discount\w*|\d+ ?% off",
    "voucher": r"voucher\w*|coupon\w*|gift card\w*",
    "exchange": r"exchang\w*",
    "free of charge": r"free of charge|for free|at no (?:extra |additional )?(?:cost|charge)"
                      r"|free (?:shipping|return\w*|replacement\w*|repair\w*)",
    "waived fee": r"waiv\w*",
}
_REMEDY = {name: re.compile(r"\b(?:" + words + r")", re.IGNORECASE)
           for name, words in _REMEDIES.items()}
_COMMITS = re.compile(
    r"\b(?:we(?:'ll| will| shall| can| are going to|'re going to| are happy to|'re happy to"
    r"|'d be happy to| would be happy to| have (?:already )?(?:issued|processed|sent|"
    r"arranged|approved))|i(?:'ll| will| can| have (?:already )?(?:issued|processed|sent))"
    r"|(?:we(?:'re| are)|i(?:'m| am)) (?:now |already )?(?:sending|issuing|processing|"
    r"refunding|arranging|crediting|waiving|offering|giving)"
    r"|you(?:'ll| will) (?:receive|get|be (?:refunded|reimbursed|compensated|credited|sent))"
    r"|will be (?:issued|refunded|reimbursed|credited|sent|processed|replaced|waived))\b",
    re.IGNORECASE)
# A remedy's word before one of these names a thing, not the remedy: "we will send you a
# refund request form" promises a form.
_NAMES_A_THING = re.compile(r"\s+(?:request|policy|policies|form|process|application|claim|"
                            r"status|ticket|procedure)s?\b", re.IGNORECASE)
# A sentence that refuses or doubts a remedy promises none.
_REFUSES = re.compile(r"\b(?:not|cannot|unable|never|no longer|unfortunately)\b|n't\b",
                      re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def promises(text: str) -> list[str]:
    """The remedies `text` commits the team to, by name, each once, in order."""
    found: list[str] = []
    for sentence in _sentences(text):
        if not _COMMITS.search(sentence) or _REFUSES.search(sentence):
            continue
        named = sorted((at, name) for name, pattern in _REMEDY.items()
                       if (at := _promised_at(pattern, sentence)) is not None)
        found += [name for _, name in named if name not in found]
    return found


def _promised_at(remedy: re.Pattern[str], sentence: str) -> int | None:
    """Where `sentence` first names the remedy itself, not a thing named after it."""
    for m in remedy.finditer(sentence):
        if not _NAMES_A_THING.match(sentence, m.end()):
            return m.start()
    return None


def unoffered_promises(text: str, offered_by_team: Iterable[str]) -> tuple[str, ...]:
    """The remedies `text` promises that none of the team's texts (`offered`) names, in a
    sentence that does not refuse it ("Do not promise refunds" offers none)."""
    seen = "\n".join(sentence for given in offered_by_team for sentence in _sentences(given)
                     if not _REFUSES.search(sentence))
    return tuple(name for name in promises(text) if not _REMEDY[name].search(seen))


def _sentences(text: str) -> list[str]:
    """`text`'s sentences and lines, a typographer's apostrophe read as "'" ("We’ll")."""
    return _SENTENCE.split(text.replace("’", "'"))


def offered(messages: list[dict[str, Any]], sources: Iterable[Mapping[str, Any]] = (),
            author: str = "member") -> list[str]:
    """The team's words a reply's remedies may come from: the prompt's system text (not
    its examples, which are made up), the sources, and where a teammate (`author`
    "member") asked for it, the ask: their request and the thread's conversation."""
    ask = the_ask(messages) if author == "member" else None
    return [system_text(messages), *(str(src.get("text") or "") for src in sources),
            *([] if ask is None else [ask])]
