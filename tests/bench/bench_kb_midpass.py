"""Search quality halfway through a re-embed from the old local default (128 tokens, bf16)
to the new (112, int8 where the CPU has VNNI): old and new vectors searched together,
against keywords alone (what a re-embed for another model falls back to).

Run: PYTHONPATH=. python3 tests/bench/bench_kb_midpass.py [--set node_npm|covid]
Needs the corpora the other benchmarks build (`bench_kb_docs.py`, `bench_kb_covid.py`).
Prints one JSON line per mode: before the pass, mid-pass (both), mid-pass keywords only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

import numpy as np

from bot.kb import reembed
from bot.kb.embedding import EmbeddingError, LocalEmbedder
from bot.kb.evaluation import evaluate, load_queries
from tests.bench.bench_kb_covid import _split, open_index

ROOT = Path(__file__).resolve().parents[2]
SETS = {
    "node_npm": (ROOT / ".data/bench/docs_eval/node_npm_corpus.jsonl",
                 lambda: load_queries(ROOT / "tests/data/kb_docs/queries.jsonl")),
    "covid": (ROOT / ".data/bench/covid_qa_eval/papers_corpus.jsonl",
              lambda: _split(ROOT / ".data/bench/covid_qa_eval/papers_queries.jsonl", "test")),
}


class StopsHalfway:
    """The new embedder, failing (as an endpoint going down would) after `budget` chunks."""

    def __init__(self, inner: LocalEmbedder, budget: int) -> None:
        self.inner, self.budget, self.name, self.tails = inner, budget, inner.name, False

    async def dimension(self) -> int:
        return await self.inner.dimension()

    async def embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) > 4:  # a batch of chunks, not a query
            if self.budget <= 0:
                raise EmbeddingError("stopped halfway")
            self.budget -= len(texts)
        return await self.inner.embed(texts)


async def run(name: str) -> None:
    corpus, queries_of = SETS[name]
    queries = queries_of()
    with tempfile.TemporaryDirectory(prefix="kb-midpass-") as tmp:
        old = LocalEmbedder(max_seq_length=128, precision="bf16")
        kb, spans, _ = await open_index(corpus, Path(tmp) / "kb.sqlite", old, fresh=True)
        show = {"set": name}
        res = await evaluate(kb, queries, spans, k=10)
        print(json.dumps({**show, "mode": "before", **res}), flush=True)  # noqa: T201
        new = StopsHalfway(LocalEmbedder(), len(spans) // 2)
        kb.embedder, kb.reembedding = new, True
        try:
            await reembed.reembed(kb)
        except EmbeddingError:
            pass
        kb.reembedding = True
        kb.vectors_mid_pass = reembed.vectors_comparable(kb.store, new.name)
        for mode in ("mid_pass_both", "mid_pass_keywords"):
            res = await evaluate(kb, queries, spans, k=10)
            print(json.dumps({**show, "mode": mode, "from": old.name, "to": new.name,  # noqa: T201
                              "comparable": kb.vectors_mid_pass, **res}), flush=True)
            kb.vectors_mid_pass = False
        await kb.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=sorted(SETS), default="node_npm")
    asyncio.run(run(parser.parse_args().set))


if __name__ == "__main__":
    main()
