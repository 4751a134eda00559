"""Questions in other languages than English, on small hand-written sets.

Two sets, each of short handbook pages and questions, some that a page answers (its
title given) and some about what no page covers:
- `cjk` (tests/data/kb_cjk): five Chinese pages, one Japanese; 17 answerable questions,
  12 not;
- `es_de` (tests/data/kb_es_de): two Spanish pages, two German; 8 answerable, 8 not.

Each set is ingested into a throwaway SQLite store with the local embedder. Prints one
JSON line per set: how many answerable questions have their page first and in the top 5,
and how many unanswerable ones get no sources (so the bot says it does not know). With
a handful of pages the top 5 is an easy bar; the first place and the unanswered
questions are the figures that say something. I wrote the sets myself: they check the
behaviour, they do not measure retrieval in those languages.

    PYTHONPATH=. python3 tests/bench/bench_kb_languages.py
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

DATA = Path(__file__).resolve().parents[1] / "data"
SETS = {"cjk": DATA / "kb_cjk", "es_de": DATA / "kb_es_de", "cross": DATA / "kb_cross"}


async def scores(kb: KnowledgeBase, folder: Path) -> dict[str, int]:
    """Ingest the set's pages into `kb`, ask every question, count."""
    await ingest_paths(kb, [folder / "docs"], show_progress=False)
    rows = [json.loads(line) for line in (folder / "queries.jsonl").open(encoding="utf-8")]
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


async def run(folder: Path, embedder: LocalEmbedder) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "kb.sqlite")
        store.open()
        kb = KnowledgeBase(store, embedder)
        try:
            return await scores(kb, folder)
        finally:
            await kb.close()


def main() -> None:
    embedder = LocalEmbedder()
    for name, folder in SETS.items():
        print(json.dumps({"set": name, **asyncio.run(run(folder, embedder))}))  # noqa: T201


if __name__ == "__main__":
    main()
