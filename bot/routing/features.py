"""Text normalisation and feature extraction for the routing classifier.

Features are language-agnostic on purpose: word unigrams and bigrams for
space-separated languages, character n-grams (1-3) over runs of CJK or kana
(Chinese and Japanese have no spaces, so n-grams stand in for words), and
character 3-4-grams over every word, which catch inflections such as
"schreib/schreibe/schreiben" or "redacta/redactar" without a stemmer.
"""

from __future__ import annotations

import re
import unicodedata

from bot.routing.cues import cues

__all__ = ["features", "normalize"]

# Slack markup: user/channel/special mentions and links. Mentions of the bot
# carry no routing signal; a link's visible label is kept, its URL is not.
_SLACK_MENTION = re.compile(r"<[@#!][^>]*>")
_SLACK_LINK = re.compile(r"<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>")
_BARE_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"\s+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_QUESTION_MARKS = "?¿？"


def normalize(text: str) -> str:
    """Lower-case, NFKC (full-width → ASCII), Slack markup and URLs removed."""
    text = _SLACK_LINK.sub(lambda m: m.group(1) or " ", text)
    text = _SLACK_MENTION.sub(" ", text)
    text = _BARE_URL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACES.sub(" ", text).strip()


def features(text: str) -> set[str]:
    """The set of features of one message (binary: presence, not counts)."""
    norm = normalize(text)
    feats: set[str] = cues(norm)
    if any(mark in norm for mark in _QUESTION_MARKS):
        feats.add("p:?")
        if norm.rstrip().endswith(tuple(_QUESTION_MARKS)):
            feats.add("p:ends?")
    for run in _CJK_RUN.findall(norm):
        for n in (1, 2, 3):
            for i in range(len(run) - n + 1):
                feats.add(f"c{n}:{run[i : i + n]}")
        feats.add(f"cend:{run[-2:]}")  # sentence-final particles: 吗, ですか, して
    words = [w for w in _WORD.findall(_CJK_RUN.sub(" ", norm)) if w]
    if words:
        # The first word is often the imperative verb ("write", "redacta").
        feats.add(f"f:{words[0]}")
    for i, word in enumerate(words):
        feats.add(f"w:{word}")
        if i:
            feats.add(f"b:{words[i - 1]}_{word}")
        padded = f"<{word}>"
        for n in (3, 4):
            for j in range(len(padded) - n + 1):
                feats.add(f"g{n}:{padded[j : j + n]}")
    return feats
