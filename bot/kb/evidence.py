"""The sentence of an answer's sources that best matches its question.

Pure functions. A draft shows it under the answer ("Best match in [2] …"), so checking
an answer against its sources takes one look, and an answer the model got wrong can
be mended from it. The sentence holding the most of the question's words (stemmed),
each weighted by how few of the sentences hold it, wins. A word of the section's own
heading counts half for each sentence under it ("Connecting to the VPN" makes its
sentences about connecting), and a sentence's score is divided by 1 + 0.25 per rank
its source stands below the first: a lone rare word ("home") in a lower source no
longer outweighs the question's subject in the first. On 100 COVID-QA test questions
(tests/bench/bench_kb_evidence.py) it held the annotated answer for 46 (48 without those
two rules), where the packaged model's own answer held it for 9; on the documentation
sets (`--docs`) it comes from a relevant page for 54 of 86 Node.js/npm questions (43)
and 21 of 42 CMake ones (19).

Given the cosines of the five best (`shortlist`) to the question (`closeness`, from
`KnowledgeBase.closeness`), each scores its words' score over the best one's plus half
its cosine, then the rank discount: a rare word no longer outweighs the one the question
is about ("trip" over "meals"). On the documentation sets the sentence came from a
relevant page for 52 of 86 and 22 of 41 questions instead of 49 and 20 (64 tokens,
int8), on 300 COVID-QA questions it held the answer for 140 either way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.kb.chunking import HEADING_SEP
from bot.kb.citations import cite, escape_mrkdwn
from bot.kb.ranking import normalize, stemmed_terms

__all__ = ["best_passage", "best_sentence", "plain", "quoted_answer", "sentences", "shortlist"]

# A sentence ends at . ! ? before a space and what can begin one, or at a CJK stop.
_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[\w])|(?<=[。！？])")
# A line that begins a unit of its own: a list item, quote or table row.
_STARTS = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|>|\|)")
_MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)")
_HEADING = re.compile(r"^\s*#{1,6}\s")
# An FAQ's labels, as approved answers are stored too: "Q: …?" then "A: …".
_QUESTION_LABEL = re.compile(r"Q:\s")
_ANSWER_LABEL = re.compile(r"^A:\s+")
MIN_CHARS, MAX_CHARS = 12, 400
HEADING_SHARE = 0.5  # what a word of the sentence's section heading counts
RANK_DISCOUNT = 0.25  # score / (1 + this × ranks below the first source)
# Given each shortlisted sentence's cosine to the question (`closeness`): score / top
# score + this × cosine, then the rank discount. Only the `SHORTLIST` best by words take
# part, so a search embeds five sentences, not all of its sources'.
DENSE_SHARE = 0.5
SHORTLIST = 5
PASSAGE_CHARS = 400  # what a quoted answer holds at most, beyond a long first sentence
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


def _paragraph_sentences(text: str) -> list[list[str]]:
    """The text's sentences, paragraph by paragraph (see `sentences`)."""
    out = []
    for unit in _units(text):
        kept = []
        for part in _END.split(_ANSWER_LABEL.sub("", unit)):
            part = part.strip()
            if len(part) >= MIN_CHARS and not _asks(part):
                kept.append(part if len(part) <= MAX_CHARS else part[:MAX_CHARS - 1] + "…")
        if kept:
            out.append(kept)
    return out


def _asks(sentence: str) -> bool:
    """A question, or an FAQ's (or an approved answer entry's) "Q:" line: it holds the
    question's words best and answers nothing."""
    return sentence.endswith(("?", "？")) or bool(_QUESTION_LABEL.match(sentence))


def sentences(text: str) -> list[str]:
    """The text's sentences, without heading or list markup or "A:" labels; questions
    (`_asks`) and those shorter than MIN_CHARS are left out, those longer than MAX_CHARS
    cut with "…"."""
    return [s for paragraph in _paragraph_sentences(text) for s in paragraph]


def plain(sentence: str) -> str:
    """`sentence` with its inline Markdown links and strong emphasis as plain words, as
    a quote in Slack shows it ("see [the policy](https://…)" -> "see the policy")."""
    return _STRONG.sub(r"\2", _LINK.sub(r"\1", sentence))


def _stems(text: str) -> set[str]:
    """The text's content words, split and stemmed as the search splits a question
    (Chinese and Japanese into pairs of characters)."""
    return set(stemmed_terms(text))


def best_sentence(question: str, sources: Sequence[Mapping[str, Any]], asked: str = "",
                  closeness: Mapping[str, float] | None = None) -> tuple[int, str] | None:
    """(source number, sentence) of the sentence in `sources` (as a draft records them:
    "n", "text") that best matches `question`; None when none holds a word of it.

    `asked` is the ask itself when `question` adds the thread's question to a short
    follow-up (`bot.drafting.context.search_query`): then, if any sentence (or its
    section's heading) holds a word of the follow-up, only those compete. "and on
    Linux?" wants the "On Linux" section, which the thread's question words miss."""
    best = _best(question, sources, asked, closeness)
    return (best[0], best[1][best[2]]) if best else None


def best_passage(question: str, sources: Sequence[Mapping[str, Any]], asked: str = "",
                 budget: int = PASSAGE_CHARS, closeness: Mapping[str, float] | None = None
                 ) -> tuple[int, str] | None:
    """(source number, passage): the best sentence and those after it in its paragraph,
    as many as fit in `budget` characters. A paragraph keeps to one point, and the
    sentence naming the question's words often only opens it ("The office VPN uses
    WireGuard."), the next ones saying what to do."""
    best = _best(question, sources, asked, closeness)
    if best is None:
        return None
    n, paragraph, i = best
    passage = paragraph[i]
    for more in paragraph[i + 1:]:
        if passage.endswith("…") or len(passage) + 1 + len(more) > budget:
            break
        passage += " " + more
    return n, passage


_Scored = tuple[float, float, float, int, list[str], int]


def _scored(question: str, sources: Sequence[Mapping[str, Any]], asked: str
            ) -> list[_Scored]:
    """(score, score before the rank discount, that discount's divisor, source number,
    paragraph, index of the sentence in it) of each sentence holding a word of
    `question`, best first (a tie goes to the first)."""
    wanted = _stems(question)
    found = [(int(src["n"]), paragraph, i, _stems(s), _stems(_section(src)))
             for src in sources
             for paragraph in _paragraph_sentences(str(src.get("text") or ""))
             for i, s in enumerate(paragraph)]
    if not wanted or not found:
        return []
    holding = {t: sum(t in words or t in head for *_, words, head in found)
               for t in sorted(wanted)}
    # In a fixed order: summed in the set's order, which differs from process to process,
    # two sentences holding equally rare words tied to within a rounding, and which won
    # changed from run to run.
    weight = {t: math.log(1 + len(found) / n) for t, n in holding.items() if n}
    first = min(n for n, *_ in found)
    focus = _stems(asked) & set(weight)
    competing = [f for f in found if focus & (f[3] | f[4])] if focus else found
    scored = []
    for n, paragraph, i, words, head in competing:
        raw = sum(w if t in words else HEADING_SHARE * w
                  for t, w in weight.items() if t in words or t in head)
        divisor = 1 + RANK_DISCOUNT * (n - first)
        score = round(raw / divisor, 9)
        if score > 0:
            scored.append((score, raw, divisor, n, paragraph, i))
    return sorted(scored, key=lambda x: -x[0])  # stable: a tie keeps the first


def shortlist(question: str, sources: Sequence[Mapping[str, Any]], asked: str = ""
              ) -> list[str]:
    """The sentences that may win once their closeness to the question counts: the
    `SHORTLIST` best by their words."""
    return [paragraph[i] for *_, paragraph, i in _scored(question, sources, asked)[:SHORTLIST]]


def _best(question: str, sources: Sequence[Mapping[str, Any]], asked: str,
          closeness: Mapping[str, float] | None = None) -> tuple[int, list[str], int] | None:
    """(source number, paragraph, index of the sentence in it) of the best sentence."""
    scored = _scored(question, sources, asked)
    if not scored:
        return None
    if not closeness:
        return scored[0][3:]
    top = max(raw for _, raw, *_ in scored)

    def weighed(item: _Scored) -> float:
        _, raw, divisor, _n, paragraph, i = item
        return (raw / top + DENSE_SHARE * closeness.get(paragraph[i], 0.0)) / divisor

    return max(scored[:SHORTLIST], key=weighed)[3:]  # max keeps the first of a tie


def _section(source: Mapping[str, Any]) -> str:
    """The last part of a source's heading path ("Title > Section"): the page's title is
    on every chunk of it, and its words say nothing about one sentence."""
    heading = str(source.get("heading") or "")
    return heading.rpartition(HEADING_SEP)[2] if HEADING_SEP in heading else ""


def quoted_answer(question: str, sources: Sequence[Mapping[str, Any]], asked: str = "",
                  closeness: Mapping[str, float] | None = None) -> str | None:
    """The best passage as an answer a reviewer can post instead of the model's, in
    Slack mrkdwn: “the passage” [n], then the Sources block naming its page; None when
    no sentence holds a word of `question`."""
    best = best_passage(question, sources, asked, closeness=closeness)
    if best is None:
        return None
    n, sentence = best
    return cite(f"“{escape_mrkdwn(plain(sentence))}” [{n}]", sources, question)[0]
