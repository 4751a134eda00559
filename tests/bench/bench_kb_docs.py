"""Documentation-set retrieval benchmark: the Node.js API reference and npm's docs.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_docs.py
Builds the corpus with scripts/docs_eval_set.py from the docs Debian's nodejs package
installs (about 150 pages), ingests it once, and asks the 94 questions of
tests/data/kb_docs/queries.jsonl, which were written from knowledge of the docs
before any retrieval was run. Prints one JSON line per method: the defaults, then
the calibration rows the issue's table names (BM25 over chunks, dense MiniLM, simple
RRF), so a held-out documentation set's figures can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import QueryCache, build_index, evaluate, load_corpus, load_queries
from bot.kb.ranking import RankParams
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
_OFF = {"min_cosine": -1.0, "min_term_coverage": 0.0}
METHODS = {
    "defaults": RankParams(),
    "bm25_only": RankParams(proximity_weight=0.0, dense_weight=0.0, window_weight=0.0,
                            doc_decay=1.0, **_OFF),
    "dense_only": RankParams(bm25_weight=0.0, proximity_weight=0.0, dense_weight=1.0,
                             window_weight=0.0, doc_decay=1.0, **_OFF),
    "simple_rrf": RankParams(proximity_weight=0.0, dense_weight=1.0, window_weight=0.0,
                             doc_decay=1.0, rrf_k=60.0, **_OFF),
}


async def run(args: argparse.Namespace) -> int:
    corpus = Path(args.data) / "docs_corpus.jsonl"
    made = subprocess.run([sys.executable, str(ROOT / "scripts/docs_eval_set.py"), str(corpus)],
                          capture_output=True, text=True)
    if made.returncode:
        print(json.dumps({"skipped": made.stderr.strip()}))  # noqa: T201
        return 0
    index = Path(args.data) / "docs.sqlite"
    for p in (index, Path(f"{index}-wal"), Path(f"{index}-shm")):
        p.unlink(missing_ok=True)
    store = SqliteStore(index)
    await asyncio.to_thread(store.open)
    kb = KnowledgeBase(store, QueryCache(LocalEmbedder()))
    try:
        spans, rate = await build_index(kb, load_corpus(corpus))
        queries = load_queries(Path(args.queries))
        for name, params in METHODS.items():
            kb.params = params
            res = await evaluate(kb, queries, spans, k=10)
            print(json.dumps({"set": "node_npm_docs", "method": name, "chunks": len(spans),  # noqa: T201
                              "ingest_chunks_per_s": round(rate, 1), **res}), flush=True)
    finally:
        await kb.close()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT / ".data/bench/docs_eval"))
    parser.add_argument("--queries", default=str(ROOT / "tests/data/kb_docs/queries.jsonl"))
    raise SystemExit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
