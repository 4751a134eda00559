"""Benchmark: LLMClient's own overhead, against FakeLLM on a local socket.

No model: the fake answers at once, so what is measured is the client and
aiohttp (SSE parsing, semaphore, metrics). Prints JSON: time to first token
and tokens/s for 1 and 16 concurrent streams.

    PYTHONPATH=. python3 tests/bench/bench_llm_client.py [--tokens 256] [--rounds 20]
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
from prometheus_client import CollectorRegistry

from bot.llm.client import LLMClient
from bot.llm.metrics import LLMMetrics
from tests.support.fake_llm import FakeLLM

ASK = [{"role": "user", "content": "go"}]


async def measure(client: LLMClient, streams: int, rounds: int) -> dict[str, Any]:
    ttfts: list[float] = []
    rates: list[float] = []
    for _ in range(rounds):
        started = time.monotonic()
        batch = [client.stream_chat(ASK) for _ in range(streams)]
        await asyncio.gather(*(s.collect() for s in batch))
        wall = time.monotonic() - started
        ttfts += [s.ttft for s in batch if s.ttft is not None]
        rates.append(sum(int(s.usage["completion_tokens"]) for s in batch) / wall)
    return {"streams": streams, "rounds": rounds,
            "ttft_median_ms": round(1000 * statistics.median(ttfts), 2),
            "ttft_p95_ms": round(1000 * sorted(ttfts)[int(0.95 * (len(ttfts) - 1))], 2),
            "aggregate_tok_s_median": round(statistics.median(rates))}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    fake = FakeLLM(reply=" ".join(f"w{i}" for i in range(args.tokens)))
    await fake.start()
    try:
        async with aiohttp.ClientSession() as session:
            client = LLMClient(session, fake.base_url, model="fake-model",
                               metrics=LLMMetrics(CollectorRegistry()))
            await measure(client, 1, 2)  # warm-up
            return {"benchmark": "llm_client_overhead", "tokens_per_stream": args.tokens,
                    "one_stream": await measure(client, 1, args.rounds),
                    "sixteen_streams": await measure(client, 16, max(1, args.rounds // 4))}
    finally:
        await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=20)
    json.dump(asyncio.run(main(parser.parse_args())), sys.stdout, indent=1)
    sys.stdout.write("\n")
