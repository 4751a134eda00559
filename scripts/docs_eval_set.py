"""Build a documentation eval corpus from the Node.js and npm docs on this machine.

Debian's nodejs package installs the Node.js API reference (/usr/share/doc/nodejs/api/*.md)
and npm's own docs (/usr/lib/node_modules/npm/docs/content/**/*.md). Together they are a
real documentation set of about 150 pages, which `tests/data/kb_docs/queries.jsonl`
(questions written without looking at retrieval results) asks about.

Usage: python3 scripts/docs_eval_set.py OUT.jsonl   (exits 3 when the docs are missing)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SOURCES = {"node": Path("/usr/share/doc/nodejs/api"),
           "npm": Path("/usr/lib/node_modules/npm/docs/content")}
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_H1 = re.compile(r"^#\s+(.+)$", re.M)


def page(prefix: str, root: Path, path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    title = ""
    front = _FRONT.match(text)
    if front:
        meta = dict(line.split(":", 1) for line in front.group(1).splitlines() if ":" in line)
        title = ": ".join(v.strip() for k, v in meta.items() if k in ("title", "description"))
        text = text[front.end():]
    elif (h1 := _H1.search(text)) is not None:
        title = h1.group(1).strip()
    return {"doc_id": f"{prefix}/{path.relative_to(root)}", "title": title, "text": text}


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    rows = [page(prefix, root, p) for prefix, root in SOURCES.items() if root.is_dir()
            for p in sorted(root.rglob("*.md")) if p.name != "index.md"]
    if not rows:
        print("no Node.js or npm docs on this machine (Debian package nodejs)", file=sys.stderr)  # noqa: T201
        return 3
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(len(rows), "pages")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
