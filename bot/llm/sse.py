"""Server-sent events parsing for OpenAI-style streams.

Pure: feed it byte lines, get JSON payloads. Kept apart from the HTTP code so
framing rules (comments, multi-line `data:`, `[DONE]`) are tested without a
network.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["DONE", "SSEDecoder", "iter_events"]

DONE = object()


class SSEDecoder:
    """Accumulates lines into events; `feed` returns a payload when one completes."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, raw: bytes | str) -> Any:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None  # comment / keep-alive
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> Any:
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data = []
        if data.strip() == "[DONE]":
            return DONE
        return json.loads(data)


async def iter_events(lines: AsyncIterator[bytes]) -> AsyncIterator[Any]:
    """Yield decoded JSON payloads (or DONE) from an async iterator of lines."""
    decoder = SSEDecoder()
    async for raw in lines:
        event = decoder.feed(raw)
        if event is not None:
            yield event
    tail = decoder.flush()
    if tail is not None:
        yield tail
