"""Where a draft switches to a writing system that no one in its conversation used.

The packaged base model drifts: asked in English for a reply to a customer, it wrote a
good first line and then "我可以" and "に通客" after every line of an invented dialogue,
to its token limit (`tests/bench/bench_prompt_stops.py` counts the drafts that drift like
this). Letters of a script that appears nowhere in the prompt (its instructions, example,
sources, thread and ask) are where the draft stopped being about the ask. `ScriptGuard`
cuts the streamed text there, so the stream stops and the reviewer gets the part before.

A script the ask names a language of ("write it in Japanese") is allowed, and an ask
to translate allows every script. Only scripts of whole languages count (Chinese
characters, kana, Hangul, Cyrillic, Arabic and so on): Greek letters are left alone, for
technical writing uses them ("β", "µs") where its sources may have spelled them out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.drafting.loops import StreamCut, finished_part

__all__ = ["CUT_SCRIPT", "ScriptGuard", "allowed_scripts", "asks_to_translate", "script_of",
           "scripts_in", "stray_script_at"]

CUT_SCRIPT = "script"  # recorded in a draft's usage as what its end was cut for
# The first word of a letter's Unicode name, for the scripts that count; kana as one.
_SCRIPTS = {"CJK": "han", "HIRAGANA": "kana", "KATAKANA": "kana", "HANGUL": "hangul",
            "CYRILLIC": "cyrillic", "ARABIC": "arabic", "HEBREW": "hebrew", "THAI": "thai",
            "DEVANAGARI": "devanagari", "BENGALI": "bengali", "TAMIL": "tamil",
            "TELUGU": "telugu", "GEORGIAN": "georgian", "ARMENIAN": "armenian",
            "ETHIOPIC": "ethiopic", "KHMER": "khmer", "LAO": "lao", "MYANMAR": "myanmar",
            "GUJARATI": "gujarati", "GURMUKHI": "gurmukhi", "KANNADA": "kannada",
            "MALAYALAM": "malayalam", "SINHALA": "sinhala", "TIBETAN": "tibetan"}


def script_of(c: str) -> str | None:
    """The script (of `_SCRIPTS`) letter `c` is of; None for Latin, Greek, and not letters."""
    if c.isascii() or not c.isalpha():
        return None
    return _SCRIPTS.get(unicodedata.name(c, "").split(" ", 1)[0].split("-", 1)[0])


def scripts_in(texts: Iterable[str]) -> frozenset[str]:
    """The scripts (of `_SCRIPTS`) whose letters appear in `texts`."""
    return frozenset(s for text in texts for c in set(text) if (s := script_of(c)))


# Languages an ask may name for its draft ("write it in Japanese"), by the scripts they
# are written in; in English and in the other languages Tandem's teams ask in.
_NAMED = {
    "han": "chinese mandarin cantonese chino chinois chinesisch cinese chinês",
    "kana": "japanese japonés japonais japanisch giapponese japonês",
    "hangul": "korean coreano coréen koreanisch",
    "cyrillic": "russian ukrainian bulgarian serbian russe russisch ruso russo "
                "ucraniano ukrainien ukrainisch",
    "arabic": "arabic persian farsi urdu árabe arabe arabisch",
    "hebrew": "hebrew hébreu hebräisch hebreo", "thai": "thai tailandés thaï",
    "devanagari": "hindi marathi nepali", "bengali": "bengali bangla", "tamil": "tamil",
    "telugu": "telugu", "georgian": "georgian", "armenian": "armenian",
    "ethiopic": "amharic", "khmer": "khmer", "lao": "lao", "myanmar": "burmese",
    "gujarati": "gujarati", "gurmukhi": "punjabi", "kannada": "kannada",
    "malayalam": "malayalam", "sinhala": "sinhala sinhalese", "tibetan": "tibetan"}
_NAMES = {name: script for script, names in _NAMED.items() for name in names.split()}
_KANJI = {"kana": "han"}  # Japanese is written in both
# An ask to translate may mean any script, named or not ("for our Tokyo customer").
_TRANSLATE = re.compile(r"translat|tradu|übersetz|翻訳|翻译", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def asks_to_translate(ask: str) -> bool:
    """Whether `ask` asks for a translation (in English, Spanish, Portuguese, French,
    Italian, German, Japanese or Chinese)."""
    return _TRANSLATE.search(ask) is not None


def allowed_scripts(prompt: Iterable[str], ask: str) -> frozenset[str] | None:
    """The scripts a draft may be written in: those of its prompt (`scripts_in`) and
    those of languages its `ask` names; None (any) for an ask to translate."""
    if asks_to_translate(ask):
        return None
    named = {_NAMES[w] for w in _WORD.findall(ask.lower()) if w in _NAMES}
    named |= {_KANJI[x] for x in named if x in _KANJI}
    return scripts_in(prompt) | named


def stray_script_at(text: str, allowed: frozenset[str], start: int = 0) -> int | None:
    """Where, from `start`, `text` first has a letter of a script not in `allowed`."""
    for i in range(start, len(text)):
        script = script_of(text[i])
        if script is not None and script not in allowed:
            return i
    return None


class ScriptGuard(StreamCut):
    """A streamed draft, up to its first letter of a script not in `allowed` (None:
    every script is). The draft kept is what came before it, to its last finished
    sentence (the model's own junk word often leads into the drift: "… from HMRC.
    keçingame我可以")."""

    def __init__(self, allowed: frozenset[str] | None) -> None:
        super().__init__()
        self.allowed = allowed

    def where(self, fed_from: int) -> int | None:
        if self.allowed is None:
            return None
        return stray_script_at(self.text, self.allowed, fed_from)

    def keep(self, at: int) -> str:
        return finished_part(self.text[:at])
