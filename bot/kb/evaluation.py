"""Retrieval evaluation: ingest a JSONL corpus, run JSONL queries, report recall.

Corpus lines: {"doc_id", "title", "text"}. Query lines: {"query", "relevant":
[doc_id, ...]} and optionally "answer_start" (offset of the answer in the
relevant document) for chunk-level recall: a chunk hits when it holds that
offset. Document-level recall counts any chunk of a relevant document.

`tune` grid-searches the fusion knobs (`RankParams`) on labelled questions, so a
team whose documents differ from the ones the defaults were chosen on can fit
them to its own (`tandem kb tune`).
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bot.jsonl import read_objects
from bot.kb.embedding import Embedder
from bot.kb.ranking import RankParams
from bot.kb.readers import sniff_markup, to_markdown
from bot.kb.service import KnowledgeBase
from bot.kb.types import Document

__all__ = ["DEFAULT_GRID", "EvalFileError", "EvalQuery", "QueryCache", "Tuning",
           "build_index", "evaluate", "load_corpus", "load_queries", "query_notes", "tune"]

# The knobs that differ most between kinds of documents (see `RankParams`).
DEFAULT_GRID: Mapping[str, Sequence[float]] = {
    "dense_weight": (0.3, 0.6, 1.0, 1.5, 2.0),
    "proximity_weight": (0.0, 0.3, 0.5),
    "window_weight": (0.0, 2.0),
    "doc_decay": (1.0, 0.9, 0.7, 0.5),
}


@dataclass(frozen=True)
class EvalQuery:
    query: str
    relevant: frozenset[str]
    answer_start: int | None = None


class EvalFileError(ValueError):
    """A corpus or query file that cannot be read; the message names the file and line."""


def _lines(path: Path, needs: dict[str, type | tuple[type, ...]]
           ) -> list[dict[str, Any]]:
    """The file's JSON objects, each holding `needs` (key: type)."""
    rows = read_objects(path, EvalFileError)
    for number, row in rows:
        wrong = [k for k, kind in needs.items() if not isinstance(row.get(k), kind)]
        if wrong:
            raise EvalFileError(f"{path}:{number}: needs " + ", ".join(
                f'"{k}" ({_kind(needs[k])})' for k in wrong))
    if not rows:
        raise EvalFileError(f"{path}: no lines")
    return [row for _, row in rows]


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list of doc ids", int: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in (kind if isinstance(kind, tuple)
                                                         else (kind,)))


def load_corpus(path: Path, *, collection: str = "eval", notes: list[str] | None = None
                ) -> list[Document]:
    """Corpus lines `{"doc_id", "title", "text"}`, optionally `"url"` and `"kind"`.

    Without a `kind`, a text that is HTML or reStructuredText is turned into markdown
    first (`sniff_markup`), as the same page read from a file would be; a line that
    gives one (`"text"`, `"markdown"`) is taken as it is, which keeps its character
    offsets (`answer_start`) true.

    Lines that share a doc_id are one document, their texts joined in file order (a
    corpus may split a long page into passages): before, each replaced the last, and
    only the final passage was searched. What a reader should know about the file (joined
    ids, lines without text) is added to `notes`.
    """
    docs: dict[str, Document] = {}
    joined: dict[str, int] = {}
    empty: list[str] = []
    for row in _lines(path, {"doc_id": (str, int), "text": str}):
        text, kind = str(row["text"]), row.get("kind")
        title, doc_id = str(row.get("title") or ""), str(row["doc_id"])
        if not kind:
            title, text = to_markdown(text, sniff_markup(text), title=title)
            kind = "markdown"
        if not text.strip():
            empty.append(doc_id)
        if doc_id in docs:
            first = docs[doc_id]
            joined[doc_id] = joined.get(doc_id, 1) + 1
            docs[doc_id] = replace(first, title=first.title or title,
                                   text=f"{first.text}\n\n{text}" if text.strip() else first.text)
            continue
        docs[doc_id] = Document(doc_id=doc_id, title=title,
                                url=str(row.get("url") or row["doc_id"]), text=text,
                                collection=collection, kind=str(kind))
    if notes is not None and joined:
        notes.append(f"{path}: doc_ids on several lines: {len(joined)} ({_some(joined)}); "
                     "each one's texts are joined into one document")
    if notes is not None and empty:
        notes.append(f"{path}: lines without text: {len(empty)} ({_some(empty)}); they are "
                     "not searchable")
    return list(docs.values())


def _some(ids: Iterable[str], shown: int = 3) -> str:
    ids = list(ids)
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def query_notes(path: Path, queries: Sequence[EvalQuery], doc_ids: set[str]) -> list[str]:
    """What a reader of the results should know about `queries`: questions that count as
    misses whatever the search does (no relevant doc in the corpus, or no words)."""
    notes = []
    absent = [q for q in queries if not q.relevant & doc_ids]
    if absent:
        names = sorted({d for q in absent for d in q.relevant})
        notes.append(f"{path}: questions naming no doc_id of the corpus: {len(absent)} "
                     f"({_some(names)}); they count as misses")
    blank = sum(not q.query.strip() for q in queries)
    if blank:
        notes.append(f"{path}: empty questions: {blank}; they count as misses")
    return notes


def load_queries(path: Path) -> list[EvalQuery]:
    return [EvalQuery(query=str(row["query"]), relevant=frozenset(map(str, row["relevant"])),
                      answer_start=row.get("answer_start"))
            for row in _lines(path, {"query": str, "relevant": list})]


async def build_index(kb: KnowledgeBase, docs: Sequence[Document], *, batch: int = 8
                      ) -> tuple[dict[str, tuple[str, int, int]], float]:
    """Ingest docs; return chunk_id → (doc_id, start, end) and chunks per second."""
    spans: dict[str, tuple[str, int, int]] = {}
    started = time.perf_counter()
    for i in range(0, len(docs), batch):
        records = await kb.prepare(docs[i:i + batch])
        await kb.write(records)
        for rec in records:
            for c in rec.chunks:
                spans[c.chunk_id] = (rec.doc.doc_id, c.start, c.start + len(c.text))
    elapsed = time.perf_counter() - started
    return spans, (len(spans) / elapsed if elapsed > 0 else 0.0)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def evaluate(kb: KnowledgeBase, queries: Sequence[EvalQuery],
                   spans: dict[str, tuple[str, int, int]], *, k: int = 10,
                   ignore: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Recall and latency of `queries`. Results whose doc_id `ignore` accepts are
    passed over, as if not in the store (a deeper search fills their places)."""
    depth = max(k, 10)
    doc_ranks: list[int | None] = []
    chunk_ranks: list[int | None] = []
    latencies: list[float] = []
    unanswered = 0  # questions given no sources: the "nothing relevant" gate said so
    for q in queries:
        started = time.perf_counter()
        sources = await kb.search(q.query, k=depth * 3 if ignore else depth)
        if ignore is not None:
            sources = [src for src in sources if not ignore(src.doc_id)][:depth]
        latencies.append((time.perf_counter() - started) * 1000)
        unanswered += not sources
        doc_rank = chunk_rank = None
        for rank, src in enumerate(sources, start=1):
            if src.doc_id in q.relevant:
                doc_rank = doc_rank or rank
                _, start, end = spans.get(src.chunk_id, ("", -1, -1))
                if q.answer_start is not None and start <= q.answer_start < end:
                    chunk_rank = chunk_rank or rank
        doc_ranks.append(doc_rank)
        if q.answer_start is not None:
            chunk_ranks.append(chunk_rank)

    def recall(ranks: list[int | None], at: int) -> float:
        return round(sum(1 for r in ranks if r and r <= at) / len(ranks), 4) if ranks else 0.0

    result: dict[str, Any] = {"queries": len(queries)}
    for at in (1, 5, 10):
        result[f"recall@{at}"] = recall(doc_ranks, at)
    result["mrr"] = round(statistics.fmean([1 / r if r and r <= k else 0.0
                                            for r in doc_ranks]), 4) if doc_ranks else 0.0
    if chunk_ranks:
        for at in (1, 5, 10):
            result[f"chunk_recall@{at}"] = recall(chunk_ranks, at)
    result["no_sources"] = round(unanswered / len(queries), 4) if queries else 0.0
    result["p50_ms"] = round(_percentile(latencies, 0.5), 2)
    result["p95_ms"] = round(_percentile(latencies, 0.95), 2)
    return result


class QueryCache:
    """Wraps an embedder so a tuning grid embeds each question once (same name, same vectors)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.tails = getattr(inner, "tails", False)
        self._cache: dict[str, np.ndarray] = {}

    async def dimension(self) -> int:
        return await self.inner.dimension()

    async def tail_starts(self, heads: list[str], bodies: list[str]) -> list[list[int]]:
        finder = getattr(self.inner, "tail_starts", None)
        return await finder(heads, bodies) if finder else [[] for _ in bodies]

    async def embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1:
            return await self.inner.embed(texts)
        if texts[0] not in self._cache:
            self._cache[texts[0]] = (await self.inner.embed(texts))[0]
        return self._cache[texts[0]][None, :]


def _objective(result: Mapping[str, Any]) -> float:
    return float(result["recall@5"]) + float(result.get("chunk_recall@5", 0.0))


class Tuning(NamedTuple):
    params: RankParams  # the best grid point (relevance gate as it was)
    result: dict[str, Any]  # its metrics
    baseline: dict[str, Any]  # the metrics of the params tuning started from


async def tune(kb: KnowledgeBase, queries: Sequence[EvalQuery],
               spans: dict[str, tuple[str, int, int]], *,
               grid: Mapping[str, Sequence[float]] = DEFAULT_GRID,
               on_result: Callable[[RankParams, dict[str, Any]], None] | None = None,
               ignore: Callable[[str], bool] | None = None) -> Tuning:
    """The grid point with the best recall@5 (plus chunk recall@5 where answer offsets
    are known) on `queries`. Ties keep the earlier point, and the knowledge base's
    current params are tried first, so a grid that finds nothing better changes
    nothing. The relevance gate is off for every point, the baseline included (it
    would hide misses), and keeps its values in the result. `ignore` is passed to
    `evaluate`: documents the labels cannot judge, kept out of every ranking."""
    base = kb.params
    names = list(grid)
    points = [base] + [replace(base, **dict[str, Any](zip(names, values, strict=True)))
                       for values in itertools.product(*(grid[n] for n in names))]
    results: list[dict[str, Any]] = []
    try:
        for params in points:
            kb.params = replace(params, relevance_gate=False)
            results.append(await evaluate(kb, queries, spans, k=10, ignore=ignore))
            if on_result is not None:
                on_result(params, results[-1])
    finally:
        kb.params = base
    best = max(range(len(points)), key=lambda i: (_objective(results[i]), -i))
    return Tuning(points[best], results[best], results[0])
