"""Figures a reply gives that no one gave the model.

Pure functions. Asked to help a customer, the packaged base model states numbers as
facts: an order number ("your order 106352984"), a deadline ("shipped within 1 business
day", "within 40 days of the notice"), an amount ("a fee of $250"). None of them came
from the conversation, the request or the sources: 45 of 96 saved support replies of
four bench runs gave one (`tests/bench/bench_prompt_stops.py --save`). A customer holds
the team to them. Such a reply or answer is flagged beside its provenance, naming them,
and where the channel posts without review it waits for a person.

A figure is a number written in digits, with what is glued to it ("$250", "10%",
"9:30", "1.0.7"), or an English number in words that counts days, time or money ("within
two business days", "fifty dollars": 8 of 60 different saved replies did). Not figures: a
citation's "[1]", a numbered list's "1.", digits inside a word ("Q3", "COVID-19", "2nd"),
a number in words alone ("one of our team"), and contact details (`bot.drafting.contacts`
judges those). A figure counts as given when what the model was shown has the same
number: in digits, alone or within a number ("5521" in "5521-A"), or in English words
("two weeks" gives "2 weeks", "twenty-four" gives "24 hours").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.drafting.contacts import shown, without_contacts
from bot.prompts import continues, system_text

__all__ = ["FIGURE_JOBS", "INVENTED_FIGURE", "figures", "figures_shown", "invented_figures"]

# The flag's name, in `tandem_drafts_flagged_total{flag=...}` and `T.HELD_BECAUSE`.
INVENTED_FIGURE = "invented_figure"
# The jobs whose text someone acts on as the team's word: a customer reply, an answer.
# A document is the requester's own draft, in which figures are theirs to fill in.
FIGURE_JOBS = frozenset({"support", "question"})

_FIGURE = re.compile(r"(?<![\w\[.,:/-])[$€£¥]?\d+(?:[.,:/]\d+)*(?:%|€)?(?![\w\]]|[.,:/]\d)")
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*>#]+[ \t]*)?\d+[.)](?=\s)", re.MULTILINE)
_DIGITS = re.compile(r"\d+(?:[.,:/]\d+)*")
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
          "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
          "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
          "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
_WORDS = _UNITS | _SCALES
_NUMBER_WORDS = r"(?:" + "|".join(_WORDS) + r")(?:[ -](?:and[ ])?(?:" + "|".join(_WORDS) + r"))*"
_WORD = re.compile(r"\b" + _NUMBER_WORDS + r"\b", re.IGNORECASE)
# A number in words is a figure when it counts something a customer holds the team to:
# "within three business days", "a fee of fifty dollars". Alone ("one of our team") it
# is not. English only.
_WORD_FIGURE = re.compile(
    r"\b" + _NUMBER_WORDS + r"(?:[ -](?:business|working|calendar|full))?[ -]"
    r"(?:days?|weeks?|months?|years?|hours?|minutes?|percent|dollars?|euros?|pounds?|"
    r"cents?)\b", re.IGNORECASE)


def figures(text: str) -> list[str]:
    """The figures in `text`, as written, each once, in order."""
    text = _LIST_MARKER.sub(" ", without_contacts(text))
    found = [*_FIGURE.finditer(text), *_WORD_FIGURE.finditer(text)]
    return list(dict.fromkeys(m.group() for m in sorted(found, key=lambda m: m.start())))


def invented_figures(text: str, given: Iterable[str]) -> tuple[str, ...]:
    """The figures in `text`, as written, that none of the `given` texts (what the model
    was shown: the ask with its conversation and sources, and the opening it continued)
    holds."""
    seen = "\n".join(given)
    held = {_key(m.group()) for m in _DIGITS.finditer(seen)}
    held |= set(re.findall(r"\d+", seen))
    for words in _WORD.findall(seen):
        held |= {_key(words), *(str(_WORDS[w]) for w in re.findall(r"[a-z]+", words.lower())
                                if w in _WORDS)}
    return tuple(f for f in figures(text) if _key(f) not in held)


def figures_shown(messages: list[dict[str, Any]]) -> list[str]:
    """What a draft's figures may come from: what the model read (the ask, with its
    conversation, request and sources' text: `bot.drafting.contacts.shown` without the
    sources' links or the team's contacts), the opening it continued, and the prompt's
    system text, where a team states its fixed figures (not its examples, which are made
    up). Not where the sources live: a "14" in a file's path or a page's link
    ("/tmp/pytest-14/handbook.md", ".../v14/...") is no deadline anyone gave."""
    return [*shown(messages), continues(messages), system_text(messages)]


def _key(figure: str) -> str:
    """A figure as compared: its digits, without separators ("1,000" is "1000"), or the
    number its words say ("twenty-four hours" is "24")."""
    if any(c.isdigit() for c in figure):
        return re.sub(r"\D", "", figure)
    total = current = 0
    for word in re.findall(r"[a-z]+", figure.lower()):
        if word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if word == "thousand":
                total, current = total + current, 0
        elif word in _UNITS:
            current += _UNITS[word]
    return str(total + current)
