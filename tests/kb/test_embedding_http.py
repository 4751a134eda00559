"""The OpenAI-compatible embedder against a real local /v1/embeddings server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp import web

from bot.kb.embedding import EmbeddingError, HttpEmbedder
from bot.kb.ingest import ingest_paths
from bot.kb.service import KnowledgeBase
from bot.settings import Settings


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    seen: list[dict[str, object]] = []

    async def embeddings(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        if body["model"] not in ("bge", "strict"):
            return web.json_response({"error": "unknown model"}, status=404)
        if body["model"] == "strict" and "truncate_prompt_tokens" in body:
            # As OpenAI's own API answers a parameter it does not know.
            return web.json_response({"error": {"message": "Unrecognized request argument "
                                                "supplied: truncate_prompt_tokens"}},
                                     status=400)
        # Deliberately out of order: the client must sort by "index".
        data = [{"index": i, "embedding": [float(len(t)), 0.0, 1.0]}
                for i, t in enumerate(body["input"])][::-1]
        return web.json_response({"data": data, "model": body["model"]})

    app = web.Application()
    app.router.add_post("/v1/embeddings", embeddings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1", seen
    await runner.cleanup()


async def test_http_embedder_batches_orders_and_normalises(
        server: tuple[str, list[dict[str, object]]]) -> None:
    url, seen = server
    async with aiohttp.ClientSession() as session:
        embedder = HttpEmbedder(session, url, "bge", batch_size=2)
        vectors = await embedder.embed(["a", "bbb", "cc"])
        assert await embedder.dimension() == 3
    assert [len(b["input"]) for b in seen[:2]] == [2, 1]  # type: ignore[arg-type]
    assert vectors.shape == (3, 3)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    assert vectors[1, 0] > vectors[2, 0] > vectors[0, 0]  # order kept: lengths 3 > 2 > 1


async def test_http_embedder_raises_on_error_status(
        server: tuple[str, list[dict[str, object]]]) -> None:
    url, _ = server
    async with aiohttp.ClientSession() as session:
        with pytest.raises(EmbeddingError, match="404"):
            await HttpEmbedder(session, url, "nope").embed(["x"])


async def test_http_embedder_asks_for_its_token_cap_and_drops_it_where_refused(
        server: tuple[str, list[dict[str, object]]]) -> None:
    url, seen = server
    async with aiohttp.ClientSession() as session:
        vllm_like = HttpEmbedder(session, url, "bge")
        await vllm_like.embed(["a long chunk"])
        assert seen[-1]["truncate_prompt_tokens"] == 128  # vLLM would refuse > 256 tokens
        assert vllm_like.name == "http:bge:128"
        openai_like = HttpEmbedder(session, url, "strict", truncate=256)
        vectors = await openai_like.embed(["a", "bb"])
        assert vectors.shape == (2, 3)
        await openai_like.embed(["c"])
    # Refused once, then asked without it, and not offered again.
    assert [("truncate_prompt_tokens" in b) for b in seen[1:]] == [True, False, False]


async def test_a_store_embedded_by_a_server_that_refuses_the_cap_is_named_for_whole_texts(
        server: tuple[str, list[dict[str, object]]], tmp_path: Path) -> None:

    url, seen = server
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nSome text about deploys.\n")
    settings = Settings(tandem_data_dir=tmp_path / "data")
    async with aiohttp.ClientSession() as session:
        kb = await KnowledgeBase.open(settings, embedder=HttpEmbedder(session, url, "strict"))
        # Settled when the store opened, before its vectors were compared with it.
        assert kb.embedder.name == "http:strict"
        await ingest_paths(kb, [docs], show_progress=False)
        assert kb.store.get_meta("embedder") == "http:strict"
        await kb.close()
        # Opened again with the same configuration: nothing to re-embed.
        again = await KnowledgeBase.open(settings, embedder=HttpEmbedder(session, url, "strict"))
        assert not again.reembedding
        await again.close()
        # A server that caps texts makes other vectors: the store is embedded again.
        asked = len(seen)
        capped = await KnowledgeBase.open(settings, embedder=HttpEmbedder(session, url, "bge"))
        assert capped.store.get_meta("embedder") == "http:bge:128"
        assert any("deploys" in str(b["input"]) for b in seen[asked:])
        await capped.close()
