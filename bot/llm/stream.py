"""`ChatStream`: one streaming chat completion, iterated as text deltas.

Owns the per-phase deadlines and the rule that a stream is retried only while
no text has reached the caller. The generator's `finally` closes the HTTP
response, so cancelling the consuming task (a superseded draft) or leaving an
`async with` block frees the connection and tells vLLM to abort the request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.llm.errors import (
    LLMError,
    LLMServerError,
    LLMStreamCut,
    LLMTimeout,
    LLMUnavailable,
    is_retryable,
)
from bot.llm.sse import DONE, SSEDecoder

if TYPE_CHECKING:
    from types import TracebackType

    from bot.llm.client import LLMClient

__all__ = ["ChatStream"]


class ChatStream:
    """`async for delta in stream`; afterwards `.text`, `.usage`, `.ttft`, `.model`."""

    def __init__(self, client: LLMClient, body: dict[str, Any], headers: dict[str, str]) -> None:
        self._client = client
        self._body = body
        self._headers = headers
        self._parts: list[str] = []
        self._gen: AsyncIterator[str] | None = None
        self._first: asyncio.Future[str] | None = None  # see `start()`
        self.model: str = body["model"]
        self.request_id: str | None = body.get("request_id")
        self.usage: dict[str, Any] = {}
        self.finish_reason: str | None = None
        self.ttft: float | None = None  # seconds from send to first text
        self.queued: float = 0.0  # seconds spent waiting for a concurrency slot
        self.attempts = 0

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def __aiter__(self) -> ChatStream:
        return self

    def start(self) -> None:
        """Send the request now, in the background; the first `__anext__` takes its first
        delta. The caller can then do other work (open the Slack message) while the
        model works, instead of adding that work's latency to every draft's."""
        if self._gen is None:
            self._gen = self._run()
            self._first = asyncio.ensure_future(self._gen.__anext__())

    async def __anext__(self) -> str:
        if self._first is not None:
            first, self._first = self._first, None
            return await first
        if self._gen is None:
            self._gen = self._run()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        if self._first is not None:
            # A started request nobody read from: stop it (dropping the connection makes
            # vLLM abort the generation) and swallow what it raised, if anything.
            first, self._first = self._first, None
            first.cancel()
            with contextlib.suppress(BaseException):
                await first
        if self._gen is not None:
            await self._gen.aclose()  # type: ignore[attr-defined]

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def collect(self) -> str:
        """Drain the stream and return the whole text."""
        async with self:
            async for _ in self:
                pass
        return self.text

    # -- internals ----------------------------------------------------------

    async def _run(self) -> AsyncIterator[str]:
        client, timeouts = self._client, self._client.timeouts
        loop = asyncio.get_running_loop()
        asked_at = loop.time()
        async with client.semaphore:
            sent_at = loop.time()
            self.queued = sent_at - asked_at
            total_at = sent_at + timeouts.total
            first_at = min(sent_at + timeouts.first_token, total_at)
            while True:
                self.attempts += 1
                first_seen = 0.0
                resp: aiohttp.ClientResponse | None = None
                retry_after: str | None = None
                try:
                    try:
                        async with asyncio.timeout_at(first_at):
                            resp = await client.session.post(
                                f"{client.base_url}/chat/completions", json=self._body,
                                headers=self._headers, timeout=client.http_timeout)
                        if resp.status >= 400:
                            retry_after = resp.headers.get("Retry-After")
                            async with asyncio.timeout_at(first_at):
                                detail = (await resp.text())[:500]
                            raise LLMServerError(resp.status, detail)
                        decoder, done = SSEDecoder(), False
                        while not done:
                            deadline = (min(loop.time() + timeouts.idle, total_at)
                                        if self._parts else first_at)
                            async with asyncio.timeout_at(deadline):
                                line = await resp.content.readline()
                            if not line:
                                break
                            event = decoder.feed(line)
                            if event is DONE:
                                done = True
                            elif event is not None:
                                delta = self._apply(event)
                                if delta:
                                    if not self._parts:
                                        first_seen = loop.time()
                                        self.ttft = first_seen - sent_at
                                    self._parts.append(delta)
                                    yield delta
                        if not done and self.finish_reason is None:
                            raise aiohttp.ClientPayloadError("stream ended without [DONE]")
                    except TimeoutError:
                        raise self._timeout(loop.time(), total_at) from None
                    except (aiohttp.ClientError, OSError) as exc:
                        detail = str(exc) or type(exc).__name__
                        if self._parts:
                            raise LLMStreamCut(detail) from exc
                        raise LLMUnavailable(detail) from exc
                except LLMError as err:
                    pause = client.backoff(self.attempts - 1, retry_after)
                    if (not self._parts and is_retryable(err)
                            and self.attempts <= client.max_retries
                            and loop.time() + pause < first_at):
                        if client.metrics:
                            client.metrics.retries.labels(self.model).inc()
                        await asyncio.sleep(pause)
                        continue
                    client.note_error(self.model, err)
                    raise
                finally:
                    if resp is not None:
                        # close(), not release(): an unfinished body must not go back
                        # to the pool, and dropping the socket makes vLLM abort.
                        resp.close()
                self._observe(loop.time() - first_seen if first_seen else 0.0)
                return

    def _apply(self, event: dict[str, Any]) -> str:
        if "error" in event:
            err = event["error"] if isinstance(event["error"], dict) else {}
            message = str(err.get("message") or event["error"])
            if self._parts:
                raise LLMStreamCut(message)
            code = err.get("code")
            raise LLMServerError(code if isinstance(code, int) else 500, message)
        self.model = event.get("model") or self.model
        if event.get("usage"):
            self.usage = event["usage"]
        for choice in event.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            return str((choice.get("delta") or {}).get("content") or "")
        return ""

    def _timeout(self, now: float, total_at: float) -> LLMTimeout:
        timeouts = self._client.timeouts
        if now >= total_at:
            return LLMTimeout(f"over the {timeouts.total:g}s total",
                              what="the model's answer took too long")
        if not self._parts:
            return LLMTimeout(f"no token within {timeouts.first_token:g}s")
        return LLMTimeout(f"no token for {timeouts.idle:g}s", what="the model stopped answering")

    def _observe(self, generation_seconds: float) -> None:
        metrics = self._client.metrics
        if metrics is None:
            return
        tokens = int(self.usage.get("completion_tokens") or len(self._parts))
        metrics.observe_stream(self.model, ttft=self.ttft, tokens=tokens,
                               generation_seconds=generation_seconds)
