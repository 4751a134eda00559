"""Tail vectors: extra dense vectors for the part of a chunk its own vector never saw.

MiniLM reads 128 tokens; a chunk runs to about 240 (median on the COVID papers), and
its one vector sees the title, heading and first ~115 tokens of text. On the COVID-QA
papers 47 % of the answers (643 of 1,380) lie wholly past that point in every chunk
that holds them: the dense side was blind there. So a chunk with text past its first
window also gets one vector per later window (each with the title and heading in
front, as the first), and its dense score is the best of its vectors.

A window's vector counts `TAIL_WEIGHT` times its cosine: a window lacks the opening
that says what the chunk is about, and at full weight tails pushed out as many right
chunks as they brought in on the Node.js docs. Measured with defaults, base → tails
at 0.9 (recall@5, recall@10): Node/npm 0.926/0.957 → 0.936/0.957, CMake 0.82/0.88 →
0.84/0.90, COVID papers chunk recall@5 0.687 → 0.724 and document recall@5 0.880 →
0.890. The price is ingest: about one more vector per chunk of ~1,000 characters.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_TAILS", "TAIL_WEIGHT", "tail_starts"]

TAIL_WEIGHT = 0.9
# One window past the first covers about 220 tokens of a chunk, which is most of a
# chunk of English (the COVID papers' median is 238). A second one measured no better
# on the COVID papers (chunk recall@5 0.732 either way) and costs a third vector;
# text that splits into many tokens (code, identifiers, other scripts) would take one
# a 90 tokens uncapped (random-letter text of 1,000 characters: 4.7 a chunk).
MAX_TAILS = 1
_STRIDE = 90 / 128  # of the model's window: each window starts this far after the last
_OVERLAP = 20 / 128  # ...and reaches back this far into what the one before saw


def tail_starts(offsets: Sequence[tuple[int, int]], seen: int, window: int) -> list[int]:
    """Character offsets where a chunk's tail windows start.

    `offsets` are the (start, end) characters of each token of the chunk's text,
    `seen` how many of them its first vector read, `window` the model's token cap.
    Each window's text runs from its start to the end of the chunk; the model cuts it
    at `window` tokens.
    """
    n = len(offsets)
    if n <= seen:
        return []
    stride = max(1, round(window * _STRIDE))
    overlap = round(window * _OVERLAP)
    starts: list[int] = []
    pos = max(0, seen - overlap)
    while pos < n and len(starts) < MAX_TAILS:
        starts.append(offsets[pos][0])
        pos += stride
        if pos + overlap >= n:
            break
    return starts
