"""Build documentation eval corpora from docs that Debian packages install on this machine.

- `node_npm`: the Node.js API reference (/usr/share/doc/nodejs/api/*.md) and npm's own
  docs (/usr/lib/node_modules/npm/docs/content/**/*.md), from the nodejs package: about
  150 long pages. Questions: tests/data/kb_docs/queries.jsonl.
- `cmake`: CMake's reference (/usr/share/cmake-*/Help/**/*.rst, module pages read from
  the .rst block of their .cmake file), from cmake-data: about 1,900 short pages.
  Questions: tests/data/kb_docs/cmake_queries.jsonl.

The questions were written from knowledge of the docs before any retrieval was run.

Usage: python3 scripts/docs_eval_set.py OUT.jsonl [node_npm|cmake]
(exits 3 when the docs are missing)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.kb.readers import to_markdown  # noqa: E402
from bot.kb.rst import rst_to_markdown  # noqa: E402

SETS = {
    "node_npm": {"node": Path("/usr/share/doc/nodejs/api"),
                 "npm": Path("/usr/lib/node_modules/npm/docs/content")},
    "cmake": {"cmake": next(iter(sorted(Path("/usr/share").glob("cmake-*/Help"))),
                            Path("/usr/share/cmake/Help"))},
}
_MODULE = re.compile(r"\A\.\. cmake-module:: (\S+)")
_RST_BLOCK = re.compile(r"#\[(=*)\[\.rst:\n(.*?)\]\1\]", re.S)


def _rst(path: Path, root: Path) -> tuple[str, str]:
    """(title, text) as `tandem kb ingest` reads an .rst page (bot.kb.rst)."""
    text = path.read_text(encoding="utf-8")
    module = _MODULE.match(text)
    if module:  # a module's docs live in the comment block of its .cmake file
        source = (path.parent / module.group(1)).resolve()
        block = _RST_BLOCK.search(source.read_text(encoding="utf-8")) if source.is_file() else None
        text = block.group(2) if block else ""
    title, text = rst_to_markdown(text, source=path, root=root)
    return title or path.stem, text


def page(prefix: str, root: Path, path: Path) -> dict[str, str]:
    if path.suffix == ".rst":
        title, text = _rst(path, root)
        return {"doc_id": f"{prefix}/{path.relative_to(root)}", "kind": "markdown",
                "title": title, "text": text}
    # As `tandem kb ingest` reads a markdown page: front matter gives the title.
    title, text = to_markdown(path.read_text(encoding="utf-8"), "markdown")
    return {"doc_id": f"{prefix}/{path.relative_to(root)}", "title": title, "text": text}


def main(argv: list[str]) -> int:
    out, name = Path(argv[1]), argv[2] if len(argv) > 2 else "node_npm"
    rows = [row for prefix, root in SETS[name].items() if root.is_dir()
            for p in sorted([*root.rglob("*.md"), *root.rglob("*.rst")])
            if p.stem != "index" and (row := page(prefix, root, p))["text"].strip()]
    if not rows:
        print(f"no {name} docs on this machine (Debian packages nodejs, cmake-data)",  # noqa: T201
              file=sys.stderr)
        return 3
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(len(rows), "pages")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
