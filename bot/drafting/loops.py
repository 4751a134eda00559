"""Where a draft starts repeating itself.

A small base model that has lost its way often loops: the same line or sentence again
and again until its token limit. Asked "can I deploy on a Friday?" about the sandbox's
handbook, the packaged model wrote "#security" on 290 lines. `LoopGuard` watches the
streamed text, and where its end has become one stretch repeated (`loop_start`), it keeps
the first copy and drops the rest, so the stream can stop and the reviewer gets the draft
without the loop, and sooner.

A repeat counts only when it is plainly a loop, not a document's own structure: at least
`MIN_COPIES` copies in a row, covering `MIN_SPAN` characters, of a stretch holding a letter,
a digit or a character markdown does not lay out with (a table's "|---|---|" rule or a
checklist's empty boxes repeat by design; "(.*)" line after line to the token limit,
which the packaged model wrote under a customer reply, does not). Layout alone is a loop
only past `LAYOUT_SPAN` characters: live, the packaged model wrote "* " to its token
limit under a customer reply, 20 s of stars no document draws.
"""

from __future__ import annotations

import re

__all__ = ["CUT_LENGTH", "CUT_REPETITION", "CUT_RESTART", "LoopGuard", "StreamCut",
           "finished_part", "loop_start", "restart_key", "restart_start"]

# Recorded in a draft's usage as what its end was cut for.
CUT_REPETITION = "repetition"
CUT_LENGTH = "length"  # the model stopped at `max_tokens`, mid-sentence as often as not
CUT_RESTART = "restart"  # it wrote its opening again: a second reply after the first
MIN_COPIES = 3
MIN_SPAN = 80  # characters that the copies cover together
MAX_UNIT = 400  # the longest stretch looked for, in characters
# Characters that a stretch of layout alone ("* ", "- [ ] ") must cover, repeated, to be
# a loop: a table's empty rows or a checklist by design stay far below it.
LAYOUT_SPAN = 400
# Where a sentence or line ends: Chinese and Japanese stops too, the Devanagari danda and
# the Arabic question mark.
_ENDS = ".!?\n。！？।؟"
_LAYOUT = set("|-:=*_#>[]+. \t\n")  # what tables, rules, lists and boxes are drawn with
_END_CHARS = tuple(_ENDS)
RESTART_KEY = 24  # characters of an opening that, written again, begin a second reply


def loop_start(text: str) -> int | None:
    """Where the second copy of a loop at the end of `text` begins (the text to keep ends
    there), or None if the end of `text` is no loop."""
    n = len(text)
    for unit in range(1, min(MAX_UNIT, n // MIN_COPIES) + 1):
        if text[n - 1] != text[n - 1 - unit] or text[n - 2 * unit:n - unit] != text[n - unit:]:
            continue
        # The periodic stretch ends at n; walk back to where it begins.
        start = n - 2 * unit
        while start > 0 and text[start - 1] == text[start - 1 + unit]:
            start -= 1
        span = n - start
        layout = set(text[n - unit:]) <= _LAYOUT
        if span >= max(MIN_SPAN, MIN_COPIES * unit) and (span >= LAYOUT_SPAN or not layout):
            if layout:
                return start  # no copy of a run of stars or dashes is worth keeping
            # One copy kept, to where a sentence or line of it ends.
            keep = start + unit
            return next((p for p in range(keep, start + 2 * unit) if text[p - 1] in _ENDS),
                        keep)
    return None


def restart_key(opening: str) -> str | None:
    """What of a draft's `opening`, written again further on, begins a second reply: its
    first `RESTART_KEY` characters, or its first sentence when that is shorter ("您好，感谢您
    联系我们。"); None when neither is there ("According to [1]:", a lead alone, which an
    answer may well write again for another of the source's points)."""
    opening = opening.strip()
    end = next((p + 1 for p, c in enumerate(opening[:RESTART_KEY]) if c in _ENDS), None)
    if end is None and len(opening) < RESTART_KEY:
        return None
    key = opening[:end or RESTART_KEY].strip()
    return key or None


def restart_start(text: str, again: re.Pattern[str], fed_from: int = 0) -> int | None:
    """Where `text` writes an opening's start again (`again`: `restart_key`, any case), at
    a line's or sentence's start past its first character and in its part from `fed_from`
    (or in a copy that began before and ends there), or None."""
    back = len(again.pattern)  # at least the key's length: escaping only lengthens it
    return next((m.start() for m in again.finditer(text, max(1, fed_from - back + 1))
                 if text[:m.start()].rstrip(" \t")[-1:] in _END_CHARS), None)


def finished_part(text: str) -> str:
    """`text` without the unfinished sentence it ends in: up to the last sentence or line
    end in its second half, or all of it when there is none there (one long sentence).
    A code block left open is closed."""
    text = text.rstrip()
    for p in range(len(text) - 1, len(text) // 2, -1):
        if text[p] in _ENDS and _ends_sentence(text, p):
            text = text[:p + 1].rstrip()
            break
    return text + "\n```" if text.count("```") % 2 else text


def _ends_sentence(text: str, p: int) -> bool:
    """Whether the stop at `p` ends a sentence: not "e.g.", "i.e.", a list's "3." or the
    point of "3.5"."""
    if text[p] not in ".!?":
        return True
    if p + 1 < len(text) and not text[p + 1].isspace():
        return False
    start = max(text.rfind(" ", 0, p), text.rfind("\n", 0, p)) + 1
    word = text[start:p]
    if "." in word or (len(word) == 1 and word.isalpha()):
        return False
    return not (word.isdigit() and (start == 0 or text[start - 1] == "\n"))


class StreamCut:
    """A streamed draft, up to where it goes wrong (`where`, for each kind of wrong).

    `feed` returns what can be shown of each piece (all of it, until the text goes
    wrong); once it does, `cut` is set and `text` is the draft kept (`keep`). Text
    already shown beyond that is for the caller to replace.
    """

    def __init__(self) -> None:
        self.text = ""
        self.cut = False

    def where(self, fed_from: int) -> int | None:
        """Where `text` (new from `fed_from`) goes wrong, or None."""
        raise NotImplementedError

    def keep(self, at: int) -> str:
        return self.text[:at]

    def feed(self, delta: str) -> str:
        if self.cut or not delta:
            return ""
        before = len(self.text)
        self.text += delta
        at = self.where(before)
        if at is None:
            return delta
        self.cut, self.text = True, self.keep(at)
        return self.text[before:]

    def shorten(self, kept: str) -> None:
        """Keep no more than `kept`: what a guard ahead of this one in the stream kept,
        when its cut also took back text it had already passed on."""
        if len(kept) < len(self.text):
            self.text = kept


class LoopGuard(StreamCut):
    """A streamed draft, up to where it starts repeating itself: everything before the
    loop and its first copy is kept. Given the `opening` the model continues, also up to
    where it writes that again (`restarted`): having signed off, a model may begin a
    second reply ("… — The Tandem team. Hi, thanks for reaching out to us. We …")."""

    def __init__(self, opening: str = "") -> None:
        super().__init__()
        key = restart_key(opening) if opening else None
        # Compiled once: `where` runs for every piece the model streams.
        self._again = re.compile(re.escape(key), re.IGNORECASE) if key else None
        self.restarted = False

    def where(self, fed_from: int) -> int | None:
        if self._again:
            at = restart_start(self.text, self._again, fed_from)
            if at is not None:
                self.restarted = True
                return at
        return loop_start(self.text)  # a loop may span text fed before
