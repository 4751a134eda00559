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
from collections.abc import Iterable, Iterator

from bot.kb.types import Chunk, Document

__all__ = ["chunk_document", "DEFAULT_MAX_CHARS", "HEADING_SEP", "DEFAULT_OVERLAP", "fenced_spans",
           "in_spans"]

DEFAULT_MAX_CHARS = 1200
DEFAULT_OVERLAP = 200

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
# A setext heading: one line of text under a blank line, underlined with = (level 1)
# or - (level 2). List items, quotes and tables are not titles.
_SETEXT = re.compile(r"(?:\A|(?<=\n\n))([^\s#>|*+\-][^\n]*)\n(=+|-+)[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})", re.MULTILINE)
# Between the headings of a chunk's heading path: "Title > Section > Subsection".
HEADING_SEP = " > "
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
# After . ! ? ; : and a space, a new line, or a Chinese or Japanese stop (no space needed).
_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\s]+|\n|(?<=[。！？；])\s*")


def fenced_spans(text: str) -> list[tuple[int, int]]:
    """Spans of fenced code blocks: a `# comment` in a shell sample is not a heading."""
    spans: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for match in _FENCE.finditer(text):
        fence = match.group(1)
        if opened is None:
            opened = (match.start(), fence)
        elif fence[0] == opened[1][0] and len(fence) >= len(opened[1]):
            spans.append((opened[0], match.end()))
            opened = None
    if opened is not None:
        spans.append((opened[0], len(text)))
    return spans


def in_spans(positions: Iterable[int], spans: list[tuple[int, int]]) -> Iterator[bool]:
    """For each of `positions` (ascending), whether it falls in one of `spans` (ascending,
    not overlapping, as `fenced_spans` gives them): one sweep over both, not a scan of
    every span per position, which cost seconds on a page of thousands of code blocks."""
    i = 0
    for pos in positions:
        while i < len(spans) and spans[i][1] <= pos:
            i += 1
        yield i < len(spans) and spans[i][0] <= pos


def _headings(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, level, title) of each markdown heading, in order."""
    found = [(m.start(), m.end(), len(m.group(1)), m.group(2)) for m in _HEADING.finditer(text)]
    found += [(m.start(), m.end(), 1 if m.group(2)[0] == "=" else 2, m.group(1).strip())
              for m in _SETEXT.finditer(text)]
    found.sort()
    fenced = in_spans((h[0] for h in found), fenced_spans(text))
    return [h for h, inside in zip(found, fenced, strict=True) if not inside]


def _sections(text: str, markdown: bool) -> Iterator[tuple[str, int, int, int]]:
    """Yield (heading path, start, end, end of the heading line) for each section."""
    if not markdown:
        yield "", 0, len(text), 0
        return
    path: list[tuple[int, str]] = []
    start = head_end = 0
    heading = ""
    for h_start, h_end, level, title in _headings(text):
        if h_start > start:
            yield heading, start, h_start, head_end
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
        heading = HEADING_SEP.join(t for _, t in path)
        start, head_end = h_start, h_end
    yield heading, start, len(text), head_end


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
    for heading, s_start, s_end, head_end in _sections(text, doc.kind in ("markdown", "html")):
        for start, end in _spans(text, s_start, s_end, max_chars, overlap):
            raw = text[start:end]
            body = raw.strip()
            if not body or end <= head_end:  # nothing but the heading itself
                continue
            start += len(raw) - len(raw.lstrip())
            digest = hashlib.sha1(f"{doc.doc_id}\0{len(chunks)}\0{body}".encode()).hexdigest()
            chunks.append(Chunk(chunk_id=digest[:20], doc_id=doc.doc_id, ordinal=len(chunks),
                                heading=heading, text=body, start=start))
    return chunks
