"""reStructuredText (Sphinx docs) to the markdown the chunker reads.

Read as plain text, an .rst page loses its structure and keeps its markup: headings
are underlines the chunker cannot see, `:command:`add_executable`` hides a word
from search, and a page made of `.. include::` files and `|substitutions|` (CMake's
find_* pages, for one) says almost nothing of its own. This turns a page into
markdown text:

- `.. include:: FILE` is inlined when FILE sits under the page's own folder tree;
- `.. |NAME| replace:: TEXT` definitions are applied and dropped;
- underlined (and overlined) titles become `#` headings, levelled in the order
  their adornment styles first appear, as reStructuredText defines;
- roles keep their text (`:ref:`Title <target>`` gives "Title"), ``literals``
  become `literals`, version notes become sentences, other directive markers go
  and their arguments and content stay.

It is a tolerant line-by-line pass, not a parser: markup it does not know stays as
it is, which costs a little search quality and never a page.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["rst_to_markdown"]

MAX_INCLUDE_BYTES = 1024 * 1024
MAX_INCLUDE_DEPTH = 4

_INCLUDE = re.compile(r"^\.\.[ \t]+include::[ \t]+(\S+)[ \t]*$", re.M)
_SUBST_DEF = re.compile(r"^\.\.[ \t]+\|([^|\n]+)\|[ \t]+replace::[ \t]*(.*)$")
_DIRECTIVE = re.compile(r"^(\s*)\.\.[ \t]+([\w:-]+)::[ \t]*(.*)$")
_COMMENT = re.compile(r"^\s*\.\.(?:[ \t]|$)")
_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+[ \t]*$")
_ROLE = re.compile(r":[\w.:+-]+:`([^`]+)`")
_TARGETED = re.compile(r"^(.*?)\s+<.+>$", re.S)  # `Title <target>`; CMAKE_<LANG> is a name
_LITERAL = re.compile(r"``(.+?)``")
_LINK = re.compile(r"`([^`<]+?)(?:\s*<[^`]*>)?`__?")
_SUBST_USE = re.compile(r"\|([^|\s][^|\n]*)\|")

# Directives whose marker means nothing to a reader: drop the line, keep the content.
_QUIET = {"code-block", "code", "sourcecode", "parsed-literal", "only", "contents",
          "toctree", "highlight", "index", "raw", "productionlist", "rst-class",
          "default-role", "role", "cssclass", "container", "literalinclude", "image",
          "figure"}
_SENTENCES = {"versionadded": "New in version {}.", "versionchanged": "Changed in version {}.",
              "deprecated": "Deprecated since version {}.", "note": "Note:",
              "warning": "Warning:", "seealso": "See also:", "tip": "Tip:",
              "important": "Important:", "attention": "Attention:", "caution": "Caution:",
              "danger": "Danger:", "hint": "Hint:", "todo": "To do:"}


def _include(text: str, base: Path | None, root: Path | None, depth: int,
             seen: frozenset[Path]) -> str:
    if base is None or root is None or depth >= MAX_INCLUDE_DEPTH:
        return text

    def inline(match: re.Match[str]) -> str:
        target = (base / match.group(1)).resolve()
        if target in seen or not target.is_relative_to(root) or not target.is_file():
            return ""
        try:
            if target.stat().st_size > MAX_INCLUDE_BYTES:
                return ""
            inner = target.read_text(encoding="utf-8-sig")  # a BOM is not text
        except (OSError, UnicodeDecodeError):
            return ""
        return _include(inner, target.parent, root, depth + 1, seen | {target})

    return _INCLUDE.sub(inline, text)


def _substitutions(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Take `.. |NAME| replace::` definitions (with their indented continuation) out."""
    kept: list[str] = []
    subs: dict[str, str] = {}
    i = 0
    while i < len(lines):
        match = _SUBST_DEF.match(lines[i])
        if not match:
            kept.append(lines[i])
            i += 1
            continue
        parts = [match.group(2).strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and lines[i][:1] in " \t":
            parts.append(lines[i].strip())
            i += 1
        subs[match.group(1)] = _inline(" ".join(p for p in parts if p))
    return kept, subs


def _apply_substitutions(text: str, subs: dict[str, str]) -> str:
    for _ in range(4):  # definitions may use other substitutions
        new = _SUBST_USE.sub(lambda m: subs.get(m.group(1), m.group(0)), text)
        if new == text:
            break
        text = new
    return text


def _role(match: re.Match[str]) -> str:
    inner = match.group(1)
    targeted = _TARGETED.match(inner)
    return " ".join((targeted.group(1) if targeted else inner).lstrip("~!").split())


def _wrapped_roles(text: str) -> str:
    """Roles that wrap onto the next line, which the line-by-line pass cannot see whole."""
    return _ROLE.sub(lambda m: _role(m) if "\n" in m.group(1) else m.group(0), text)


def _inline(line: str) -> str:
    line = _ROLE.sub(_role, line)
    line = _LITERAL.sub(r"`\1`", line)
    return _LINK.sub(r"\1", line)


def _directive(match: re.Match[str]) -> str | None:
    indent, name, args = match.group(1), match.group(2).lower(), match.group(3).strip()
    if name in _SENTENCES:
        sentence = _SENTENCES[name]
        return indent + (sentence.format(args) if "{}" in sentence else
                         f"{sentence} {args}".rstrip())
    if name in _QUIET or not args:
        return None
    return indent + args  # `.. command:: add_executable`, `.. option:: -D <var>`, ...


def _is_title(line: str) -> bool:
    return bool(line.strip()) and not line[:1].isspace() and not _ADORNMENT.match(line)


def rst_to_markdown(text: str, *, source: Path | None = None, root: Path | None = None
                    ) -> tuple[str, str]:
    """(title, markdown text). `source` is the page's file, for includes; only files
    under `root` (the folder tree being ingested, by default the page's folder) are
    inlined."""
    base = seen = None
    if source is not None:
        source = source.resolve()
        base, seen = source.parent, frozenset({source})
        root = (root or base).resolve()
    text = _wrapped_roles(_include(text, base, root, 0, seen or frozenset()))
    lines, subs = _substitutions(text.splitlines())
    levels: list[tuple[str, bool]] = []
    out: list[str] = []
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        over = _ADORNMENT.match(line)
        # An overlined title: adornment, title, the same adornment.
        if over and i + 2 < len(lines) and lines[i + 1].strip() \
                and not _ADORNMENT.match(lines[i + 1]) and lines[i + 2].strip() == line.strip():
            style, heading, i = (line[0], True), lines[i + 1].strip(), i + 3
        elif _is_title(line) and (under := _ADORNMENT.match(nxt)) \
                and len(nxt.strip()) >= min(len(line.strip()), 3) \
                and (i == 0 or not lines[i - 1].strip()):
            style, heading, i = (under.group(1), False), line.strip(), i + 2
        else:
            if (directive := _DIRECTIVE.match(line)) is not None:
                kept = _directive(directive)
                if kept is not None:
                    out.append(_inline(kept))
            elif _COMMENT.match(line) or over:
                pass  # comments, link targets and stray adornments carry no prose
            elif line.strip() == "::":
                pass
            else:
                out.append(_inline(line[:-1] if line.endswith("::") else line))
            i += 1
            continue
        if style not in levels:
            levels.append(style)
        heading = _inline(heading)
        title = title or heading
        out.extend(["", f"{'#' * min(levels.index(style) + 1, 6)} {heading}", ""])
    body = _apply_substitutions("\n".join(out), subs)
    return _apply_substitutions(title, subs), re.sub(r"\n{3,}", "\n\n", body).strip()
