"""Errors that stop start-up with one clear line saying what to set."""

from __future__ import annotations

import re

__all__ = ["ConfigError", "masked_url", "unreachable"]


class ConfigError(Exception):
    """A setting that cannot work; the message says what to set."""


def masked_url(text: str) -> str:
    """`text` with the password of each connection URL in it as "***": for a message or
    a log line that names a database ("postgresql://tandem:***@db:5432/tandem")."""
    return re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", text)


def unreachable(url: str, exc: BaseException, *, what: str = "the database",
                fix: str = "TANDEM_DB_URL") -> ConfigError:
    """A database that cannot be reached (down, wrong host, port or password), as one
    line naming `what` and the setting to `fix`, with the password masked: it was a
    driver traceback, and psycopg2's "invalid dsn" quotes the whole URL."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
    return ConfigError(f"{what} at {masked_url(url)} cannot be reached "
                       f"({masked_url(lines[0])}): start it or fix {fix}")
