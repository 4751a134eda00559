"""What the knowledge base holds (`tandem kb list`) and what a `tandem kb remove` names.

Pure functions over the stored documents (`Store.documents`). A document's source is
its id without its collection's prefix (`bot.kb.ingest.collection_id`): a file's
resolved path, `slack:<channel>:<thread ts>`, or `answer:<thread permalink>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.kb.ingest import home_collection
from bot.kb.store_base import DocInfo

__all__ = ["CollectionSummary", "kind", "matcher", "source", "summarise"]

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


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


def summarise(docs: Iterable[DocInfo], stale: Container[str] = ()) -> list[CollectionSummary]:
    """One summary per collection, by name; `stale` holds the stale answers' ids."""
    out: dict[str, CollectionSummary] = {}
    for doc in docs:
        s = out.setdefault(doc.collection, CollectionSummary(doc.collection))
        s.documents += 1
        s.stale_answers += doc.doc_id in stale
        s.chunks += doc.chunks
        s.updated_at = max(s.updated_at, doc.updated_at)
        s.kinds[kind(doc)] = s.kinds.get(kind(doc), 0) + 1
        if doc.private_channel:
            s.private_channels.add(doc.private_channel)
    return [out[name] for name in sorted(out)]


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
    if _CHANNEL_ID.match(target):
        return lambda d: source(d).startswith(f"slack:{target}:")
    if "://" in target:
        return lambda d: d.url == target
    path = str(Path(target).expanduser().resolve())
    below = path.rstrip("/") + "/"
    return lambda d: source(d) == path or source(d).startswith(below)
