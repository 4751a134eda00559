"""Tail vectors: extra dense vectors for the part of a chunk its own vector never saw.

MiniLM reads 128 tokens; a chunk runs to about 240 (median on the COVID papers), and
its one vector sees the title, heading and first ~115 tokens of text. On the COVID-QA
papers 47 % of the answers (643 of 1,380) lie wholly past that point in every chunk
that holds them: the dense side was blind there. With tails on
(`TANDEM_EMBED_TAIL_VECTORS=1`), a chunk with text past its first window also gets a
vector for the next window (title and heading in front, as the first), and its dense
score is the better of the two.

A tail's vector counts `TAIL_WEIGHT` times its cosine: a window lacks the opening that
says what the chunk is about, and at full weight tails pushed out as many right chunks
as they brought in on the Node.js docs. Opt-in, because the price is ingest (a second
vector for most chunks, about half the rate) and the gain is on long documents.
Measured (`tests/bench/bench_kb_*.py --tails`) with default weights: COVID-QA papers
chunk recall@5 0.687 → 0.722 (0.759 → 0.766 tuned), Node/npm docs recall@5 0.926 →
0.936 and CMake 0.82 → 0.84 (one question each: within noise); ingest 82 → 47 chunks/s
on CMake and 95 → 38 on the synthetic 100k set, whose query p95 went 29 → 49 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_TAILS", "TAIL_WEIGHT", "tail_starts"]

TAIL_WEIGHT = 0.9
# One window past the first covers about 220 tokens of a chunk, which is most of a
# chunk of English (the COVID papers' median is 238). A second one did no better in a
# prototype on the COVID papers (chunk recall@5 0.732 either way) and costs a third vector;
# text that splits into many tokens (code, identifiers, other scripts) would take one
# a 90 tokens uncapped (random-letter text of 1,000 characters: 4.7 a chunk).
MAX_TAILS = 1
_STRIDE = 90 / 128  # of the model's window: each window starts this far after the last
_OVERLAP = 20 / 128  # ...and reaches back this far into what the one before saw


def tail_starts(offsets: Sequence[tuple[int, int]], seen: int, window: int) -> list[int]:
    """Character offsets where a chunk's tail windows start.

    `offsets` are the (start, end) characters of each token of the chunk's text,
    `seen` how many of them its first vector read, `window` the model's token cap.
    A window's text runs from its start to the end of the chunk; the model cuts it at
    `window` tokens. At most `MAX_TAILS` windows.
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
