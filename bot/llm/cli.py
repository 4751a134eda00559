"""`tandem llm prepare` and `tandem llm serve`: the embedded vLLM from the shell."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    llm = subparsers.add_parser("llm", help="the embedded vLLM (CPU) and its packaged model")
    sub = llm.add_subparsers(dest="llm_command", required=True)

    prepare = sub.add_parser("prepare", help="build the model cache once (GGUF -> bf16)")
    prepare.add_argument("--cache-dir", type=Path, default=None,
                         help="default: $TANDEM_MODEL_CACHE or ~/.cache/tandem/models/gemma3-270m")
    prepare.add_argument("--force", action="store_true", help="rebuild even if the cache is valid")
    prepare.set_defaults(func=_prepare)

    serve = sub.add_parser("serve", help="serve the packaged model with vLLM until Ctrl-C")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--cache-dir", type=Path, default=None)
    serve.add_argument("--kv-cache-gib", type=int, default=2)
    serve.add_argument("--log", type=Path, default=None, help="write vLLM's output here")
    serve.set_defaults(func=_serve)


def _prepare(args: argparse.Namespace) -> int:
    from bot.llm.model_prep import default_cache_dir, prepare_model

    folder = prepare_model(args.cache_dir or default_cache_dir(), force=args.force)
    print(folder)  # noqa: T201
    return 0


def _serve(args: argparse.Namespace) -> int:
    return asyncio.run(_serve_async(args))


async def _serve_async(args: argparse.Namespace) -> int:
    from bot.llm.embedded import EmbeddedVLLM
    from bot.llm.model_prep import prepare_model

    model_dir = await asyncio.to_thread(prepare_model, args.cache_dir)
    server = EmbeddedVLLM(port=args.port, model_dir=model_dir, kv_cache_gib=args.kv_cache_gib,
                          log_path=args.log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        print(f"TANDEM_LLM_BASE_URL={server.base_url}", flush=True)  # noqa: T201
        print(f"TANDEM_LLM_MODEL={server.model}", flush=True)  # noqa: T201
        waiter = asyncio.create_task(stop.wait())
        while not stop.is_set():
            if server.process is None or server.process.poll() is not None:
                print("tandem: vLLM exited", file=sys.stderr)  # noqa: T201
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), 1.0)
        return 0
    finally:
        await server.stop()
