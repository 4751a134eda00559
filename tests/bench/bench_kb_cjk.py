"""Chinese and Japanese questions on a small hand-written set (tests/data/kb_cjk).

Six short handbook pages (five Chinese, one Japanese) are ingested into a throwaway
SQLite store with the local embedder, then 29 questions are asked: 17 that a page
answers and 12 about what no page covers. Prints one JSON line: how many answerable
questions have their page first and in the top 5, and how many unanswerable ones get
no sources (so the bot says it does not know). With six pages the top 5 is an easy
bar; the first place and the unanswered questions are the figures that say something.

    PYTHONPATH=. python3 tests/bench/bench_kb_cjk.py
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.ingest import ingest_paths
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore

DATA = Path(__file__).resolve().parents[1] / "data/kb_cjk"


async def scores(kb: KnowledgeBase) -> dict[str, int]:
    """Ingest the pages into `kb`, ask every question, count."""
    await ingest_paths(kb, [DATA / "docs"], show_progress=False)
    rows = [json.loads(line) for line in (DATA / "queries.jsonl").open(encoding="utf-8")]
    out = {"answerable": 0, "first": 0, "top5": 0, "unanswerable": 0,
           "unanswerable_without_sources": 0}
    for row in rows:
        titles = [hit.title for hit in await kb.search(row["query"], k=5)]
        if row["title"] is None:
            out["unanswerable"] += 1
            out["unanswerable_without_sources"] += not titles
        else:
            out["answerable"] += 1
            out["first"] += bool(titles) and titles[0] == row["title"]
            out["top5"] += row["title"] in titles
    return out


async def run() -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "kb.sqlite")
        store.open()
        kb = KnowledgeBase(store, LocalEmbedder())
        try:
            return await scores(kb)
        finally:
            await kb.close()


def main() -> None:
    print(json.dumps(asyncio.run(run())))  # noqa: T201


if __name__ == "__main__":
    main()
