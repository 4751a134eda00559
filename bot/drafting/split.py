"""Split long text at Slack's limits, preferring paragraph and line breaks."""

from __future__ import annotations

__all__ = ["MESSAGE_LIMIT", "SECTION_LIMIT", "split_text"]

SECTION_LIMIT = 3000  # a section block's text
MESSAGE_LIMIT = 3900  # Slack now answers msg_too_long a little past ~4,000 characters


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters that join back to the original text."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit - 1
        pieces.append(rest[: cut + 1])
        rest = rest[cut + 1 :]
    pieces.append(rest)
    return [p for p in pieces if p] or [""]
