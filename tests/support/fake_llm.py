"""FakeLLM: a real aiohttp server speaking vLLM's OpenAI-compatible API.

Tests point the real `LLMClient` (or the whole bot) at it. It streams real SSE
over a real socket, and its `mode` injects the failures the client must
survive: HTTP 500, a server that never answers, a connection dropped
mid-stream, and a refused connection.

    fake = FakeLLM(reply="Hello there")
    await fake.start()           # fake.base_url == "http://127.0.0.1:PORT/v1"
                                 # (or: async with FakeLLM(...) as fake: ...)
    fake.mode = "cut"            # or: await fake.set_mode("refuse")
    await fake.stop()
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

__all__ = ["FakeLLM", "split_tokens"]

MODES = ("ok", "error500", "hang", "cut", "refuse")
# The most stop strings vLLM's OpenAI-compatible server takes in one request: the fake
# keeps its own figure, not the product's, so a product that sends more is refused here.
MAX_STOPS = 4

Reply = str | Callable[[dict[str, Any]], str]


def split_tokens(text: str) -> list[str]:
    """Word tokens that join back to the exact text (whitespace stays attached)."""
    return [t for t in re.split(r"(?<=\s)(?=\S)", text) if t]


def _default_reply(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    said = str(users[-1].get("content", "")) if users else ""
    return f"This is a draft from the fake model. You asked: {said[:200]}"


class FakeLLM:
    """An OpenAI-compatible server on a free port with switchable failure modes."""

    def __init__(self, reply: Reply | None = None, *, first_token_delay: float = 0.0,
                 token_delay: float = 0.0, model: str = "fake-model", cut_after: int = 3) -> None:
        self.reply: Reply = reply if reply is not None else _default_reply
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.model = model
        self.cut_after = cut_after
        self.requests: list[dict[str, Any]] = []  # chat bodies, in arrival order
        self.headers: list[CIMultiDict[str]] = []  # their headers, same order
        self.adapters: dict[str, str] = {}  # loaded LoRA name -> path
        self.port = 0
        self.base_url = ""
        self._mode = "ok"
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._released = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        # Per stream the client left: the tokens it had been sent. Known at the server's
        # next write after the client closed (`wait_dropped`), not when the client closed.
        self.dropped: list[int] = []
        self._relisten: asyncio.Task[None] | None = None

    async def wait_dropped(self, timeout: float = 10) -> int:
        """The tokens the first stream a client left had been sent, once the server has
        noticed (its next write fails: a token interval later, more on a busy machine)."""
        deadline = time.monotonic() + timeout
        while not self.dropped:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no stream was left by its client within {timeout}s")
            await asyncio.sleep(0.01)
        return self.dropped[0]

    # -- lifecycle ----------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(middlewares=[self._refuse_middleware])
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/load_lora_adapter", self._load_lora)
        app.router.add_post("/v1/unload_lora_adapter", self._unload_lora)
        app.router.add_get("/health", self._health)
        app.router.add_post("/tokenize", self._tokenize)
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await self._listen()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        return self.base_url

    async def __aenter__(self) -> FakeLLM:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        self._released.set()  # wake handlers stuck in "hang"
        if self._relisten is not None:
            await self._relisten
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()
        server = self._site._server  # noqa: SLF001 - test support reads the bound port
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # -- failure modes ------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        previous, self._mode = self._mode, value
        if value == "refuse" and self._site is not None and self._site._server is not None:
            # Synchronous, so the very next connect is refused.
            self._site._server.close()  # noqa: SLF001
        elif previous == "refuse" and value != "refuse":
            self._relisten = asyncio.get_running_loop().create_task(self._listen())
        if value != "hang":
            self._released.set()
            self._released = asyncio.Event()

    async def set_mode(self, value: str) -> None:
        """Like assigning `mode`, but returns once the server listens again."""
        self.mode = value
        if self._relisten is not None:
            await self._relisten
            self._relisten = None

    @web.middleware
    async def _refuse_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._mode == "refuse" and request.transport is not None:
            # Kept-alive connections outlive the closed listener; drop them too.
            request.transport.abort()
            raise ConnectionResetError("refused")
        return await handler(request)  # type: ignore[no-any-return]

    # -- endpoints ----------------------------------------------------------

    def _text_for(self, body: dict[str, Any]) -> tuple[list[str], str]:
        text = self.reply(body) if callable(self.reply) else self.reply
        choices = (body.get("structured_outputs") or {}).get("choice")
        if choices and text not in choices:
            text = str(choices[0])
        finish = "stop"
        for stop in body.get("stop") or []:
            if stop and stop in text:
                text = text[: text.index(stop)]
        tokens = split_tokens(text)
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if limit and len(tokens) > int(limit):
            tokens, finish = tokens[: int(limit)], "length"
        return tokens, finish

    def _usage(self, body: dict[str, Any], completion: int) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(request.headers.copy())
        if self._mode == "error500":
            return web.json_response({"error": {"message": "fake failure", "code": 500}},
                                     status=500)
        if self._mode == "hang":
            await self._released.wait()
            raise ConnectionResetError("released")
        if len(body.get("stop") or []) > MAX_STOPS:
            # As vLLM's OpenAI server refuses it (pydantic: "List should have at most 4
            # items after validation"): a prompt with more stops failed every draft there.
            return web.json_response({"error": {
                "message": f"body.stop: List should have at most {MAX_STOPS} items after "
                           f"validation, not {len(body['stop'])}", "type": "Bad Request",
                "param": "body.stop", "code": 400}}, status=400)
        tokens, finish = self._text_for(body)
        model = body.get("model") or self.model
        rid = body.get("request_id") or f"chatcmpl-{uuid.uuid4().hex}"
        if not body.get("stream"):
            await asyncio.sleep(self.first_token_delay + self.token_delay * len(tokens))
            message = {"role": "assistant", "content": "".join(tokens)}
            return web.json_response({
                "id": rid, "object": "chat.completion", "created": int(time.time()),
                "model": model, "usage": self._usage(body, len(tokens)),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
        return await self._stream(request, body, tokens, finish, model, rid)

    async def _stream(self, request: web.Request, body: dict[str, Any], tokens: list[str],
                      finish: str, model: str, rid: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)

        async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {"id": rid, "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": choices, **extra}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())

        options = body.get("stream_options") or {}
        continuous = bool(options.get("include_usage") and options.get("continuous_usage_stats"))
        await send([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
        for i, token in enumerate(tokens):
            await asyncio.sleep(self.first_token_delay if i == 0 else self.token_delay)
            if self._mode == "cut" and i >= self.cut_after:
                assert request.transport is not None
                request.transport.abort()  # a crash mid-answer: no [DONE], socket gone
                return resp
            last = i == len(tokens) - 1
            running = {"usage": self._usage(body, i + 1)} if continuous else {}
            try:
                await send([{"index": 0, "delta": {"content": token},
                             "finish_reason": finish if last else None}], **running)
            except ConnectionError:  # the client stopped reading: vLLM aborts here
                self.dropped.append(i)
                return resp
        if not tokens:
            await send([{"index": 0, "delta": {}, "finish_reason": finish}])
        if options.get("include_usage"):
            await send([], usage=self._usage(body, len(tokens)))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _models(self, _request: web.Request) -> web.Response:
        ids = [self.model, *self.adapters]
        return web.json_response({"object": "list", "data": [
            {"id": i, "object": "model", "owned_by": "tandem-fake"} for i in ids]})

    async def _load_lora(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = body["lora_name"]
        if name in self.adapters:
            return web.json_response(
                {"error": {"message": f"The lora adapter '{name}' has already been loaded."}},
                status=400)
        self.adapters[name] = body["lora_path"]
        return web.Response(text=f"Success: LoRA adapter '{name}' added successfully.")

    async def _unload_lora(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.adapters.pop(body["lora_name"], None)
        return web.Response(text="Success")

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(status=500 if self._mode == "error500" else 200)

    async def _tokenize(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "prompt" in body:
            words = str(body["prompt"]).split()
        else:
            words = [w for m in body.get("messages", []) for w in str(m.get("content", "")).split()]
        return web.json_response({"count": len(words), "tokens": list(range(len(words))),
                                  "max_model_len": 32768})

    async def _embeddings(self, request: web.Request) -> web.Response:
        """A bag of hashed words per input, 64 wide: texts sharing words are near."""
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, text in enumerate(inputs):
            vector = [0.0] * 64
            for word in re.findall(r"\w+", str(text).lower()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
            data.append({"object": "embedding", "index": i, "embedding": vector})
        return web.json_response({"object": "list", "data": data, "model": body.get("model")})


def _main() -> None:
    """Run the fake server alone (benchmarks put it in its own process)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--reply", default="A short draft from the fake model.")
    args = parser.parse_args()

    async def serve() -> None:
        fake = FakeLLM(reply=args.reply, first_token_delay=args.first_token_delay,
                       token_delay=args.token_delay)
        fake.port = args.port
        await fake.start()
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    _main()
