"""The one exception Web API handlers raise: Slack's `{"ok": false, "error": ...}`."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "require"]


class ApiError(Exception):
    def __init__(self, error: str, *, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


def require(args: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise ApiError("invalid_arguments",
                       messages=[f"[ERROR] missing required field: {n}" for n in missing])
