"""Where a draft switches to a writing system that no one in its conversation used.

The packaged base model drifts: asked in English for a reply to a customer, it wrote a
good first line and then "我可以" and "に通客" after every line of an invented dialogue,
to its token limit (`tests/bench/bench_prompt_stops.py` counts the drafts that drift like
this). Letters of a script
that appears nowhere in the prompt (its instructions, example, sources, thread and ask)
are where the draft stopped being about the ask. `ScriptGuard` cuts the streamed text
there, so the stream stops and the reviewer gets the part before.

Only scripts of whole languages count (Chinese characters, kana, Hangul, Cyrillic,
Arabic and so on): Greek letters are left alone, for technical writing uses them ("β",
"µs") where its sources may have spelled them out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.drafting.loops import StreamCut, finished_part

__all__ = ["CUT_SCRIPT", "ScriptGuard", "scripts_in", "stray_script_at"]

CUT_SCRIPT = "script"  # recorded in a draft's usage as what its end was cut for
# The first word of a letter's Unicode name, for the scripts that count; kana as one.
_SCRIPTS = {"CJK": "han", "HIRAGANA": "kana", "KATAKANA": "kana", "HANGUL": "hangul",
            "CYRILLIC": "cyrillic", "ARABIC": "arabic", "HEBREW": "hebrew", "THAI": "thai",
            "DEVANAGARI": "devanagari", "BENGALI": "bengali", "TAMIL": "tamil",
            "TELUGU": "telugu", "GEORGIAN": "georgian", "ARMENIAN": "armenian",
            "ETHIOPIC": "ethiopic", "KHMER": "khmer", "LAO": "lao", "MYANMAR": "myanmar",
            "GUJARATI": "gujarati", "GURMUKHI": "gurmukhi", "KANNADA": "kannada",
            "MALAYALAM": "malayalam", "SINHALA": "sinhala", "TIBETAN": "tibetan"}


def _script(c: str) -> str | None:
    if c.isascii() or not c.isalpha():
        return None
    return _SCRIPTS.get(unicodedata.name(c, "").split(" ", 1)[0].split("-", 1)[0])


def scripts_in(texts: Iterable[str]) -> frozenset[str]:
    """The scripts (of `_SCRIPTS`) whose letters appear in `texts`."""
    return frozenset(s for text in texts for c in set(text) if (s := _script(c)))


def stray_script_at(text: str, allowed: frozenset[str], start: int = 0) -> int | None:
    """Where, from `start`, `text` first has a letter of a script not in `allowed`."""
    for i in range(start, len(text)):
        script = _script(text[i])
        if script is not None and script not in allowed:
            return i
    return None


class ScriptGuard(StreamCut):
    """A streamed draft, up to its first letter of a script not in `allowed`. The draft
    kept is what came before it, to its last finished sentence (the model's own junk word
    often leads into the drift: "… from HMRC. keçingame我可以")."""

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__()
        self.allowed = allowed

    def where(self, fed_from: int) -> int | None:
        return stray_script_at(self.text, self.allowed, fed_from)

    def keep(self, at: int) -> str:
        return finished_part(self.text[:at])
