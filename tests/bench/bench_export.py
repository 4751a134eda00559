"""Benchmark: `tandem export` over a large synthetic database, memory and speed.

Seeds N decided drafts (default 200k) into a fresh migrated SQLite database,
then exports SFT rows through a sink that discards them while measuring the
peak Python heap (tracemalloc) and the process's peak RSS. Run twice with
different N to see that memory stays flat while time grows linearly:

    PYTHONPATH=. python3 tests/bench/bench_export.py --decisions 200000

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.store.db import Store  # noqa: E402
from bot.tuning.export import export, open_readonly  # noqa: E402
from tests.tuning.records import bulk_seed  # noqa: E402


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(decisions: int, fmt: str, chunk: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    store = await Store.open(f"sqlite:///{folder / 'tandem.sqlite'}")
    started = time.perf_counter()
    await store.call(bulk_seed, store.engine, decisions)
    seed_s = time.perf_counter() - started
    url = store.url
    await store.close()

    engine = open_readonly(url)
    rss_before = _rss_mib()
    tracemalloc.start()
    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        counts = export(engine, fmt, sink, chunk=chunk)
    export_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    rows = sum(counts.rows.values())
    return {
        "bench": "export", "format": fmt, "decisions": decisions, "rows": rows,
        "duplicates": counts.duplicates, "chunk": chunk, "seed_s": round(seed_s, 1),
        "export_s": round(export_s, 1), "rows_per_s": round(rows / export_s),
        "peak_heap_mib": round(peak / 2**20, 2), "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(_rss_mib(), 1),
        "note": "tracemalloc slows the export about 2x; rows_per_s is a lower bound",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--format", default="sft")
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.decisions, args.format, args.chunk))))  # noqa: T201


if __name__ == "__main__":
    main()
