"""Errors that stop start-up with one clear line saying what to set."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """A setting that cannot work; the message says what to set."""
