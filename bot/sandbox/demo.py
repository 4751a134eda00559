"""A sample team handbook for the offline demo, so a question asked in the sandbox has
something to be answered from (on-call, expenses, VPN, deploys).

`tandem run` ingests it only when it started the sandbox and the knowledge base holds
nothing: a real store is never touched.
"""

from __future__ import annotations

from pathlib import Path

from bot.kb.ingest import ingest_paths
from bot.kb.service import KnowledgeBase
from bot.kb.types import IngestReport

__all__ = ["HANDBOOK", "seed_handbook"]

HANDBOOK = Path(__file__).with_name("handbook")


async def seed_handbook(kb: KnowledgeBase) -> IngestReport | None:
    """Ingest the sample handbook into the `handbook` collection if `kb` is empty."""
    if await kb.hashes():
        return None
    return await ingest_paths(kb, [HANDBOOK], collection="handbook", show_progress=False)
