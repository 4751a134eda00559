"""`KnowledgeBase`: the async face of the knowledge base that the bot and the CLI use.

It owns one storage backend and one embedder. Every blocking call (SQLite,
psycopg2, the local model) runs in a worker thread, so the event loop never
waits on them. Search is hybrid: BM25 candidates reordered by their best
passage window, then merged with the proximity and dense ranks by weighted
reciprocal-rank fusion, then gated so that a question with nothing relevant
gets an empty list rather than the least-bad chunks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.kb.chunking import chunk_document
from bot.kb.citations import answer_part, check_citations
from bot.kb.embedding import Embedder, english_only
from bot.kb.evidence import shortlist
from bot.kb.languages import function_words, query_language
from bot.kb.ranking import (
    RankParams,
    collapse_duplicates,
    diversify,
    fts_query,
    fuse,
    has_cjk,
    near_query,
    query_terms,
    rescore,
    term_coverage,
    window_scores,
)
from bot.kb.reembed import needs_reembed, reembed_in_background, reembed_now, vectors_comparable
from bot.kb.store_base import ChunkRow, DocInfo, DocRecord, Filters, Store
from bot.kb.types import Chunk, Document, Source

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["ANSWER_PREFIX", "KnowledgeBase", "content_hash", "embed_text", "is_answer_entry"]

log = logging.getLogger(__name__)
CLOSENESS_TIMEOUT = 1.5  # seconds; about 40 ms on 2 cores for a question and 5 sentences
PARAMS_KEY = "rank_params"
# Approved answers become entries whose doc_id is this prefix + the thread's permalink.
ANSWER_PREFIX = "answer:"
# Meta key prefix of an answer's basis: the sources it cited, as their content hashes
# stood when it was approved (`add_answer`).
BASIS_PREFIX = "answer_basis:"


def is_answer_entry(doc_id: str) -> bool:
    return doc_id.startswith(ANSWER_PREFIX)


def content_hash(doc: Document) -> str:
    # Title, location and visibility are part of what a chunk says, so they count.
    key = "\0".join([doc.title, doc.url, doc.collection, doc.private_channel or "", doc.text])
    return hashlib.sha256(key.encode()).hexdigest()


def _stored_params(raw: str | None) -> RankParams | None:
    """Tuned knobs saved with the store; unknown keys (from a newer version) are ignored."""
    if not raw:
        return None
    defaults = dataclasses.asdict(RankParams())
    try:
        # Each value is read as the type of its default (bool, int or float).
        values: dict[str, Any] = {k: type(defaults[k])(v)
                                  for k, v in json.loads(raw).items() if k in defaults}
        return RankParams(**values)
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("ignoring unreadable tuned search settings in the store (%s); "
                    "using the defaults: run `tandem kb tune` again", exc)
        return None


def embed_text(title: str, heading: str, text: str) -> str:
    return "\n".join(part for part in (title, heading, text) if part)


# How the keyword index reads text (`ranking.lexical`), kept with the store.
WORDS = "cjk-pairs"


def index_words_again(store: Store) -> int:
    """A store indexed before Chinese and Japanese were split into pairs of characters
    has the words of its chunks holding such text indexed again, once; returns how many."""
    if store.get_meta("words") == WORDS:
        return 0
    done, after = 0, 0
    while rows := store.chunk_texts(after, 1024):
        after = rows[-1][0]
        todo = [row for row in rows if any(has_cjk(part) for part in row[1:])]
        if todo:
            store.rewrite_words(todo)
            done += len(todo)
    store.set_meta("words", WORDS)
    if done:
        log.info("kb.words_indexed_again", extra={"chunks": done})
    return done


class KnowledgeBase:
    def __init__(self, store: Store, embedder: Embedder, *,
                 params: RankParams | None = None, owned: Sequence[Any] = ()) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params or RankParams()
        self._owned = list(owned)
        # True while the stored vectors are not all this embedder's (`bot.kb.reembed`):
        # search is then lexical only, unless the old vectors are comparable to the new
        # (`vectors_comparable`: the same local model, another window or precision).
        self.reembedding = False
        self.vectors_mid_pass = False
        self._reembed_task: asyncio.Task[None] | None = None
        # Chunks embedded by `prepare` since this opened (reused vectors not counted).
        self.chunks_embedded = 0

    @property
    def vectors_searchable(self) -> bool:
        return not self.reembedding or self.vectors_mid_pass

    @classmethod
    async def open(cls, settings: Settings, *, embedder: Embedder | None = None,
                   params: RankParams | None = None, url: str | None = None,
                   session: Any = None, background: bool = False,
                   show_progress: bool = False) -> KnowledgeBase:
        """Open (creating if needed) the store named by settings; see `bot.kb.config`.

        `session` (an aiohttp.ClientSession) is used by an HTTP embedder; without
        one the knowledge base opens its own and closes it in `close()`. A store whose
        vectors another embedder made is re-embedded (`bot.kb.reembed`) before this
        returns (with a progress bar on stderr if `show_progress`), or with `background`
        in a task, searching by keywords meanwhile.
        """
        from bot.kb.config import build_embedder, build_store

        owned: list[Any] = []
        if embedder is None:
            embedder, own_session = build_embedder(settings, session=session)
            if own_session is not None:
                owned.append(own_session)
        store = build_store(settings, url=url)
        await asyncio.to_thread(store.open)
        await asyncio.to_thread(index_words_again, store)
        if params is None:
            params = _stored_params(await asyncio.to_thread(store.get_meta, PARAMS_KEY))
        settle = getattr(embedder, "settle", None)
        if settle is not None:
            try:  # an HTTP embedder learns whether its server caps texts
                await asyncio.wait_for(settle(), timeout=30)
            except Exception as exc:  # opening does not wait for a server that is down
                log.warning("kb.embedder_unreachable", extra={"error": repr(exc)[:200]})
        kb = cls(store, embedder, params=params, owned=owned)
        kb.reembedding = await asyncio.to_thread(needs_reembed, store, embedder.name)
        kb.vectors_mid_pass = kb.reembedding and await asyncio.to_thread(
            vectors_comparable, store, embedder.name)
        if kb.reembedding and background:
            kb._reembed_task = asyncio.create_task(reembed_in_background(kb))
        elif kb.reembedding:
            try:
                await reembed_now(kb, show_progress=show_progress)
            except BaseException:
                await kb.close()  # what was written stays: the next open resumes there
                raise
        return kb

    async def save_params(self, params: RankParams, names: Iterable[str]) -> None:
        """Keep the tuned knobs `names` with the store: every later `open` of it searches
        with them. Only those are saved, so the other knobs follow this version's defaults."""
        self.params = params
        values = {name: getattr(params, name) for name in names}
        await asyncio.to_thread(self.store.set_meta, PARAMS_KEY,
                                json.dumps(values, sort_keys=True))

    async def close(self) -> None:
        if self._reembed_task is not None:
            self._reembed_task.cancel()  # its progress is saved: the next open resumes
            await asyncio.gather(self._reembed_task, return_exceptions=True)
        await asyncio.to_thread(self.store.close)
        for resource in self._owned:
            await resource.close()

    async def embed_chunks(self, chunks: Sequence[tuple[str, str, str]]
                            ) -> tuple[np.ndarray, list[int], np.ndarray]:
        """(one vector per (title, heading, text), each tail vector's chunk, tail vectors),
        in one embed call, so batches are length-bucketed."""
        texts = [embed_text(t, h, x) for t, h, x in chunks]
        finder = getattr(self.embedder, "tail_starts", None)
        starts = (await finder([embed_text(t, h, "") for t, h, _ in chunks],
                               [x for _, _, x in chunks])
                  if finder is not None and chunks else [[] for _ in chunks])
        owners = [i for i, found in enumerate(starts) for _ in found]
        tails = [embed_text(t, h, x[start:])
                 for (t, h, x), found in zip(chunks, starts, strict=True) for start in found]
        vectors = await self.embedder.embed(texts + tails) if texts \
            else np.zeros((0, 1), np.float32)
        return vectors[:len(texts)], owners, vectors[len(texts):]

    # -- writing ------------------------------------------------------------
    async def prepare(self, docs: Sequence[Document]) -> list[DocRecord]:
        """Chunk and embed documents. A chunk that reads as one already stored for the
        same document (a page with one paragraph edited, a Slack thread with a new reply)
        keeps its stored vector, and a text met twice is embedded once: only what changed
        costs embedding time. With tail vectors (`bot.kb.tails`) every chunk is embedded."""
        chunked: list[tuple[Document, list[Chunk]]] = [(d, chunk_document(d)) for d in docs]
        keys = [(d.title, c.heading, c.text) for d, cs in chunked for c in cs]
        if getattr(self.embedder, "tails", False):
            vectors, owners, tails = await self.embed_chunks(keys)
            self.chunks_embedded += len(keys)
        else:
            stored = await self._stored_vectors([d.doc_id for d in docs])
            todo = list(dict.fromkeys(k for k in keys if k not in stored))
            fresh, owners, tails = await self.embed_chunks(todo)
            self.chunks_embedded += len(todo)
            row = {k: i for i, k in enumerate(todo)}
            vectors = np.stack([stored[k] if k in stored else fresh[row[k]] for k in keys]) \
                if keys else fresh
        records, pos, t = [], 0, 0
        for doc, chunks in chunked:
            end = t
            while end < len(owners) and owners[end] < pos + len(chunks):
                end += 1
            records.append(DocRecord(doc=doc, hash=content_hash(doc), chunks=chunks,
                                     vectors=vectors[pos:pos + len(chunks)],
                                     tail_owners=tuple(o - pos for o in owners[t:end]),
                                     tail_vectors=tails[t:end]))
            pos, t = pos + len(chunks), end
        return records

    async def _stored_vectors(self, doc_ids: list[str]) -> dict[tuple[str, str, str], np.ndarray]:
        """The stored vectors of those documents' chunks, if this embedder made them."""
        if self.reembedding or not doc_ids:
            return {}

        def read() -> dict[tuple[str, str, str], np.ndarray]:
            if self.store.get_meta("embedder") != self.embedder.name:
                return {}
            return self.store.stored_vectors(doc_ids)

        return await asyncio.to_thread(read)

    async def write(self, records: Sequence[DocRecord]) -> None:
        await asyncio.to_thread(self.store.write_documents, records)
        if not self.reembedding:  # mid-pass, the pass names the embedder when it ends
            await asyncio.to_thread(self.store.set_meta, "embedder", self.embedder.name)

    async def upsert(self, docs: Sequence[Document]) -> int:
        records = await self.prepare(docs)
        await self.write(records)
        return sum(len(r.chunks) for r in records)

    async def delete(self, doc_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.store.delete_documents, list(doc_ids))
        # A removed answer's record of its sources goes with it.
        bases = [BASIS_PREFIX + d for d in doc_ids if is_answer_entry(d)]
        if bases:
            await asyncio.to_thread(self.store.delete_metas, bases)

    async def hashes(self, *, collection: str | None = None, prefix: str | None = None,
                     ids: Sequence[str] | None = None) -> dict[str, str]:
        return await asyncio.to_thread(self.store.doc_hashes, collection=collection,
                                       prefix=prefix, ids=ids)

    async def documents(self, *, collection: str | None = None) -> list[DocInfo]:
        return await asyncio.to_thread(self.store.documents, collection=collection)

    async def add_answer(self, *, question: str, answer: str, permalink: str, channel_id: str,
                         collection: str = "answers", private: bool = True,
                         basis: Mapping[str, str | None] | Sequence[str] = ()) -> None:
        """An approved or edited answer becomes an entry linked to its thread.

        `private` defaults to True so an answer from a channel whose visibility the
        caller did not check is never shown elsewhere; pass False for public channels.
        `basis` names the documents the answer was drawn from, with their content
        hashes when it was drafted (None or a bare id: as they are now): once any of
        them changes or is removed, the entry is stale and search leaves it out
        (`stale_answers`).
        """
        # Without its Sources block and citation markers: those name the sources of the
        # draft it answered, not of a later one that cites the entry.
        said = check_citations(answer_part(answer), []).strip()
        doc = Document(doc_id=f"{ANSWER_PREFIX}{permalink}", title=question.strip()[:200],
                       url=permalink, text=f"Q: {question.strip()}\n\nA: {said}",
                       collection=collection, private_channel=channel_id if private else None,
                       updated_at=time.time())
        drafted = dict(basis) if isinstance(basis, Mapping) else dict.fromkeys(basis)
        now = await self.hashes(ids=sorted(drafted))
        hashes = {d: h or now[d] for d, h in drafted.items() if h or d in now}
        await asyncio.to_thread(self.store.set_meta, BASIS_PREFIX + doc.doc_id,
                                json.dumps(hashes, sort_keys=True))
        await self.upsert([doc])

    async def stale_answers(self, doc_ids: Iterable[str]) -> set[str]:
        """The answer entries among `doc_ids` whose sources changed or went since."""
        return await asyncio.to_thread(self._stale_sync, doc_ids)

    def _stale_sync(self, doc_ids: Iterable[str]) -> set[str]:
        answers = sorted({d for d in doc_ids if is_answer_entry(d)})
        if not answers:
            return set()
        raw = self.store.get_metas([BASIS_PREFIX + a for a in answers])
        # Entries approved before bases were kept have none, and never go stale.
        bases: dict[str, dict[str, str]] = {
            a: json.loads(raw[BASIS_PREFIX + a]) for a in answers if raw.get(BASIS_PREFIX + a)}
        needed = sorted({d for basis in bases.values() for d in basis})
        if not needed:
            return set()
        now = self.store.doc_hashes(ids=needed)
        return {a for a, basis in bases.items() if any(now.get(d) != h for d, h in basis.items())}

    async def closeness(self, question: str, sources: Sequence[Mapping[str, Any]],
                        asked: str = "") -> dict[str, float] | None:
        """The cosine to `question` of each sentence that may be its evidence
        (`bot.kb.evidence.shortlist`), for `best_sentence` to weigh with their words;
        None where the embedder's vectors say nothing (a question in a language it does
        not read), fail or take over `CLOSENESS_TIMEOUT` (a reviewer's click must open its
        modal within Slack's 3 s): the words alone choose then. Measured with
        `tests/bench/bench_kb_evidence.py --docs`."""
        sentences = shortlist(question, sources, asked)
        if not sentences or (query_language(question) != "en" and english_only(self.embedder)):
            return None
        try:
            vectors = await asyncio.wait_for(self.embedder.embed([question, *sentences]),
                                             CLOSENESS_TIMEOUT)
        except Exception:
            log.warning("embedding the evidence's sentences failed: their words alone "
                        "choose it", exc_info=True)
            return None
        return {s: float(v @ vectors[0]) for s, v in zip(sentences, vectors[1:], strict=True)}

    # -- searching ----------------------------------------------------------
    async def search(self, query: str, *, k: int = 5, collections: list[str] | None = None,
                     channel_id: str | None = None) -> list[Source]:
        filters = Filters(collections=tuple(collections) if collections is not None else None,
                          channel_id=channel_id)
        params, store = self.params, self.store
        n = max(params.candidates, k)
        pairs = near_query(query) if params.proximity_weight > 0 else ""
        # The dense side (embed the query, then scan the vectors) and the lexical side
        # run at once: the model, numpy and the stores release the GIL, so on two cores
        # they overlap. The proximity list runs beside them too where the store reads
        # on several connections (Postgres: p50/p95 at 100k chunks 46/85 -> 38/58 ms);
        # on SQLite's one connection it follows the keyword list (beside it, it only
        # waited for the connection, and p95 rose 6 ms).
        beside = store.parallel_reads
        # A question in another language than the embedder's is judged relevant by its
        # words (`_relevant`); mostly in Chinese or Japanese, it is searched by them alone.
        language = query_language(query)
        foreign = language != "en" and english_only(self.embedder)
        blind = foreign and language == "cjk"
        sides = {
            "dense": self._dense(query, k, filters)
            if params.dense_weight > 0 and self.vectors_searchable and not blind else None,
            "near": asyncio.to_thread(store.bm25, pairs, n, filters)
            if pairs and beside else None}
        started = {name: asyncio.ensure_future(side) for name, side in sides.items()
                   if side is not None}
        rows: dict[int, ChunkRow] = {}  # rows read so far: each is fetched once per search
        try:
            lexical, near = await asyncio.to_thread(
                self._lexical_sync, query, fts_query(query), "" if beside else pairs, n,
                filters, rows)
            dense = await started["dense"] if "dense" in started else []
            near = await started["near"] if "near" in started else near
        finally:
            for task in started.values():
                if not task.done():
                    task.cancel()
                elif not task.cancelled():
                    # Read: if several sides failed, the lexical error is the one raised.
                    task.exception()
        return await asyncio.to_thread(self._fuse_sync, query, lexical, near, dense, k, rows,
                                       language if foreign else None)

    async def _dense(self, query: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        vector = (await self.embedder.embed([query]))[0]
        n = max(self.params.candidates, k)
        return await asyncio.to_thread(self.store.knn, vector, n, filters)

    def _rows(self, rowids: Sequence[int], rows: dict[int, ChunkRow]) -> dict[int, ChunkRow]:
        """`rows` of `rowids`, reading only those not read yet (one round trip on Postgres)."""
        missing = [r for r in rowids if r not in rows]
        if missing:
            rows.update(self.store.fetch(missing))
        return {r: rows[r] for r in rowids if r in rows}

    def _lexical_sync(self, query: str, match: str, pairs: str, n: int, filters: Filters,
                      rows: dict[int, ChunkRow]
                      ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """The keyword list, reordered by best window, and the proximity list of `pairs`
        (a chunk with a close pair holds both words, so none without keyword matches)."""
        lexical = self.store.bm25(match, n, filters) if self.params.bm25_weight > 0 else []
        lexical = self._by_window(query, lexical, rows)
        return lexical, (self.store.bm25(pairs, n, filters) if pairs and lexical else [])

    def _fuse_sync(self, query: str, lexical: list[tuple[int, float]],
                   near: list[tuple[int, float]], dense: list[tuple[int, float]], k: int,
                   read: dict[int, ChunkRow], foreign: str | None = None) -> list[Source]:
        params = self.params
        if not self._relevant(query, lexical, dense, read, foreign):
            return []
        fused = fuse([[r for r, _ in lexical], [r for r, _ in near], [r for r, _ in dense]],
                     [params.bm25_weight, params.proximity_weight, params.dense_weight],
                     params.rrf_k)
        # Collapsing copies and diversifying look deeper than k; one fetch serves them
        # and the result.
        fused = fused[:max(k * 4, 20)]
        rows = self._rows([r for r, _ in fused], read)
        doc_of = {r: row.doc_id for r, row in rows.items()}
        # An approved answer whose sources changed since may say what they no longer do:
        # the sources themselves answer instead.
        stale = self._stale_sync(doc_of.values())
        if stale:
            fused = [(r, score) for r, score in fused if doc_of.get(r) not in stale]
        if params.doc_decay < 1:
            fused = diversify(fused, doc_of, params.doc_decay)
        # Copies are looked for in that order, only until k are kept: comparing every
        # pair of the pool would cost more than the rest of the ranking.
        fused = collapse_duplicates(fused, {r: row.text for r, row in rows.items()}, doc_of,
                                    params.duplicate_share, limit=k)
        return [Source(n=i, title=row.title, url=row.url, text=row.text, heading=row.heading,
                       collection=row.collection, score=round(score, 6), doc_id=row.doc_id,
                       chunk_id=row.chunk_id)
                for i, (rowid, score) in enumerate(fused, start=1)
                if (row := rows.get(rowid)) is not None]

    def _by_window(self, query: str, lexical: list[tuple[int, float]],
                   read: dict[int, ChunkRow]) -> list[tuple[int, float]]:
        """Reorder BM25 candidates by their best passage (see `RankParams.window_weight`)."""
        params = self.params
        if params.window_weight <= 0 or len(lexical) < 2:
            return lexical
        terms = query_terms(query)
        weigh = getattr(self.store, "term_weights", None)
        # Without IDF from the store every query word counts the same.
        weights = weigh(terms) if weigh is not None else {}
        rows = self._rows([r for r, _ in lexical], read)
        # Title and heading lead the text: a short FAQ entry whose title is the
        # question must not lose to a body that merely repeats its words.
        texts = [f"{row.title}\n{row.heading}\n{row.text}" if (row := rows.get(r)) else ""
                 for r, _ in lexical]
        windows = window_scores(terms, texts, weights, params.window)
        order = rescore([s for _, s in lexical], windows, params.window_weight)
        return [lexical[i] for i in order]

    def _relevant(self, query: str, lexical: list[tuple[int, float]],
                  dense: list[tuple[int, float]], read: dict[int, ChunkRow],
                  foreign: str | None = None) -> bool:
        """Whether anything found is worth answering from. `foreign` names the question's
        language when the embedder does not read it (`bot.kb.languages`): then its
        cosines say nothing, and its words, less that language's function words, decide."""
        params = self.params
        if not params.relevance_gate:
            return True
        cosine = dense[0][1] if dense and foreign is None else None
        if cosine is not None and cosine >= params.min_cosine:
            return True
        floor = min(params.lexical_min_cosine, params.full_match_min_cosine)
        if not lexical or (cosine is not None and cosine < floor):
            return False
        top = self._rows([r for r, _ in lexical[:3]], read)
        terms = [t for t in query_terms(query) if t not in function_words(foreign or "en")]
        if not terms:
            return False
        best = max(term_coverage(terms, f"{row.title} {row.heading} {row.text}")
                   for row in top.values())
        if foreign == "cjk":
            return best >= params.min_cjk_coverage

        def above(least: float) -> bool:
            return cosine is None or cosine >= least

        if best >= 1.0:
            # Every word of a question of three or more in one chunk is evidence enough
            # where MiniLM rates the pair low (see `RankParams.full_match_min_cosine`).
            many = len(terms) >= params.min_terms_partial
            return above(params.full_match_min_cosine if many else params.lexical_min_cosine)
        # A question in another language than the pages shares few words with them, and
        # those it shares are names (VPN, WireGuard, SEV1, rollback): half of them will do.
        return above(params.lexical_min_cosine) \
            and (foreign is not None or len(terms) >= params.min_terms_partial) \
            and best >= params.min_term_coverage
