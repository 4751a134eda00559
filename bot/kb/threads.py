"""One OpenMP thread for a search's dense side, so the lexical side keeps the other core.

A search embeds the query and scans the vectors while SQLite runs BM25 in another
thread. With two cores, torch's default team of two threads for the dense side
fights SQLite for a core; one thread each is faster end to end (100k chunks: p95
66 → 53 ms), though either half alone is a little slower on one thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["single_thread"]


@contextmanager
def single_thread(torch: Any) -> Iterator[None]:
    """torch's intra-op threads for the calling thread set to one, then put back."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
