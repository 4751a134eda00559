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
import itertools
import logging
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bot.kb.chunking import fenced_spans, in_spans
from bot.kb.rst import rst_to_markdown
from bot.kb.types import Document

__all__ = ["MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "Unreadable", "html_to_markdown",
           "path_text", "read_file", "sniff_markup", "to_markdown", "walk"]

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
# A page's declared encoding: <meta charset="x">, <meta http-equiv=... content="...;
# charset=x"> or an XHTML page's <?xml ... encoding="x"?>, looked for in its first 1,024
# bytes as browsers do.
_META_CHARSET = re.compile(rb"(?:<meta[^>]{0,200}?charset|<\?xml[^>]{0,100}?encoding)\s*=\s*"
                           rb"[\"']?\s*([A-Za-z0-9_:.-]+)", re.I)
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


# Never text: code, forms, and a site's navigation, wherever they sit.
_NEVER_TEXT = ["script", "style", "noscript", "template", "svg", "form", "button", "nav"]
_NAV_ROLES = {"navigation", "search", "banner", "contentinfo"}
# Navigation by the class or id that documentation generators give it: Sphinx
# (sphinxsidebar, related, headerlink ¶), DocBook (navheader, navfooter), MkDocs, Bootstrap
# and others (toc, nav, breadcrumbs, skip links).
_NAV_NAMES = {"sphinxsidebar", "related", "headerlink", "navheader", "navfooter", "nav",
              "navbar", "toc", "breadcrumb", "breadcrumbs", "skip-link", "skip-to-content",
              "md-sidebar", "md-header", "md-footer", "edit-page", "pagination", "prev-next"}
# An aside is a site's sidebar of links or a note beside the text (Sphinx's `sidebar`
# directive): left out only when it is mostly links.
_ASIDE_NAMES = {"sidebar"}
_BLOCKS = ["p", "div", "section", "article", "main", "header", "footer", "blockquote", "ul",
           "ol", "li", "dl", "dt", "dd", "table", "tr", "figure", "figcaption", "details",
           "summary", "hr"]
_HEADING_MARKS = re.compile(r"[\s¶#§🔗]+$")


def _links(tag: Any) -> bool:
    """True when links make up at least half of the element's text."""
    text = len(tag.get_text(strip=True))
    return sum(len(a.get_text(strip=True)) for a in tag.find_all("a")) * 2 >= text


_BLOCK_SET = frozenset(_BLOCKS)
# What an element leaves after itself in the text: a row's cells are words apart, not run
# together; a line break ends its line.
_AFTER = {"td": " ", "th": " ", "br": "\n"}


def _spaced_text(root: Any) -> str:
    """`root.get_text()` with blocks set apart by blank lines, as `_AFTER` says for the
    rest. One walk over the tree: inserting the separators into it instead cost bs4 a
    search for each element's last descendant, so a page of 50,000 nested <div>s (650 kB)
    took 199 s to read."""
    from bs4.element import NavigableString, Tag

    types = root.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES
    types = (types,) if isinstance(types, type) else tuple(types)
    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) in types:
                out.append(str(node))
            continue
        blank = "\n\n" if node.name in _BLOCK_SET and node is not root else ""
        if closing:
            out.append(blank or _AFTER.get(node.name, ""))
            continue
        out.append(blank)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return "".join(out)


def html_to_markdown(html: str) -> tuple[str, str]:
    """(title, text) of a page's content: h1–h6 become markdown headings and <pre> a fenced
    block (its indentation kept, its `#` lines not headings), so chunking sees structure.

    The site around the content is left out: when the page marks its content (one
    <article>, <main> or role="main" holding most of its text) only that is read, and
    navigation (<nav>, ARIA navigation roles, generators' sidebar, table-of-contents and
    anchor-mark classes, asides that are mostly links) never is. Node.js's API pages list
    every module in a sidebar and a header, so before, each page's first chunk was the
    same 120 module names."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_NEVER_TEXT):
        tag.decompose()
    def navigation(tag: Tag) -> bool:
        names = {*(tag.get("class") or ()), str(tag.get("id") or "")}
        aside = tag.name == "aside" or tag.get("role") == "complementary" \
            or bool(names & _ASIDE_NAMES)
        return tag.get("role") in _NAV_ROLES or bool(names & _NAV_NAMES) \
            or (aside and _links(tag))

    # Decided first, removed after: a tag inside one already removed is removed again,
    # harmlessly (bs4's `decomposed` check costs a subtree search per tag).
    for tag in [t for t in soup.find_all(True) if isinstance(t, Tag) and navigation(t)]:
        tag.decompose()
    root = soup.body or soup
    # The narrowest marked content that still holds most of the page's text: an <article>
    # leaves out a Docusaurus page's table of contents beside it in <main>, and a small
    # card marked <article> must not stand in for the page.
    whole = len(root.get_text(strip=True))
    for found in (soup.find_all("article"), soup.find_all("main"), soup.find_all(role="main")):
        if len(found) == 1 and len(found[0].get_text(strip=True)) * 2 >= whole > 0:
            root = found[0]
            break
    for pre in root.find_all("pre"):
        # One block may hold several listings (Node.js: the ESM and CommonJS forms).
        listings = pre.find_all("code", recursive=False)
        code = "\n\n".join(c.get_text().strip("\n") for c in listings) if len(listings) > 1 \
            else pre.get_text().strip("\n")
        fence = "~~~~" if "```" in code else "```"
        pre.replace_with(f"\n\n{fence}\n{code}\n{fence}\n\n")
    for level in range(1, 7):
        for tag in root.find_all(f"h{level}"):
            heading = _HEADING_MARKS.sub("", tag.get_text(" ", strip=True))
            tag.replace_with(f"\n\n{'#' * level} {heading}\n\n")
    lines = [line.rstrip() if fenced else line.strip()
             for line, fenced in _lines_and_fences(_spaced_text(root))]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return title or _first_heading(text), text


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


def to_markdown(text: str, kind: str, *, title: str = "") -> tuple[str, str]:
    """(title, text) for a page of `kind` ("html", "rst", "mdx", anything else as
    markdown): `title` when given, else the one found in the page. A markdown page's front
    matter gives its title and description."""
    if kind in ("html", "rst"):
        found, text = html_to_markdown(text) if kind == "html" else rst_to_markdown(text)
        return title or found, text
    if kind == "mdx":
        text = _mdx_to_markdown(text)
    meta, text = _front_matter(text)
    named, description = meta.get("title"), meta.get("description")
    name = title or (str(named).strip() if isinstance(named, str | int | float) else "")
    name = name or _first_heading(text)
    about = description.strip() if isinstance(description, str) else ""
    # A short description names the page as well as its title does, and the title goes with
    # every chunk into search: on npm's docs, "npm-install: Install a package" as the title
    # found 0.926 of the right pages in the top 5, against 0.904 with the description as the
    # page's first paragraph. A long one would crowd the chunks' own words out of the
    # embedding's 128 tokens, so it opens the text instead.
    if about and len(about) <= _TITLE_DESCRIPTION:
        name = f"{name}: {about}" if name else about
    elif about:
        text = f"{about}\n\n{text}"
    return name, text


_TITLE_DESCRIPTION = 160  # characters


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


# MDX lines that are code for the page's build, not text: ES module lines, and lines that
# hold only JSX tags (`<Tabs groupId="os">`, `</TabItem>`, `<Admonition type="tip" />`).
_MDX_CODE = re.compile(
    r"^(?:import\s(?:.*\sfrom\s*)?['\"][^'\"]+['\"];?"
    r"|export\s+(?:const|let|var|function|default|async|class|\{).*"
    r"|[ \t]*(?:</?[A-Z][\w.]*(?:\s[^<>]*)?/?>[ \t]*)+)$")


def _mdx_to_markdown(text: str) -> str:
    return "\n".join(line for line, fenced in _lines_and_fences(text)
                     if fenced or not _MDX_CODE.match(line))


def _lines_and_fences(text: str) -> Iterator[tuple[str, bool]]:
    """Each line of `text` (without its ending) and whether it is part of a fenced code
    block, fences matched as the chunker matches them (`chunking.fenced_spans`)."""
    raws = text.splitlines(keepends=True)
    starts = itertools.accumulate((len(raw) for raw in raws), initial=0)
    for raw, fenced in zip(raws, in_spans(starts, fenced_spans(text)), strict=False):
        yield (raw.splitlines() or [""])[0], fenced


def _pdf_text(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    # pypdf logs each flaw it reads past ("EOF marker not found"): for a PDF it can read
    # that is noise in the ingest's output, and one it cannot is reported as skipped.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        # pypdf opens one locked with an empty password (restrictions only) by itself.
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted PDF: it opens only with a password; ingest a copy "
                             "saved without one")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta: Any = reader.metadata or {}
        title = _pdf_title(str(meta.get("/Title") or ""))
    # DependencyError: an AES-locked file where the `cryptography` package is missing.
    except (PyPdfError, DependencyError, ValueError, KeyError, OSError) as exc:
        raise Unreadable(f"broken PDF ({exc})") from exc
    text = pdf_pages_to_text(pages)
    if pages and not text.strip():
        raise Unreadable(f"no text in its {len(pages)} page{'s' * (len(pages) > 1)} (a "
                         "scanned PDF holds only images: run OCR on it first, as ocrmypdf "
                         "does)")
    return title, text


# What word processors put in a PDF's title: "Microsoft Word - Handbook 2024.docx".
_MADE_BY = re.compile(r"^(?:Microsoft (?:Word|PowerPoint|Excel)|Word|PowerPoint)\s+-\s+", re.I)
_FILE_NAME = re.compile(r"\.(?:docx?|pptx?|xlsx?|odt|rtf|pages|txt|md|tex|pdf)$", re.I)


def _pdf_title(title: str) -> str:
    """The document's name from a PDF's title field, without the application or file
    extension a converter wrote there; "" for a placeholder ("untitled")."""
    title = _FILE_NAME.sub("", _MADE_BY.sub("", title.strip())).strip()
    return "" if title.lower() in {"untitled", "untitled document", "title"} else title


_EDGE = 2  # lines at the top and at the bottom of a page where running heads sit
_PAGE_NUMBER = re.compile(r"(?:page\s*)?[-–—\s]*(?:\d+|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})"
                          r"(?:ix|iv|v?i{0,3}))(?:\s*(?:of|/)\s*\d+)?[-–—\s]*", re.I)
_LINE_END_HYPHEN = re.compile(r"([A-Za-z]{2})-\n(?=[a-z]{2})")


def pdf_pages_to_text(pages: list[str]) -> str:
    """One text from a PDF's pages, as it reads rather than as it was printed:
    - running heads and feet (the same line at the top or bottom of most pages, page
      numbers aside) and bare page numbers are dropped: in every chunk they were noise;
    - a paragraph that runs on to the next page is joined, not split there;
    - a word hyphenated at a line end is whole again ("man-\nagement" is "management"),
      so search finds it.
    """
    split = [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]

    def edges(lines: list[str]) -> list[str]:
        return lines[:_EDGE] + lines[-_EDGE:] if len(lines) > 2 * _EDGE else lines

    seen: dict[str, int] = {}
    for lines in split:
        for key in {re.sub(r"\d+", "#", line) for line in edges(lines)}:
            seen[key] = seen.get(key, 0) + 1
    running = {key for key, n in seen.items() if n >= 3 and n * 2 >= len(split)}

    def is_chrome(line: str) -> bool:
        return bool(_PAGE_NUMBER.fullmatch(line)) or re.sub(r"\d+", "#", line) in running

    text = ""
    for lines in split:
        head = [i for i in range(min(_EDGE, len(lines))) if is_chrome(lines[i])]
        foot = [i for i in range(max(len(lines) - _EDGE, 0), len(lines)) if is_chrome(lines[i])]
        drop = set(head) | set(foot)
        body = "\n".join(line for i, line in enumerate(lines) if i not in drop)
        if not body:
            continue
        runs_on = text and not text.endswith((".", "!", "?", ":", ";")) and body[:1].islower()
        text += ("\n" if runs_on else "\n\n" if text else "") + body
    return _LINE_END_HYPHEN.sub(r"\1", text)


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
    resolved = path_text(path.resolve())
    return Document(doc_id=resolved, title=title or path_text(path.stem).replace("_", " "),
                    url=resolved, text=text, collection=collection, updated_at=stat.st_mtime,
                    kind=kind)


def path_text(path: Path | str) -> str:
    """`path` as text that can be stored and shown: a name whose bytes are not UTF-8 (a
    file copied from an old Latin-1 system, "na\\xefve.md"), which Python keeps as lone
    surrogates that no UTF-8 encoder takes, has those bytes written as `\\xNN`. The same
    name always gives the same text, so a re-ingest finds the document again."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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
