"""Typed LLM errors, each carrying the short phrase users see.

The drafting code renders `.what` into the visible "what failed + Retry"
message, so every failure of the model path maps to one of these four kinds.
"""

from __future__ import annotations

__all__ = ["LLMError", "LLMServerError", "LLMStreamCut", "LLMTimeout", "LLMUnavailable",
           "is_retryable"]


class LLMError(Exception):
    """Any failure talking to the model server."""

    kind = "error"
    what = "the language model failed"

    def __init__(self, detail: str = "", *, what: str | None = None) -> None:
        if what is not None:
            self.what = what
        super().__init__(f"{self.what}: {detail}" if detail else self.what)
        self.detail = detail


class LLMUnavailable(LLMError):
    """The server could not be reached (refused, reset before any answer, DNS)."""

    kind = "unavailable"
    what = "the language model is unreachable"


class LLMTimeout(LLMError):
    """A connect, first-token, idle or total deadline passed."""

    kind = "timeout"
    what = "the model took too long to start answering"


class LLMServerError(LLMError):
    """The server answered with an HTTP error status."""

    kind = "server_error"

    def __init__(self, status: int, detail: str = "") -> None:
        self.status = status
        super().__init__(detail, what=f"the model server returned an error (HTTP {status})")


class LLMStreamCut(LLMError):
    """The stream broke after tokens had arrived; it is never replayed silently."""

    kind = "stream_cut"
    what = "the model's answer was cut off"


def is_retryable(err: LLMError) -> bool:
    """Worth another try before any token: unreachable, rate-limited, or a 5xx."""
    if isinstance(err, LLMServerError):
        return err.status == 429 or err.status >= 500
    return isinstance(err, LLMUnavailable)
