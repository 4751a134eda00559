"""Turn files into `Document`s: markdown, text, reStructuredText, HTML and PDF; refuse
the rest.

A file that cannot become a document (binary, too big, unreadable, no text) is
not an error for the whole run: `read_file` raises `Unreadable` with a reason
the ingest command prints and counts. Text is UTF-8 unless a byte-order mark or, for
HTML, a `<meta charset>` says otherwise; other legacy encodings are skipped rather than
guessed, since a wrong guess would index garbage.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.kb.rst import rst_to_markdown
from bot.kb.types import Document

__all__ = ["MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "Unreadable", "html_to_markdown",
           "read_file", "sniff_markup", "to_markdown", "walk"]

MAX_FILE_BYTES = 20 * 1024 * 1024
SUPPORTED_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text",
                      ".rst": "rst", ".html": "html", ".htm": "html", ".pdf": "pdf",
                     ".mdx": "mdx"}


class Unreadable(Exception):
    """This file is skipped; the message says why."""


# Byte-order marks, longest first: UTF-32's little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# A page's declared encoding: <meta charset="x"> or <meta http-equiv=... content="...;
# charset=x">, looked for in its first 1,024 bytes as browsers do.
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.-]+)", re.I)
# Labels whose bytes browsers read as windows-1252, as the HTML standard says.
_AS_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}


def _decode(data: bytes, kind: str = "text") -> str:
    """The file's text: by its byte-order mark when it has one (editors on Windows write
    UTF-8 and UTF-16 with one), else by an HTML page's declared charset, else UTF-8."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise Unreadable(f"not {encoding.upper()} text despite its byte-order mark "
                                 f"({exc.reason} at byte {exc.start})") from exc
            if "\x00" in text[:8192]:
                raise Unreadable("binary content")
            return text
    # NUL bytes never occur in text files; they are the cheap sign of a binary.
    if b"\x00" in data[:8192]:
        raise Unreadable("binary content")
    declared = _META_CHARSET.search(data, 0, 1024) if kind == "html" else None
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    encoding = "windows-1252" if encoding in _AS_WINDOWS_1252 else encoding
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"  # an unknown label: browsers fall back too
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if codecs.lookup(encoding).name == "utf-8" else f"{encoding} (as declared)"
        raise Unreadable(f"not {name} text ({exc.reason} at byte {exc.start})") from exc


def html_to_markdown(html: str) -> tuple[str, str]:
    """(title, text) with h1–h6 turned into markdown headings so chunking sees structure."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            tag.replace_with(f"\n\n{'#' * level} {tag.get_text(' ', strip=True)}\n\n")
    for tag in soup.find_all(["p", "li", "pre", "tr", "div", "br"]):
        tag.insert_after("\n\n" if tag.name != "br" else "\n")
    body = soup.body or soup
    text = re.sub(r"\n{3,}", "\n\n", body.get_text())
    return title, "\n".join(line.strip() for line in text.splitlines()).strip()


_ATX = re.compile(r"^(?:#{1,6}[ \t]+\S|```|~~~)", re.M)  # markdown headings and fences
_HTML_BLOCK = re.compile(r"<(?:h[1-6]|p|div|ul|ol|li|table|pre|section|article)\b[^>]*>", re.I)
_HTML_PAGE = re.compile(r"\A\s*<(?:!doctype\s+html|html)\b", re.I)
_RST_MARK = re.compile(r"^\.\.[ \t]+[\w:|-]+::|:[\w.:+-]+:`[^`]+`|^([=~^\"'*+#-])\1{3,}[ \t]*\n"
                       r".+\n\1{3,}[ \t]*$", re.M)


def sniff_markup(text: str) -> str:
    """"markdown", "html" or "rst": what a text that came without a file name is.

    Markdown wins whenever it has its own headings or fences (a markdown page about
    Sphinx may quote directives); otherwise a page with HTML blocks is HTML, and one
    with directives, roles or overlined titles is reStructuredText. Plain text is
    markdown: the chunker then still sees any structure it has.
    """
    if _ATX.search(text):
        return "markdown"
    if _HTML_PAGE.match(text) or len(_HTML_BLOCK.findall(text, 0, 100_000)) >= 2:
        return "html"
    return "rst" if _RST_MARK.search(text) else "markdown"


def to_markdown(text: str, kind: str) -> tuple[str, str]:
    """(title found in it, text) for a page of `kind` ("html", "rst", "mdx", anything else
    as markdown). A markdown page's front matter gives its title and description."""
    if kind == "html":
        return html_to_markdown(text)
    if kind == "rst":
        return rst_to_markdown(text)
    if kind == "mdx":
        text = _mdx_to_markdown(text)
    meta, text = _front_matter(text)
    title = meta.get("title")
    description = meta.get("description")
    if isinstance(description, str) and description.strip():
        text = f"{description.strip()}\n\n{text}"
    return (str(title).strip() if isinstance(title, str | int | float) and str(title).strip()
            else _first_heading(text)), text


# Front matter, as static-site generators (Jekyll, Hugo, Docusaurus, MkDocs) write it: a
# YAML block between `---` lines or a TOML one between `+++` lines, first in the file.
_FRONT = re.compile(r"\A(---|\+\+\+)[ \t]*\r?\n(.*?)\r?\n(?:\1|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(its fields, the text without it); ({}, text) when the block does not parse as a
    mapping, so a page that merely opens with a rule keeps all its text."""
    match = _FRONT.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(2)) if match.group(1) == "---" \
            else tomllib.loads(match.group(2))
    except (yaml.YAMLError, tomllib.TOMLDecodeError):
        return {}, text
    return (meta, text[match.end():]) if isinstance(meta, dict) else ({}, text)


_FENCE = re.compile(r"^[ \t]*(```|~~~)")
# MDX lines that are code for the page's build, not text: ES module lines, and lines that
# hold only JSX tags (`<Tabs groupId="os">`, `</TabItem>`, `<Admonition type="tip" />`).
_MDX_CODE = re.compile(
    r"^(?:import\s(?:.*\sfrom\s*)?['\"][^'\"]+['\"];?"
    r"|export\s+(?:const|let|var|function|default|async|class|\{).*"
    r"|[ \t]*(?:</?[A-Z][\w.]*(?:\s[^<>]*)?/?>[ \t]*)+)$")


def _mdx_to_markdown(text: str) -> str:
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _MDX_CODE.match(line):
            continue
        lines.append(line)
    return "\n".join(lines)


def _pdf_text(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs each flaw it reads past ("EOF marker not found"): for a PDF it can read
    # that is noise in the ingest's output, and one it cannot is reported as skipped.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta: Any = reader.metadata or {}
        title = str(meta.get("/Title") or "")
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise Unreadable(f"broken PDF ({exc})") from exc
    return title, "\n\n".join(p.strip() for p in pages if p.strip())


def _first_heading(text: str) -> str:
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def read_file(path: Path, *, collection: str = "default", max_bytes: int = MAX_FILE_BYTES,
              root: Path | None = None) -> Document:
    """`root` is the folder being ingested: a reStructuredText page may include
    files from under it (by default, from under the page's own folder)."""
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise Unreadable(f"unsupported file type {path.suffix or '(none)'}")
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            raise Unreadable(f"too big ({stat.st_size} bytes > {max_bytes})")
        if kind == "pdf":
            title, text = _pdf_text(path)
            kind = "text"
        else:
            text = _decode(path.read_bytes(), kind)
            if kind == "rst":
                title, text = rst_to_markdown(text, source=path, root=root)
                kind = "markdown"
            else:
                title, text = to_markdown(text, kind) if kind != "text" else ("", text)
                kind = "markdown" if kind == "mdx" else kind
    except OSError as exc:
        raise Unreadable(f"cannot read ({exc.strerror or exc})") from exc
    if not text.strip():
        raise Unreadable("no text")
    resolved = str(path.resolve())
    return Document(doc_id=resolved, title=title or path.stem.replace("_", " "), url=resolved,
                    text=text, collection=collection, updated_at=stat.st_mtime, kind=kind)


def walk(paths: list[Path]) -> list[Path]:
    """Every file under the given paths, sorted so runs are reproducible; dotfiles skipped."""
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return found
