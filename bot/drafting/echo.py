"""Lines at a draft's end that echo its prompt's frame, or introduce what never came.

Each prompt stops the model where it begins the template's next turn ("\\nCustomer
message:"), but a base model writes the frame a little off: "Conversation sofar:",
"customer email (not yet received):", then "(none)" where the template had an empty
conversation. 7 of 120 drafts of the packaged model (three runs of
`tests/bench/bench_prompt_stops.py --save`, shipped stops) ended so, for the reviewer to
delete. It also ends on labels of its own, with nothing after them: live, 2 of 3 customer
replies ended "Improvements/changes made by customer (or current issues):" and "Next
steps: (no)", and another "Proceeding conversation sofar:". So a last line that ends in
":" goes (nothing follows what it introduces), as does a last line of a filler in
parentheses, alone or after a label; only from a draft's end, and never its only line: a
heading that something follows is the draft's own. A stray word after the last sentence
goes too: one word in lower case, so no sentence ("… if that is possible. prochain": 2 of
those 120 drafts, and live).
"""

from __future__ import annotations

import re

__all__ = ["without_echo"]

# A line of nothing but a filler in parentheses, as the template fills an empty part
# ("(none)", "((no))", "(not answered)", "(no response)"), or a label and one ("Next
# steps: (no)").
_PARENTHESISED = re.compile(r"(?:[^:\n]{1,60}:\s*)?"
                            r"\(+\s*(?:none|nothing|no|not|n/a|empty|all)\b[^()\n]{0,30}\)+[.:]?",
                            re.IGNORECASE)
# One word after the last sentence, on its line, that no stop ends: where the model
# stopped (or drifted away) it often left a word of another language ("… if that is
# possible. prochain", "… [1]. prochains"). In lower case it begins no sentence
# ("… allowed? Yes" stays).
_STRAY_WORD = re.compile(r"([.!?。！？]) +([^\W\d_]+)$")


def without_echo(text: str) -> str:
    """`text` without the lines at its end that introduce nothing (end in ":") or are an
    empty part's filler ("(none)", "Next steps: (no)"), and without a stray word after
    its last sentence. A first line that ends in ":" stays: it is all the draft has."""
    lines = text.rstrip().split("\n")
    while lines:
        line = lines[-1].strip()
        if not line or _PARENTHESISED.fullmatch(line) or (line.endswith(":") and len(lines) > 1):
            lines.pop()
            continue
        break
    text = "\n".join(lines).rstrip()
    stray = _STRAY_WORD.search(text)
    if stray and stray.group(2)[0].islower():
        return text[:stray.start(2)].rstrip()
    return text
