"""Structure-aware chunking: headings make sections, paragraphs make chunks.

Pure functions over a `Document`. A chunk is a contiguous span of the document
text (so its offset is exact, which evaluation needs), packed from whole
paragraphs up to `max_chars`. Paragraphs longer than that are cut at sentence
ends. Consecutive chunks share a short sentence-aligned overlap so that an
answer sitting on a boundary is still whole in one of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from bot.kb.types import Chunk, Document

__all__ = ["chunk_document", "DEFAULT_MAX_CHARS", "DEFAULT_OVERLAP"]

DEFAULT_MAX_CHARS = 1200
DEFAULT_OVERLAP = 200

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\s]+|\n")


def _sections(text: str, markdown: bool) -> Iterator[tuple[str, int, int]]:
    """Yield (heading path, start, end) for each section of the text."""
    if not markdown:
        yield "", 0, len(text)
        return
    path: list[tuple[int, str]] = []
    start = 0
    heading = ""
    for match in _HEADING.finditer(text):
        if match.start() > start:
            yield heading, start, match.start()
        level = len(match.group(1))
        path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, match.group(2))]
        heading = " > ".join(title for _, title in path)
        start = match.start()
    yield heading, start, len(text)


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):
        if match.start() > pos:
            yield pos, match.start()
        pos = match.end()
    if end > pos:
        yield pos, end


def _sentence_starts(text: str, start: int, end: int) -> list[int]:
    return [m.end() for m in _SENTENCE_END.finditer(text, start, end) if m.end() < end]


def _pieces(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """A paragraph that fits is one piece; a longer one becomes its sentences (packing
    regroups them), and a sentence longer than a chunk is hard-cut."""
    if end - start <= max_chars:
        yield start, end
        return
    bounds = [start, *_sentence_starts(text, start, end), end]
    for s, e in zip(bounds, bounds[1:], strict=False):
        while e - s > max_chars:
            yield s, s + max_chars
            s += max_chars
        if e > s:
            yield s, e


def _overlap_start(text: str, cur_start: int, cur_end: int, overlap: int) -> int:
    """Where the next chunk starts: a sentence start within `overlap` of the end."""
    if overlap <= 0:
        return cur_end
    starts = _sentence_starts(text, max(cur_start + 1, cur_end - overlap), cur_end)
    return starts[0] if starts else cur_end


def _spans(text: str, start: int, end: int, max_chars: int, overlap: int
           ) -> Iterator[tuple[int, int]]:
    cur: tuple[int, int] | None = None
    for p_start, p_end in _paragraphs(text, start, end):
        for s, e in _pieces(text, p_start, p_end, max_chars):
            if cur is None:
                cur = (s, e)
            elif e - cur[0] <= max_chars:
                cur = (cur[0], e)
            else:
                yield cur
                nxt = _overlap_start(text, *cur, overlap)
                cur = (nxt if e - nxt <= max_chars else s, e)
    if cur is not None:
        yield cur


def chunk_document(doc: Document, *, max_chars: int = DEFAULT_MAX_CHARS,
                   overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    text = doc.text
    chunks: list[Chunk] = []
    for heading, s_start, s_end in _sections(text, doc.kind in ("markdown", "html")):
        for start, end in _spans(text, s_start, s_end, max_chars, overlap):
            raw = text[start:end]
            body = raw.strip()
            if not body or _HEADING.fullmatch(body):
                continue
            start += len(raw) - len(raw.lstrip())
            digest = hashlib.sha1(f"{doc.doc_id}\0{len(chunks)}\0{body}".encode()).hexdigest()
            chunks.append(Chunk(chunk_id=digest[:20], doc_id=doc.doc_id, ordinal=len(chunks),
                                heading=heading, text=body, start=start))
    return chunks
