"""Build the store and embedder that settings ask for.

Settings read (all optional; the lead adds them to `Settings`, until then the
environment-free defaults apply):
- `tandem_kb_url`: `sqlite:///path`, a bare path, or `postgresql://…`.
  Default: `tandem_db_url` when that is Postgres, else `<data dir>/kb.sqlite`.
- `tandem_embed_base_url` + `tandem_embed_model` (+ `tandem_embed_api_key`):
  an OpenAI-compatible `/v1/embeddings` endpoint instead of the local model.
- `tandem_embed_max_seq_length`: tokens of each chunk embedded. The local model's
  default follows the CPU (`auto_window()`): 112 where it multiplies int8 or bfloat16
  natively (about 10 % faster than the 128 all-MiniLM-L6-v2 was trained with, at the
  same recall), 64 on AVX2 alone (twice as fast, a little less recall); an endpoint's
  is 128, sent as vLLM's `truncate_prompt_tokens`. Part of the embedder's name, so a
  change re-embeds.
- `tandem_embed_precision`: `auto` (`auto_precision()`: bfloat16 on CPUs with AMX, else
  int8 through ONNX Runtime, else bfloat16 where the CPU has it natively, else fp32),
  `fp32`, `bf16` or `int8`. Also part of the name.
- `tandem_embed_tail_vectors` (default off): the local embedder also embeds the text
  of each chunk past its first window (`bot.kb.tails`): better recall on long
  documents, about half the ingest rate. Also part of the name.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError
from bot.kb.embedding import Embedder, HttpEmbedder, LocalEmbedder
from bot.kb.store_base import Store

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["build_embedder", "build_store", "kb_url"]


def kb_url(settings: Settings) -> str:
    url = getattr(settings, "tandem_kb_url", None)
    if url:
        return str(url)
    db_url = settings.tandem_db_url or ""
    if db_url.startswith(("postgres://", "postgresql")):
        return db_url
    return str(Path(settings.tandem_data_dir) / "kb.sqlite")


def build_store(settings: Settings, *, url: str | None = None) -> Store:
    url = url or kb_url(settings)
    if url.startswith(("postgres://", "postgresql")):
        from bot.kb.store_pg import PostgresStore

        return PostgresStore(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///"):]
    elif "://" in url:
        raise ConfigError(f"TANDEM_KB_URL {url!r}: use a file path, sqlite:///path "
                          "or postgresql://…")
    from bot.kb.store_sqlite import SqliteStore

    return SqliteStore(url)


def build_embedder(settings: Settings, *, session: Any = None) -> tuple[Embedder, Any]:
    """(embedder, session the caller must close, or None)."""
    base_url = getattr(settings, "tandem_embed_base_url", None)
    if base_url:
        import aiohttp

        model = getattr(settings, "tandem_embed_model", None)
        if not model:
            raise ConfigError("TANDEM_EMBED_BASE_URL is set: set TANDEM_EMBED_MODEL too")
        owned: aiohttp.ClientSession | None = None
        client = session
        if client is None:
            owned = client = aiohttp.ClientSession()
        embedder = HttpEmbedder(
            client, base_url, model, api_key=getattr(settings, "tandem_embed_api_key", None),
            truncate=int(getattr(settings, "tandem_embed_max_seq_length", None) or 128))
        return embedder, owned
    if importlib.util.find_spec("sentence_transformers") is None:
        # The bot image holds tandem[kb-http]: search and stores, no local model.
        raise ConfigError("no local embedding model here (tandem[kb] is not installed): set "
                          "TANDEM_EMBED_BASE_URL and TANDEM_EMBED_MODEL to an embeddings "
                          "endpoint, such as vLLM with --runner pooling")
    seq = getattr(settings, "tandem_embed_max_seq_length", None)  # None: the CPU decides
    precision = str(getattr(settings, "tandem_embed_precision", None) or "auto")
    tails = bool(getattr(settings, "tandem_embed_tail_vectors", False))
    return LocalEmbedder(max_seq_length=int(seq) if seq else None, precision=precision,
                         tails=tails), None
