"""Which language to write to a reader in: the one their message is in.

A draft's opening (`Prompt.opening`) and the bot's own replies are in the reader's
language where Tandem has words for it. A language it has none for must not get the
English ones: the model goes on in the language its opening starts in, so a Russian
customer opened in English was answered in English. Such a message is `UNDETERMINED`,
and its draft has no opening.
"""

from __future__ import annotations

import re
from collections import Counter

from bot.drafting.scripts import script_of
from bot.kb.languages import FUNCTION_WORD_LANGUAGES, query_language
from bot.kb.ranking import STOPWORDS, normalize

__all__ = ["LANGUAGES", "UNDETERMINED", "reply_language"]

UNDETERMINED = "und"  # as in BCP 47: a language not told
# The language a script is written in, where one is far the most likely, for the
# scripts Tandem has words in; Cyrillic with Ukrainian's own letters is Ukrainian.
_SCRIPT_LANGUAGES = {"hangul": "ko", "cyrillic": "ru", "arabic": "ar", "hebrew": "he",
                     "thai": "th", "devanagari": "hi"}
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")
# Greek is no script of `script_of`'s (its letters are maths' too: "α = 0.05"), so a
# message in it is told by its own letters.
_GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")
# Every language `reply_language` tells: the prompts' openings and the bot's own words
# have each of them.
LANGUAGES = frozenset({"en", "zh", "ja", "uk", "el", *_SCRIPT_LANGUAGES.values(),
                       *FUNCTION_WORD_LANGUAGES})
_WORD = re.compile(r"\w+")
# A message this long with not one English function word is not English ("deploy
# broken since this morning" still is: terse English leaves them out).
_ENGLISH_WORDS_BY = 6


def reply_language(text: str) -> str:
    """The language of `text`, to tell its writer something in: "en", a code of
    `bot.kb.languages` (Chinese told apart from Japanese by its kana), the language of a
    script most of its letters are in (Korean, Russian or Ukrainian, Arabic, …), or
    `UNDETERMINED`."""
    letters = Counter(script_of(c) for c in text if c.isalpha())
    greek = len(_GREEK.findall(text))
    if 2 * greek >= letters.total() > 0:
        return "el"
    language = query_language(text)
    if language == "cjk":
        return "ja" if letters["kana"] else "zh"
    script, count = letters.most_common(1)[0] if letters else (None, 0)
    if script is not None and 2 * count >= letters.total():
        if script == "cyrillic" and _UKRAINIAN.search(text):
            return "uk"
        return _SCRIPT_LANGUAGES.get(script, UNDETERMINED)
    if language == "en":
        words = _WORD.findall(normalize(text).lower())
        if len(words) >= _ENGLISH_WORDS_BY and not any(w in STOPWORDS for w in words):
            return UNDETERMINED
    return language
