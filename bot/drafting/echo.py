"""Lines at a draft's end that echo its prompt's frame rather than answer the ask.

Each prompt stops the model where it begins the template's next turn ("\\nCustomer
message:"), but a base model writes the frame a little off: "Conversation sofar:",
"customer email (not yet received):", then "(none)" where the template had an empty
conversation. 7 of 120 drafts of the packaged model (three runs of
`tests/bench/bench_prompt_stops.py --save`, shipped stops) ended so, for the reviewer to
delete. Such lines are dropped from the end of a draft, and only from its end: a heading
of the same words that something follows is the draft's own. A stray word after the last
sentence goes too: one word in lower case, so no sentence ("… if that is possible.
prochain": 2 of those 120 drafts, and live).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["frame_labels", "without_echo"]

_LABEL = re.compile(r"^([A-Za-z][A-Za-z ]{0,40}):", re.MULTILINE)
# A line of nothing but a filler in parentheses, as the template fills an empty part:
# "(none)", "((no))", "(not answered)", "(no response)".
_PARENTHESISED = re.compile(r"\(+\s*(?:none|nothing|no|not|n/a|empty|all)\b[^()\n]{0,30}\)+[.:]?",
                            re.IGNORECASE)
_FIRST_WORD = re.compile(r"[a-z]+")
# One word after the last sentence, on its line, that no stop ends: where the model
# stopped (or drifted away) it often left a word of another language ("… if that is
# possible. prochain", "… [1]. prochains"). In lower case it begins no sentence
# ("… allowed? Yes" stays).
_STRAY_WORD = re.compile(r"([.!?。！？]) +([^\W\d_]+)$")


def frame_labels(template: str) -> frozenset[str]:
    """The first words of the labels of a prompt's `template` ("Customer message:"
    gives "customer"), lower case."""
    return frozenset(m.group(1).split()[0].lower() for m in _LABEL.finditer(template))


def without_echo(text: str, labels: Iterable[str]) -> str:
    """`text` without the lines at its end that are a frame's label (a line that starts
    with one of `labels`' words, lower case or not, and ends in ":") or an empty part's
    filler ("(none)"), and without a stray word after its last sentence."""
    firsts = tuple(labels)
    lines = text.rstrip().split("\n")
    while lines:
        line = lines[-1].strip()
        word = _FIRST_WORD.match(line.lower())
        if not line or _PARENTHESISED.fullmatch(line) or (
                line.endswith(":") and word is not None and word.group().startswith(firsts)):
            lines.pop()
            continue
        break
    text = "\n".join(lines).rstrip()
    stray = _STRAY_WORD.search(text)
    if stray and stray.group(2)[0].islower():
        return text[:stray.start(2)].rstrip()
    return text
