"""Value objects the knowledge base passes around: documents, chunks, sources."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Chunk", "Document", "Source", "IngestReport"]


@dataclass(frozen=True)
class Document:
    """One unit of ingestion: a file, a Slack thread, an approved answer."""

    doc_id: str
    title: str
    url: str  # permalink, http URL or file path: what a citation links to
    text: str
    collection: str = "default"
    # Set for content from a private channel: only that channel may see it.
    private_channel: str | None = None
    updated_at: float = 0.0
    # "markdown", "html", "text": decides how the chunker reads structure.
    kind: str = "text"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    ordinal: int
    heading: str  # heading path, "Setup > Database"
    text: str
    start: int = 0  # character offset in the document text, for evaluation


@dataclass(frozen=True)
class Source:
    """A retrieved chunk, numbered as the answer prompt cites it."""

    n: int
    title: str
    url: str
    text: str
    heading: str
    collection: str
    score: float
    doc_id: str
    chunk_id: str


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks: int = 0  # written: every chunk of each added or changed document
    embedded: int = 0  # of those, embedded: the rest kept their stored vectors
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "deleted": self.deleted, "chunks": self.chunks, "embedded": self.embedded,
            "skipped": len(self.skipped),
            "seconds": round(self.seconds, 3),
            "chunks_per_s": round(self.chunks_per_second, 1),
        }
