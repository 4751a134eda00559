"""How much of an answer its sources hold: the words the model did not take from them.

Pure functions. A small model given five sources often answers from its own imagination
(a story about a pager, with names and times no page mentions) and cites nothing. Such an
answer is flagged beside its provenance, before and after the verdict, and where the
channel posts answers without review it waits for a person instead. An answer's words
are read as the search reads a question (`query_terms`: stop words left out, stemmed,
Chinese and Japanese as pairs of characters); a word counts as held when a source's text,
title or heading, the question or its thread holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from bot.kb.citations import CITATION
from bot.kb.ranking import stemmed_terms

__all__ = ["MAX_UNHELD", "MIN_WORDS", "NOT_IN_SOURCES", "Grounding", "grounding"]

# The flag's name, in `tandem_drafts_flagged_total{flag=...}`.
NOT_IN_SOURCES = "not_in_sources"

# Flagged when more than this share of an answer's words is in none of its sources...
# The packaged 270M base model's answers to 100 COVID-QA questions: median share 0.74;
# 80 flagged; of the 7 holding the annotated answer, 1 (tests/bench/bench_kb_evidence.py
# --with-model). At 0.5, 87 and 3. A faithful paraphrase keeps most of its words.
MAX_UNHELD = 0.6
# ...and it has at least this many words: "I don't know [1]." says nothing either way.
MIN_WORDS = 8


class Grounding(NamedTuple):
    words: int  # distinct content words of the answer
    unheld: tuple[str, ...]  # those no source (nor the ask) holds, as the answer writes them

    @property
    def share_unheld(self) -> float:
        return len(self.unheld) / self.words if self.words else 0.0

    @property
    def flagged(self) -> bool:
        return self.words >= MIN_WORDS and self.share_unheld > MAX_UNHELD


def _stems(text: str) -> dict[str, str]:
    """stem -> the word as first written, for each content word of `text` ("[1]" is none)."""
    return stemmed_terms(CITATION.sub(" ", text))


def grounding(answer: str, sources: Sequence[Mapping[str, Any]], question: str = "",
              thread: str = "") -> Grounding:
    """`answer`'s distinct content words, and those that neither `sources` (as a draft
    records them: "text", "title", "heading") nor the `question` and `thread` the model
    was shown hold."""
    held = set(_stems(question)) | set(_stems(thread))
    for src in sources:
        for field in ("text", "title", "heading"):
            held.update(_stems(str(src.get(field) or "")))
    words = _stems(answer)
    return Grounding(len(words), tuple(w for s, w in words.items() if s not in held))
