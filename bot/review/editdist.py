"""Edit distance between a draft and its final text.

Word-level Levenshtein: it says how many words a reviewer changed, which is
what the approval metrics care about, and stays fast on long drafts where a
character-level table would be millions of cells.
"""

from __future__ import annotations

__all__ = ["edit_distance"]


def edit_distance(before: str, after: str) -> int:
    a, b = before.split(), after.split()
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]
