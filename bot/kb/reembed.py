"""Re-embedding a store whose vectors another embedder made.

The store names the embedder that made its vectors (meta `embedder`); opening it
with another one (a new model, precision, or tail-vector setting) starts a pass
that embeds every chunk again, in rowid order, a batch at a time:

- each batch is written in one transaction (`Store.put_embeddings`), which skips a
  chunk deleted or rewritten since it was read: its writer stored its own vectors;
- the pass records its target and the last rowid done (meta `reembed_to`,
  `reembed_after`), so an interrupted pass resumes there, even across restarts;
- only when the pass ends does the store name the new embedder. Until then the
  knowledge base searches by keywords alone (`KnowledgeBase.reembedding`), as
  stored vectors of two models are not comparable to one query vector; unless both
  are the same local model with another window or precision (`vectors_comparable`),
  whose two vectors of a chunk agree to a cosine of 0.985 (median; 0.93 or more for
  95 % of chunks, 128 tokens in bf16 against 112 in int8): then it searches both;
- one process at a time runs it: the pass holds a lease on the store (meta
  `reembed_lease`, renewed every batch), and another process that opens the store
  meanwhile waits for the pass to end instead of embedding every chunk a second
  time. A lease whose holder died expires after `LEASE_SECONDS`, and the next
  process resumes the pass where it stopped.

The CLI waits for the pass; the bot runs it in the background so it answers at once
(`KnowledgeBase.open(..., background=True)`), retrying with backoff when the
embedder fails (an embeddings endpoint that is down, say).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.kb.embedding import local_model_of

if TYPE_CHECKING:
    from bot.kb.service import KnowledgeBase
    from bot.kb.store_base import Store

__all__ = ["BATCH", "LEASE", "LEASE_SECONDS", "needs_reembed", "reembed", "reembed_in_background",
           "reembed_now", "vectors_comparable"]

log = logging.getLogger(__name__)
BATCH = 256  # chunks embedded and written at a time
TARGET, AFTER = "reembed_to", "reembed_after"
LEASE = "reembed_lease"
LEASE_SECONDS = 120.0  # a holder that has not renewed it for this long is taken as dead
WAIT_SECONDS = 5.0  # between looks at another process's pass
_HOLDER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def vectors_comparable(store: Store, name: str) -> bool:
    """Mid-pass, the stored vectors can still be searched: the old ones and those the
    pass writes come from one local model, and only its window or precision changed
    (an upgrade's `…:128:bf16` -> `…:112:int8`)."""
    model = local_model_of(name)
    stored, pending = store.get_meta("embedder"), store.get_meta(TARGET)
    return model is not None and local_model_of(stored) == model and \
        (not pending or local_model_of(pending) == model)


def needs_reembed(store: Store, name: str) -> bool:
    """Another embedder made the stored vectors, or a pass was interrupted."""
    stored, pending = store.get_meta("embedder"), store.get_meta(TARGET)
    return bool(pending) or (stored is not None and stored != name)


async def reembed(kb: KnowledgeBase, progress: Callable[[int], None] | None = None, *,
                  wait: float = WAIT_SECONDS) -> int:
    """Embed every stored chunk with `kb.embedder`; returns how many chunks were written
    (0 when another process ran the pass meanwhile)."""
    store, name = kb.store, kb.embedder.name
    holder = f"{_HOLDER}:{id(kb):x}"
    waited = False
    while True:
        if not await asyncio.to_thread(store.lease, LEASE, holder, LEASE_SECONDS):
            if not waited:
                log.warning("kb.reembed_waiting: another process is re-embedding this store",
                            extra={"embedder": name})
                waited = True
            if not await asyncio.to_thread(needs_reembed, store, name):
                kb.reembedding = False  # its pass made this embedder's vectors
                return 0
            await asyncio.sleep(wait)
            continue
        try:
            # Checked again under the lease: another process's pass may have ended
            # between this process opening the store and taking the lease.
            written = await _pass(kb, holder, progress) \
                if await asyncio.to_thread(needs_reembed, store, name) else 0
        finally:
            # Let go at once, even when cancelled or failing; if the store is what
            # failed, the lease runs out by itself.
            with contextlib.suppress(Exception):
                store.lease(LEASE, holder, 0)
        if written is not None:
            kb.reembedding = False
            return written


async def _pass(kb: KnowledgeBase, holder: str, progress: Callable[[int], None] | None
                ) -> int | None:
    """The pass itself, while `holder` keeps the lease; None if it lost the lease (a
    batch outlasted it and another process took the pass over)."""
    store, name = kb.store, kb.embedder.name
    await asyncio.to_thread(store.ensure_vectors, await kb.embedder.dimension())
    if await asyncio.to_thread(store.get_meta, TARGET) == name:
        after = int(await asyncio.to_thread(store.get_meta, AFTER) or 0)
    else:  # a new pass, or one for an embedder since replaced
        after = 0
        await asyncio.to_thread(store.set_meta, TARGET, name)
        await asyncio.to_thread(store.set_meta, AFTER, "0")
    written = 0
    while rows := await asyncio.to_thread(store.chunk_texts, after, BATCH):
        vectors, owners, tails = await kb.embed_chunks([row[1:] for row in rows])
        if not await asyncio.to_thread(store.lease, LEASE, holder, LEASE_SECONDS):
            log.warning("kb.reembed_lease_lost: another process continues the pass",
                        extra={"embedder": name})
            return None
        written += await asyncio.to_thread(store.put_embeddings, rows, vectors, owners, tails)
        after = rows[-1][0]
        await asyncio.to_thread(store.set_meta, AFTER, str(after))
        if progress is not None:
            progress(len(rows))
    await asyncio.to_thread(store.set_meta, "embedder", name)
    await asyncio.to_thread(store.set_meta, TARGET, "")
    return written


async def _started(kb: KnowledgeBase) -> int:
    total = await asyncio.to_thread(kb.store.count_chunks)
    log.warning("kb.reembed_started",
                extra={"embedder": kb.embedder.name, "chunks": total})
    return total


async def reembed_now(kb: KnowledgeBase, *, show_progress: bool = False) -> int:
    """`reembed`, logged, with a progress bar on stderr if `show_progress`."""
    total = await _started(kb)
    if not show_progress:
        return await reembed(kb)
    from tqdm import tqdm

    with tqdm(total=total, desc=f"re-embed ({kb.embedder.name})", unit="chunk",
              file=sys.stderr) as bar:
        return await reembed(kb, progress=bar.update)


async def reembed_in_background(kb: KnowledgeBase, *, first_retry: float = 5.0,
                                max_retry: float = 300.0) -> None:
    """`reembed`, logged, retried with backoff until it ends (or the task is cancelled:
    the next start resumes it)."""
    await _started(kb)
    delay, started = first_retry, time.perf_counter()
    while True:
        try:
            written = await reembed(kb)
        except asyncio.CancelledError:
            log.warning("kb.reembed_paused: resumes at the next start",
                        extra={"embedder": kb.embedder.name})
            raise
        except Exception as exc:  # noqa: BLE001 - keep trying; search stays lexical meanwhile
            log.error("kb.reembed_failed", extra={"error": str(exc)[:200], "retry_s": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry)
            continue
        log.warning("kb.reembed_done", extra={
            "embedder": kb.embedder.name, "chunks": written,
            "seconds": round(time.perf_counter() - started, 1)})
        return
