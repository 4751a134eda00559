"""Documentation-set retrieval benchmarks: real docs that Debian packages install.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_docs.py [--sets node_npm cmake] [--tails]
     [--precision auto|fp32|bf16|int8] [--max-seq-length N]
Builds each corpus with scripts/docs_eval_set.py, ingests it, and asks its questions
(tests/data/kb_docs/: 94 about the Node.js API reference and npm's docs, about 150
long pages; 50 about CMake's reference, about 1,900 short pages), written from
knowledge of the docs before any retrieval was run. The CMake set was written after
the default weights were chosen, as a check on them. Prints one JSON line per set and
method: the defaults, then the calibration rows the issue's table names (BM25 over
chunks, dense MiniLM, simple RRF), so a held-out documentation set's figures can be
compared. Last per set: the share of 30 off-topic questions
(tests/data/kb_docs/offtopic.txt) that get any sources at all, which should be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import evaluate, load_queries
from bot.kb.ranking import RankParams
from tests.bench.bench_kb_covid import offtopic, open_index

ROOT = Path(__file__).resolve().parents[2]
# The calibration rows are the plain methods: no relevance gate, no collapsing of copies.
_OFF = {"relevance_gate": False, "duplicate_share": 2.0}
METHODS = {
    "defaults": RankParams(),
    "defaults_keeping_copies": RankParams(duplicate_share=2.0),
    "bm25_only": RankParams(proximity_weight=0.0, dense_weight=0.0, window_weight=0.0,
                            doc_decay=1.0, **_OFF),
    "dense_only": RankParams(bm25_weight=0.0, proximity_weight=0.0, dense_weight=1.0,
                             window_weight=0.0, doc_decay=1.0, **_OFF),
    "simple_rrf": RankParams(proximity_weight=0.0, dense_weight=1.0, window_weight=0.0,
                             doc_decay=1.0, rrf_k=60.0, **_OFF),
}


QUERIES = {"node_npm": ROOT / "tests/data/kb_docs/queries.jsonl",
           "cmake": ROOT / "tests/data/kb_docs/cmake_queries.jsonl"}


async def run(args: argparse.Namespace) -> int:
    for name in args.sets:
        await run_set(args.data, name, args.precision, args.tails, args.max_seq_length)
    return 0


async def run_set(data: Path, name: str, precision: str = "auto", tails: bool = False,
                  window: int | None = None) -> None:
    corpus = data / f"{name}_corpus.jsonl"
    made = subprocess.run([sys.executable, str(ROOT / "scripts/docs_eval_set.py"), str(corpus),
                           name], capture_output=True, text=True)
    if made.returncode:
        print(json.dumps({"set": name, "skipped": made.stderr.strip()}))  # noqa: T201
        return
    # No query cache: every method embeds its queries, as a search does, so the
    # latency figures of all rows are comparable (a cache made the first row pay).
    kb, spans, rate = await open_index(corpus, data / f"{name}.sqlite",
                                       LocalEmbedder(max_seq_length=window, precision=precision,
                                                     tails=tails), fresh=True)
    try:
        queries = load_queries(QUERIES[name])
        for method, params in METHODS.items():
            kb.params = params
            res = await evaluate(kb, queries, spans, k=10)
            print(json.dumps({"set": name, "method": method, "chunks": len(spans),  # noqa: T201
                              "ingest_chunks_per_s": round(rate or 0.0, 1), **res}), flush=True)
        kb.params = RankParams()
        await offtopic(kb, name)
    finally:
        await kb.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT / ".data/bench/docs_eval")
    parser.add_argument("--sets", nargs="+", choices=sorted(QUERIES), default=sorted(QUERIES))
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "int8"],
                        default="auto", help="the local embedder's bulk precision")
    parser.add_argument("--tails", action="store_true",
                        help="tail vectors (bot.kb.tails), as TANDEM_EMBED_TAIL_VECTORS=1")
    parser.add_argument("--max-seq-length", type=int, default=None,
                        help="tokens of each chunk embedded (default: what this CPU gets)")
    raise SystemExit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
