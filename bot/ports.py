"""Listening on a port another program holds: a message that says which setting to change.

Before, a second `tandem run` (or anything else on port 3000) ended in an `OSError`
traceback from deep in asyncio and an "Unclosed client session" error, and the bot's
HTTP and metrics ports failed the same way, after the embedded vLLM's minute of start.
"""

from __future__ import annotations

import errno
import socket

from aiohttp import web

from bot.errors import ConfigError

__all__ = ["HTTP_PORT_CHANGE", "METRICS_PORT_CHANGE", "SANDBOX_PORT_CHANGE", "check_free",
           "listen"]

SANDBOX_PORT_CHANGE = ("Stop it, or choose another port: `tandem run --sandbox-port N` (or "
                       "TANDEM_SANDBOX_PORT), `tandem sandbox --port N`.")
HTTP_PORT_CHANGE = "Stop it, or set TANDEM_HTTP_PORT to a free port."
METRICS_PORT_CHANGE = "Stop it, or set TANDEM_METRICS_PORT to a free port."


def _refusal(what: str, host: str, port: int, exc: OSError, change: str) -> ConfigError | None:
    if exc.errno == errno.EADDRINUSE:
        why = "another program is listening there (another `tandem run`?)"
    elif exc.errno == errno.EACCES:
        why = "ports below 1024 need root"
    else:
        return None
    return ConfigError(f"{what} cannot listen on {host}:{port}: {why}. {change}")


async def listen(runner: web.AppRunner, host: str, port: int, *, what: str, change: str
                 ) -> int:
    """Start `runner` (set up) on host:port and return the port bound (port 0 picks one).
    A port taken or forbidden cleans the runner up and raises ConfigError, naming `what`
    wanted it and, in `change`, how to choose another."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        refusal = _refusal(what, host, port, exc, change)
        if refusal is None:
            raise
        raise refusal from exc
    return int(runner.addresses[0][1]) if runner.addresses else port


def check_free(host: str, port: int, *, what: str, change: str) -> None:
    """Raise `listen`'s ConfigError now if host:port cannot be bound, so a start that first
    waits a minute for the embedded vLLM says so at once. A port freed or taken after the
    check is still caught by `listen`."""
    if not port:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As asyncio's servers do, so a port in TIME_WAIT after a restart counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            refusal = _refusal(what, host, port, exc, change)
            if refusal is not None:
                raise refusal from exc
