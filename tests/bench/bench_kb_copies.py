"""Copies in the results: Node's API docs ingested as Debian ships them (each page as .md
and as .html), searched with the Node questions of tests/data/kb_docs/queries.jsonl.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_copies.py [--pages 24]
Ingests the .md and .html of the pages those questions name (the first --pages of
them, plus all.html with --all-html) with `tandem kb ingest`'s own code, then asks
each question with copies collapsed (the default) and kept. Prints one JSON line per
mode: the share of top-5 slots that repeat a passage already listed (a result sharing
half its word triples with an earlier result of another file), the distinct pages in
the top 5, and page-level recall@5/@10 (fs.md and fs.html are one page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import QueryCache, load_queries
from bot.kb.ingest import ingest_paths
from bot.kb.ranking import word_triples
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
API = Path("/usr/share/doc/nodejs/api")


def _page(doc_id: str) -> str:
    return Path(doc_id).stem


async def run(args: argparse.Namespace) -> None:
    queries = [q for q in load_queries(ROOT / "tests/data/kb_docs/queries.jsonl")
               if any(d.startswith("node/") for d in q.relevant)]
    pages = list(dict.fromkeys(_page(d) for q in queries for d in q.relevant
                               if d.startswith("node/")))[:args.pages]
    queries = [q for q in queries if any(_page(d) in pages for d in q.relevant)]
    work = Path(tempfile.mkdtemp(prefix="kb-copies-"))
    try:
        folder = work / "api"
        folder.mkdir()
        names = [f"{p}{ext}" for p in pages for ext in (".md", ".html")]
        names += ["all.html"] if args.all_html else []
        for name in names:
            if (API / name).is_file():
                shutil.copy(API / name, folder / name)
        store = SqliteStore(work / "kb.sqlite")
        await asyncio.to_thread(store.open)
        kb = KnowledgeBase(store, QueryCache(LocalEmbedder()))
        report = await ingest_paths(kb, [folder], show_progress=False)
        base = replace(kb.params, relevance_gate=False)
        for mode, share in (("collapsed", base.duplicate_share), ("kept", 2.0)):
            kb.params = replace(base, duplicate_share=share)
            copies = slots = distinct = hit5 = hit10 = 0
            for q in queries:
                found = await kb.search(q.query, k=10)
                gold = {_page(d) for d in q.relevant}
                top = found[:5]
                seen: list[tuple[str, set[tuple[str, ...]]]] = []
                for src in top:
                    t = word_triples(src.text)
                    copies += any(doc != src.doc_id and len(t & s) >= 0.5 * max(len(t), len(s))
                                  for doc, s in seen)
                    seen.append((src.doc_id, t))
                slots += len(top)
                distinct += len({_page(s.doc_id) for s in top})
                hit5 += any(_page(s.doc_id) in gold for s in top)
                hit10 += any(_page(s.doc_id) in gold for s in found)
            n = len(queries)
            print(json.dumps({"mode": mode, "pages": len(pages), "files": len(names),  # noqa: T201
                              "chunks": report.chunks, "queries": n,
                              "copy_share_top5": round(copies / max(slots, 1), 3),
                              "distinct_pages_top5": round(distinct / n, 2),
                              "page_recall@5": round(hit5 / n, 4),
                              "page_recall@10": round(hit10 / n, 4)}), flush=True)
        await kb.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--all-html", action="store_true", help="also ingest all.html (slow)")
    if not API.is_dir():
        raise SystemExit(f"{API} is missing: install Debian's nodejs package")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
