"""The team knowledge base: ingest → chunk → embed → hybrid search → cited sources.

Import `KnowledgeBase` from `bot.kb.service` and `Source` from `bot.kb.types`;
this package module stays empty so importing it never loads torch or SQLite.
"""

from __future__ import annotations

__all__: list[str] = []
