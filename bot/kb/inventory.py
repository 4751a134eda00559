"""What the knowledge base holds (`tandem kb list`) and what a `tandem kb remove` names.

Pure functions over the stored documents (`Store.documents`) or their counts by kind
(`Store.tally`), and `collections`, which reads those counts. A document's source is
its id without its collection's prefix (`bot.kb.ingest.collection_id`): a file's
resolved path, `slack:<channel>:<thread ts>`, or `answer:<thread permalink>`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.kb.ingest import home_collection
from bot.kb.readers import path_text
from bot.kb.service import ANSWER_PREFIX
from bot.kb.store_base import DocInfo, KindCount

if TYPE_CHECKING:
    from bot.kb.service import KnowledgeBase

__all__ = ["CHANNEL_ID", "CollectionSummary", "collections", "kind", "matcher", "source",
           "summarise"]

# A Slack channel ID: "C0123ABCD" ("G…" for an old private channel).
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


def source(doc: DocInfo) -> str:
    """The document's source: its id less the collection prefix a second copy carries."""
    head = f"{doc.collection}:"
    rest = doc.doc_id[len(head):] if doc.doc_id.startswith(head) else ""
    return rest if home_collection(rest) else doc.doc_id


def kind(doc: DocInfo) -> str:
    key = source(doc)
    if key.startswith("/"):
        return "file"
    if key.startswith("slack:"):
        return "Slack thread"
    if key.startswith("answer:"):
        return "approved answer"
    return "other document"


@dataclass
class CollectionSummary:
    name: str
    documents: int = 0
    chunks: int = 0
    updated_at: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    private_channels: set[str] = field(default_factory=set)
    stale_answers: int = 0  # approved answers whose sources changed since: not searched

    def as_dict(self) -> dict[str, object]:
        return {"collection": self.name, "documents": self.documents, "chunks": self.chunks,
                "updated_at": self.updated_at, "kinds": dict(sorted(self.kinds.items())),
                "private_channels": sorted(self.private_channels),
                "stale_answers": self.stale_answers}


def summarise(counts: Iterable[KindCount], stale: Mapping[str, int] | None = None
              ) -> list[CollectionSummary]:
    """One summary per collection, by name; `stale` counts each one's stale answers."""
    out: dict[str, CollectionSummary] = {}
    for c in counts:
        s = out.setdefault(c.collection, CollectionSummary(c.collection))
        s.documents += c.documents
        s.chunks += c.chunks
        s.updated_at = max(s.updated_at, c.updated_at)
        s.kinds[c.kind] = s.kinds.get(c.kind, 0) + c.documents
        if c.private_channel:
            s.private_channels.add(c.private_channel)
    for name, n in (stale or {}).items():
        if name in out:
            out[name].stale_answers = n
    return [out[name] for name in sorted(out)]


async def collections(kb: KnowledgeBase, *, collection: str | None = None
                      ) -> list[CollectionSummary]:
    """What the knowledge base holds, per collection, read as counts: the store groups
    its documents, so a large one is not read a row per document."""
    counts = await asyncio.to_thread(kb.store.tally, collection=collection)
    stale: dict[str, int] = {}
    for name in sorted({c.collection for c in counts if c.kind == "approved answer"}):
        answers = await kb.hashes(collection=name, prefix=ANSWER_PREFIX)
        stale[name] = len(await kb.stale_answers(answers))
    return summarise(counts, stale)


def matcher(target: str) -> Callable[[DocInfo], bool]:
    """Which documents a `remove` target names:
    - `#name`: the threads ingested from that Slack channel (their titles begin `#name: `);
    - a channel ID (`C…`, `G…`): the threads ingested from it;
    - a link (`https://…`): the document it is the link of, such as an approved answer's
      thread permalink;
    - anything else is a file or folder path, which need not exist any more: the files at
      or under it."""
    if target.startswith("#"):
        prefix = f"{target}: "
        return lambda d: kind(d) == "Slack thread" and d.title.startswith(prefix)
    if CHANNEL_ID.match(target):
        return lambda d: source(d).startswith(f"slack:{target}:")
    if "://" in target:
        return lambda d: d.url == target
    path = path_text(Path(target).expanduser().resolve())
    below = path.rstrip("/") + "/"
    return lambda d: source(d) == path or source(d).startswith(below)
