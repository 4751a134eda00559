"""What each part of the search does for COVID-QA's chunk-level recall, and where it misses.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_covid_parts.py
Uses `bench_kb_covid.py`'s index (`.data/bench/covid.sqlite`, built if missing) and all
1,380 questions (dev and test). Prints one JSON line per configuration (the relevance
gate off, so every question is ranked), then one line sorting the misses at 5 of the
defaults: is the answer's document in the top 5 (the wrong chunk of it ranks higher) or
not, and where the answer's chunk ranks in the top 50.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import evaluate, load_queries
from bot.kb.ranking import RankParams
from tests.bench.bench_kb_covid import open_index

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".data/bench/covid_qa_eval"
PARTS = {
    "bm25": RankParams(proximity_weight=0, dense_weight=0, window_weight=0, doc_decay=1),
    "bm25_window": RankParams(proximity_weight=0, dense_weight=0, doc_decay=1),
    "bm25_window_proximity": RankParams(dense_weight=0, doc_decay=1),
    "dense": RankParams(bm25_weight=0, proximity_weight=0, window_weight=0, doc_decay=1),
    "all_dense_0.3": RankParams(dense_weight=0.3, doc_decay=1),
    "all_no_doc_decay": RankParams(doc_decay=1),
    "defaults": RankParams(),
}


def _band(rank: int | None) -> str:
    return "6-10" if rank is not None and rank < 10 else "11-50" if rank is not None else ">50"


async def main() -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts/covid_qa_to_eval.py"),
                    str(ROOT.parent / "shared/data/covid_qa"), str(DATA)], check=True,
                   capture_output=True)
    kb, spans, _rate = await open_index(DATA / "papers_corpus.jsonl",
                                        ROOT / ".data/bench/covid.sqlite", LocalEmbedder(), False)
    queries = load_queries(DATA / "papers_queries.jsonl")
    try:
        for name, params in PARTS.items():
            kb.params = replace(params, relevance_gate=False)
            res = await evaluate(kb, queries, spans, k=10)
            print(json.dumps({"parts": name, **{k: res[k] for k in (  # noqa: T201
                "queries", "recall@5", "chunk_recall@1", "chunk_recall@5", "chunk_recall@10")}}),
                flush=True)
        kb.params = RankParams(relevance_gate=False)
        misses: Counter[str] = Counter()
        for q in queries:
            found = await kb.search(q.query, k=50)
            chunk = next((i for i, h in enumerate(found) if h.doc_id in q.relevant
                          and spans[h.chunk_id][1] <= (q.answer_start or -1)
                          < spans[h.chunk_id][2]), None)
            doc = next((i for i, h in enumerate(found) if h.doc_id in q.relevant), None)
            if chunk is not None and chunk < 5:
                continue
            where = "doc_in_top5" if doc is not None and doc < 5 else "doc_not_in_top5"
            misses[f"{where}_chunk_rank_{_band(chunk)}"] += 1
        print(json.dumps({"defaults_misses_at_5": sum(misses.values()),  # noqa: T201
                          **dict(sorted(misses.items()))}))
    finally:
        await kb.close()


if __name__ == "__main__":
    asyncio.run(main())
