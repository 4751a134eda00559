"""Benchmark: the embedded vLLM called directly through LLMClient (no bot).

Prints one JSON object: model prep and server start times, then time to first
token and tokens/s for 1 stream and for 16 concurrent streams. Each stream
generates a fixed number of tokens (`ignore_eos`) so runs compare fairly.
These are the "vLLM alone" figures that P2/P4 through the bot compare against.

    PYTHONPATH=. python3 tests/bench/bench_llm_vllm.py [--tokens 128] [--base-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import aiohttp

from bot.llm.client import LLMClient
from bot.settings import LLMTimeouts

ASK = [{"role": "user", "content": "Write a short announcement that release 2.3 is out."}]


async def run_streams(client: LLMClient, n: int, tokens: int) -> dict[str, Any]:
    params = {"max_tokens": tokens, "min_tokens": tokens, "ignore_eos": True, "temperature": 0.8}
    started = time.monotonic()
    streams = [client.stream_chat(ASK, params=params, request_id=f"bench-{n}-{i}")
               for i in range(n)]
    await asyncio.gather(*(s.collect() for s in streams))
    wall = time.monotonic() - started
    ttfts = [s.ttft for s in streams if s.ttft is not None]
    generated = sum(int(s.usage.get("completion_tokens", 0)) for s in streams)
    per_stream = [int(s.usage.get("completion_tokens", 0)) / (wall - (s.ttft or 0))
                  for s in streams]
    return {"streams": n, "tokens_per_stream": tokens, "wall_s": round(wall, 2),
            "ttft_median_s": round(statistics.median(ttfts), 3),
            "ttft_max_s": round(max(ttfts), 3),
            "aggregate_tok_s": round(generated / wall, 1),
            "per_stream_tok_s_median": round(statistics.median(per_stream), 1)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "llm_vllm_direct"}
    server = None
    base_url, model = args.base_url, args.model
    if not base_url:
        from bot.llm.embedded import EmbeddedVLLM
        from bot.llm.model_prep import prepare_model

        t0 = time.monotonic()
        model_dir = await asyncio.to_thread(prepare_model)
        result["prep_s"] = round(time.monotonic() - t0, 1)
        server = EmbeddedVLLM(model_dir=model_dir)
        t0 = time.monotonic()
        base_url = await server.start()
        result["server_start_s"] = round(time.monotonic() - t0, 1)
        model = server.model
    try:
        timeouts = LLMTimeouts(first_token=300, idle=120, total=900)
        async with aiohttp.ClientSession() as session:
            client = LLMClient(session, base_url, model=model, timeouts=timeouts)
            await run_streams(client, 1, 8)  # warm-up: compile paths, fill caches
            result["one_stream"] = await run_streams(client, 1, args.tokens)
            result["sixteen_streams"] = await run_streams(client, 16, args.tokens)
    finally:
        if server is not None:
            await server.stop()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--base-url", default=None, help="use a running server instead")
    parser.add_argument("--model", default="tandem-base")
    outcome = asyncio.run(main(parser.parse_args()))
    json.dump(outcome, sys.stdout, indent=1)
    sys.stdout.write("\n")
