"""Errors that stop start-up with one clear line saying what to set."""

from __future__ import annotations

import re

__all__ = ["ConfigError", "masked_url"]


class ConfigError(Exception):
    """A setting that cannot work; the message says what to set."""


def masked_url(text: str) -> str:
    """`text` with the password of each connection URL in it as "***": for a message or
    a log line that names a database ("postgresql://tandem:***@db:5432/tandem")."""
    return re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", text)
