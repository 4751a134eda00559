"""Words of another language that a draft slips in, in the same (Latin) script.

The script check (`bot.drafting.scripts`) cuts a draft that switches to Chinese or
Cyrillic. Within Latin script the packaged base model drifts a word at a time, and the
draft reads as if it were fine: "please check your account emails regularly, mendatang
pembelian" (Indonesian) in a reply to a customer, "the team at dimiliki.com … a
treinamento" (Portuguese) in an English document (both live). Such a draft is flagged
beside its provenance, naming the words, and where the channel posts without review it
waits for a person instead. Nothing is cut: a reviewer fixes a word in a second.

A word is another language's when it is common in one of them (`COMMON` on wordfreq's
Zipf scale: at least once in 300,000 words) and rare or unknown in the draft's own
(below `RARE`: under once in ten million), and nothing the model was shown holds it.
The draft's own language is the one its words are most frequent in (`draft_language`). Left
alone: capitalised words (names: "Matt", "Jakarta"), words of links, addresses and code,
and, in a draft in another language, English words (teams write "deploy" in any language).
Nothing is checked where the ask wants another language in the draft: a translation, or
a language it names ("add a Spanish version").

Pure functions; the lists' common words are read once (about a second, `warm` before the
first draft), and the words foreign to a draft's language are kept as one set per language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from bot.drafting.contacts import without_contacts
from bot.drafting.safety import without_code
from bot.drafting.scripts import asks_to_translate

__all__ = ["FOREIGN_WORDS", "draft_language", "foreign_words", "warm"]

# The flag's name, in `tandem_drafts_flagged_total{flag=...}` and `T.HELD_BECAUSE`.
FOREIGN_WORDS = "foreign_words"

COMMON = 3.5  # Zipf frequency from which a word is common in a language
RARE = 2.0  # ... and under which it is rare in the draft's own
FREQUENT = 4.0  # Zipf frequency of the words a draft's language is told by
ENGLISH = 3.0  # Zipf frequency from which an English word is left alone in any draft
MIN_LETTERS = 4  # shorter words are too often words of several languages
# Languages written in Latin letters that wordfreq has lists for, and that a
# multilingual model drifts into. English is one, except for a draft in another language.
_LATIN = ("en", "pt", "es", "fr", "it", "de", "nl", "sv", "da", "nb", "fi", "pl", "cs",
          "sk", "sl", "ro", "hu", "tr", "id", "ms", "fil", "vi", "ca")
# Languages of `_LATIN` but English, by the names an ask may give them ("add a Spanish
# version"), in English and in the languages Tandem's teams ask in.
_NAMED = frozenset("""portuguese português portugués portugais portugiesisch portoghese
    spanish español castellano espagnol spanisch spagnolo espanhol french français francés
    francês französisch francese italian italiano italien italienisch german deutsch
    alemán alemão allemand tedesco dutch nederlands holandés niederländisch néerlandais
    swedish svenska danish dansk norwegian norsk finnish suomi polish polski czech čeština
    slovak slovenčina slovenian slovene slovenščina romanian română hungarian magyar
    turkish türkçe indonesian indonesia malay melayu filipino tagalog vietnamese tiếng
    catalan català""".split())
# Words as wordfreq counts them: letters, with an apostrophe inside ("l'équipe").
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _zipf_buckets(language: str, wordlist: str) -> list[list[str]]:
    """wordfreq's list for `language`: words by frequency, bucket i holding those of
    Zipf frequency (900 - i) / 100. Read here, not through wordfreq's cached readers,
    which would keep every list whole; only the common words are kept (`_common`)."""
    import wordfreq  # noqa: PLC0415 (imported only where drafts are checked)

    return wordfreq.read_cBpack(wordfreq.available_languages(wordlist)[language])


def _bucket(zipf: float) -> int:
    return round(900 - zipf * 100)


@lru_cache(maxsize=1)
def _common() -> dict[str, tuple[list[str], ...]]:
    """Each language's words of Zipf frequency `COMMON` or more (English's from `ENGLISH`),
    by bucket: all that the language of a draft (`_frequent`) and the words foreign to it
    (`_foreign`) need of wordfreq's small lists, read once."""
    return {language: tuple(_zipf_buckets(language, "small")
                            [:_bucket(ENGLISH if language == "en" else COMMON) + 1])
            for language in _LATIN}


@lru_cache(maxsize=4)
def _foreign(language: str) -> frozenset[str]:
    """The words common in another language of `_LATIN` and rare in `language` (and,
    for a language other than English, not common in English: a German reply may say
    "announcement", which Filipino and Indonesian web text also uses)."""
    own = {w for bucket in _zipf_buckets(language, "best")[:_bucket(RARE) + 1] for w in bucket}
    if language != "en":  # and English's common words, which other lists hold too
        own |= {w for bucket in _common()["en"] for w in bucket}
    others = [x for x in _LATIN if x not in (language, "en")]
    return frozenset(w for other in others for bucket in _common()[other] for w in bucket
                     if len(w) >= MIN_LETTERS and w not in own and _WORD.fullmatch(w))


@lru_cache(maxsize=1)
def _frequent() -> dict[str, dict[str, float]]:
    """Each language's words of Zipf frequency `FREQUENT` or more, with it."""
    return {language: {w: (900 - i) / 100
                       for i, bucket in enumerate(buckets[:_bucket(FREQUENT) + 1])
                       for w in bucket}
            for language, buckets in _common().items()}


def draft_language(text: str) -> str | None:
    """The language of `_LATIN` that `text` is written in: the one its words are most
    frequent in, all together (None: no word frequent in any, as in Chinese)."""
    words = [w.lower() for w in _WORD.findall(text)]
    scores = {language: sum(frequent.get(w, 0.0) for w in words)
              for language, frequent in _frequent().items()}
    language, score = max(scores.items(), key=lambda item: item[1])
    return language if score > 0 else None


def warm() -> None:
    """Read the lists for English drafts now, not inside the first draft's check."""
    _frequent()
    _foreign("en")


def foreign_words(text: str, messages: Sequence[Mapping[str, Any]], ask: str = ""
                  ) -> tuple[str, ...]:
    """The words of another language in the draft `text` (each once, as written), that
    none of `messages` (what the model was shown: prompt, thread, ask, sources) holds.
    None where the `ask` wants another language in it: a translation, or a language
    named ("with a Spanish version below")."""
    if asks_to_translate(ask) or _NAMED & {w.lower() for w in _WORD.findall(ask)}:
        return ()
    language = draft_language(text)
    if language is None:
        return ()
    prose = without_contacts(without_code(text))
    candidates = {w: None for w in _WORD.findall(prose) if w == w.lower()}
    if not candidates:
        return ()
    common = _foreign(language)
    found = [w for w in candidates if w in common]
    if not found:
        return ()
    given = {w.lower() for m in messages for w in _WORD.findall(str(m.get("content") or ""))}
    return tuple(w for w in found if w not in given)
