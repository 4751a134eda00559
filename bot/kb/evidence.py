"""The sentence of an answer's sources that best matches its question.

Pure functions. A draft shows it under the answer ("Best match in [2] …"), so checking
an answer against its sources takes one look, and an answer the model got wrong can
be mended from it. The sentence holding the most of the question's words (stemmed),
each weighted by how few of the sentences hold it, wins; the higher-ranked source wins
a tie. On 100 COVID-QA test questions (tests/bench/bench_kb_evidence.py) it held the
annotated answer for 48, where the packaged model's own answer held it for 9.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.kb.ranking import normalize, query_terms, stem

__all__ = ["best_sentence", "plain", "sentences"]

# A sentence ends at . ! ? before a space and what can begin one, or at a CJK stop.
_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[\w])|(?<=[。！？])")
# A line that begins a unit of its own: a list item, quote or table row.
_STARTS = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|>|\|)")
_MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)")
_HEADING = re.compile(r"^\s*#{1,6}\s")
MIN_CHARS, MAX_CHARS = 12, 400
# Inline Markdown a quoted sentence shows as its words: a link's text, emphasis's words.
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def _units(text: str) -> list[str]:
    """Paragraphs and list items, with soft-wrapped lines joined; headings are left
    out (a title that repeats the question's words says nothing about the answer)."""
    units: list[str] = []
    joining = False
    for line in normalize(text).splitlines():
        if not line.strip() or _HEADING.match(line):
            joining = False
        elif joining and not _STARTS.match(line):
            units[-1] += " " + line.strip()
        else:
            units.append(_MARKUP.sub("", line).strip())
            joining = not line.lstrip().startswith("|")
    return units


def sentences(text: str) -> list[str]:
    """The text's sentences, without heading or list markup; those shorter than
    MIN_CHARS are left out, those longer than MAX_CHARS cut with "…"."""
    out = []
    for unit in _units(text):
        for part in _END.split(unit):
            part = part.strip()
            if len(part) >= MIN_CHARS:
                out.append(part if len(part) <= MAX_CHARS else part[:MAX_CHARS - 1] + "…")
    return out


def plain(sentence: str) -> str:
    """`sentence` with its inline Markdown links and strong emphasis as plain words, as
    a quote in Slack shows it ("see [the policy](https://…)" -> "see the policy")."""
    return _STRONG.sub(r"\2", _LINK.sub(r"\1", sentence))


def _stems(text: str) -> set[str]:
    """The text's content words, split and stemmed as the search splits a question
    (Chinese and Japanese into pairs of characters)."""
    return {stem(t) for t in query_terms(text)}


def best_sentence(question: str, sources: Sequence[Mapping[str, Any]]
                  ) -> tuple[int, str] | None:
    """(source number, sentence) of the sentence in `sources` (as a draft records them:
    "n", "text") that best matches `question`; None when none holds a word of it."""
    wanted = _stems(question)
    found = [(int(src["n"]), s, _stems(s)) for src in sources
             for s in sentences(str(src.get("text") or ""))]
    if not wanted or not found:
        return None
    holding = {t: sum(t in words for _, _, words in found) for t in wanted}
    weight = {t: math.log(1 + len(found) / n) for t, n in holding.items() if n}
    best, best_score = None, 0.0
    for n, sentence, words in found:
        score = sum(w for t, w in weight.items() if t in words)
        if score > best_score:
            best, best_score = (n, sentence), score
    return best
