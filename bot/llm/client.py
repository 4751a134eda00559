"""The vLLM client: one small class around an injected `aiohttp.ClientSession`.

It speaks vLLM's OpenAI-compatible API (`base_url` ends in `/v1`; `/health` and
`/tokenize` live at the server root). Design choices:

- Streams are `ChatStream` objects: iterate for text deltas, read `.text`,
  `.usage`, `.ttft` afterwards; `async with` guarantees the HTTP response is
  closed when a superseded draft cancels its stream.
- Retries (connect errors, 429, 5xx) happen only before the first token. Once
  text has reached the caller, a failure is `LLMStreamCut`: replaying half an
  answer silently would show the user text the model never wrote in one go.
- A semaphore bounds in-flight requests per server; callers past the bound
  queue, everyone below it runs at once because vLLM batches.
- Deadlines: connect (socket), first token (from send), idle (between tokens)
  and total; each raises `LLMTimeout` with its own user-facing phrase.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.llm.errors import (
    LLMError,
    LLMServerError,
    LLMTimeout,
    LLMUnavailable,
    is_retryable,
)
from bot.llm.metrics import LLMMetrics
from bot.llm.stream import ChatStream
from bot.settings import LLM_MAX_CONCURRENCY, LLMTimeouts

__all__ = ["ChatResult", "ChatStream", "LLMClient", "estimate_tokens"]


@dataclass
class ChatResult:
    text: str
    model: str
    usage: dict[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None


class LLMClient:
    """Chat completions, adapters, health and token counts against one vLLM server."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, *, model: str,
                 timeouts: LLMTimeouts | None = None, max_concurrency: int = LLM_MAX_CONCURRENCY,
                 max_retries: int = 3, metrics: LLMMetrics | None = None,
                 retry_backoff: float = 0.25) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        # /health and /tokenize are served at the root, not under /v1.
        self.root_url = self.base_url.removesuffix("/v1")
        self.model = model
        self.timeouts = timeouts or LLMTimeouts()
        self.max_retries = max_retries
        self.metrics = metrics
        self.retry_backoff = retry_backoff
        self.semaphore = asyncio.Semaphore(max_concurrency)
        # Only the socket connect is left to aiohttp; the rest is timed per phase.
        self.http_timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect)

    # -- chat ---------------------------------------------------------------

    def _body(self, messages: list[dict[str, Any]], model: str | None,
              request_id: str | None, params: dict[str, Any] | None,
              stop: list[str] | None) -> dict[str, Any]:
        body: dict[str, Any] = dict(params or {})
        body.update(model=model or self.model, messages=messages)
        if messages and messages[-1].get("role") == "assistant":
            # The model's turn has begun (a prompt's opening): it goes on from there.
            body.update(continue_final_message=True, add_generation_prompt=False)
        if stop:
            body["stop"] = stop
        if request_id:
            body["request_id"] = request_id  # vLLM takes it as an extra field
        return body

    def _headers(self, request_id: str | None) -> dict[str, str]:
        return {"X-Request-Id": request_id} if request_id else {}

    def stream_chat(self, messages: list[dict[str, Any]], *, model: str | None = None,
                    request_id: str | None = None, params: dict[str, Any] | None = None,
                    stop: list[str] | None = None, affinity: str | None = None) -> ChatStream:
        """`affinity` (the Slack thread) goes out as X-Tandem-Thread, so a router in front
        of several vLLM replicas can keep each thread on one replica's warm prefix cache."""
        body = self._body(messages, model, request_id, params, stop)
        # Usage on every chunk (vLLM's continuous_usage_stats), so a stream Tandem
        # leaves early (an answer cut at a made-up source listing) still knows its
        # token counts; the last chunk carries the final figures as before.
        body.update(stream=True, stream_options={"include_usage": True,
                                                 "continuous_usage_stats": True})
        headers = self._headers(request_id)
        if affinity:
            headers["X-Tandem-Thread"] = affinity
        return ChatStream(self, body, headers)

    async def complete_chat(self, messages: list[dict[str, Any]], *, model: str | None = None,
                            request_id: str | None = None, params: dict[str, Any] | None = None,
                            stop: list[str] | None = None,
                            structured_outputs: dict[str, Any] | None = None,
                            response_format: dict[str, Any] | None = None) -> ChatResult:
        body = self._body(messages, model, request_id, params, stop)
        body["stream"] = False
        if structured_outputs:
            body["structured_outputs"] = structured_outputs
        if response_format:
            body["response_format"] = response_format
        async with self.semaphore:
            data = await self.request_json("POST", f"{self.base_url}/chat/completions", body,
                                           headers=self._headers(request_id),
                                           deadline=self.timeouts.total, model=body["model"])
        choice = (data.get("choices") or [{}])[0]
        return ChatResult(text=(choice.get("message") or {}).get("content") or "",
                          model=data.get("model", body["model"]), usage=data.get("usage") or {},
                          finish_reason=choice.get("finish_reason"))

    # -- server -------------------------------------------------------------

    async def health(self) -> bool:
        try:
            async with asyncio.timeout(self.timeouts.connect + 5):
                async with self.session.get(f"{self.root_url}/health",
                                            timeout=self.http_timeout) as resp:
                    return resp.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    async def models(self) -> list[str]:
        data = await self.request_json("GET", f"{self.base_url}/models", None,
                                       deadline=self.timeouts.first_token, model=self.model)
        return [entry["id"] for entry in data.get("data", [])]

    async def count_tokens(self, messages_or_text: str | list[dict[str, Any]],
                           *, model: str | None = None) -> int:
        """Tokens as the server counts them; a chars/4 estimate when /tokenize is absent."""
        key = "prompt" if isinstance(messages_or_text, str) else "messages"
        name = model or self.model
        body = {"model": name, key: messages_or_text}
        try:
            data = await self.request_json("POST", f"{self.root_url}/tokenize", body, retries=0,
                                           deadline=self.timeouts.first_token, model=name)
            return int(data["count"])
        except (LLMError, KeyError, ValueError, TypeError):
            return estimate_tokens(messages_or_text)

    async def load_lora_adapter(self, name: str, path: str) -> None:
        try:
            await self.request_json("POST", f"{self.base_url}/load_lora_adapter",
                                    {"lora_name": name, "lora_path": path},
                                    deadline=self.timeouts.total, model=name)
        except LLMServerError as exc:
            # Loading twice is not a failure: the adapter is there.
            if not (exc.status == 400 and "already" in exc.detail.lower()):
                raise

    async def unload_lora_adapter(self, name: str) -> None:
        await self.request_json("POST", f"{self.base_url}/unload_lora_adapter",
                                {"lora_name": name}, deadline=self.timeouts.total, model=name)

    # -- plumbing shared with ChatStream ------------------------------------

    def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 10.0)
            except ValueError:
                pass
        pause = min(self.retry_backoff * 2.0**attempt, 4.0)
        return pause * random.uniform(0.5, 1.0)

    def note_error(self, model: str, err: LLMError) -> None:
        if self.metrics:
            self.metrics.observe_error(model, err.kind)

    async def request_json(self, method: str, url: str, body: dict[str, Any] | None, *,
                           deadline: float, model: str, headers: dict[str, str] | None = None,
                           retries: int | None = None) -> dict[str, Any]:
        """One JSON call with retries on connect errors, 429 and 5xx."""
        retries = self.max_retries if retries is None else retries
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + deadline
        attempt = 0
        while True:
            retry_after = None
            try:
                async with asyncio.timeout_at(give_up_at):
                    async with self.session.request(method, url, json=body, headers=headers,
                                                    timeout=self.http_timeout) as resp:
                        if resp.status >= 400:
                            retry_after = resp.headers.get("Retry-After")
                            raise LLMServerError(resp.status, (await resp.text())[:500])
                        if resp.content_type == "application/json":
                            return dict(await resp.json())
                        return {"text": await resp.text()}
            except LLMError as err:
                error: LLMError = err
            except (aiohttp.ClientError, OSError) as exc:
                error = LLMUnavailable(str(exc) or type(exc).__name__)
            except TimeoutError:
                error = LLMTimeout(f"no answer within {deadline:g}s",
                                   what="the model took too long to answer")
            pause = self.backoff(attempt, retry_after)
            if (attempt < retries and is_retryable(error)
                    and loop.time() + pause < give_up_at):
                attempt += 1
                if self.metrics:
                    self.metrics.retries.labels(model).inc()
                await asyncio.sleep(pause)
                continue
            self.note_error(model, error)
            raise error


def estimate_tokens(messages_or_text: str | list[dict[str, Any]]) -> int:
    """About four characters a token, plus a few per message for the template."""
    if isinstance(messages_or_text, str):
        return max(1, len(messages_or_text) // 4)
    chars = sum(len(str(m.get("content") or "")) for m in messages_or_text)
    return max(1, chars // 4 + 4 * len(messages_or_text))
