"""Re-ingest benchmark: a folder whose every page had one section edited.

Run: PYTHONPATH=. python3 tests/bench/bench_kb_reingest.py [--files 200] [--sections 5]

Writes `--files` markdown pages of `--sections` sections (~900 characters each, one
chunk per section), ingests them with `ingest_paths` as `tandem kb ingest` does, edits one
section of every page, and ingests the folder again. Each changed page is rewritten
whole, but only the chunks whose text changed are embedded again (the rest keep their
stored vectors). Prints one JSON line: the chunks embedded and the seconds of both
passes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
from pathlib import Path

from bot.kb.embedding import LocalEmbedder
from bot.kb.ingest import ingest_paths
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore
from tests.bench.bench_kb_scale import _text, _vocabulary


def _page(rng: random.Random, vocab: list[str], n: int, sections: int) -> list[str]:
    return [f"## Section {s} of page {n}\n\n{_text(rng, vocab, 900)}" for s in range(sections)]


async def run(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(11)
    vocab = _vocabulary(rng)
    embedder = LocalEmbedder()
    await embedder.embed(["warm up"] * 8)
    with tempfile.TemporaryDirectory(prefix="kb-reingest-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        pages = [_page(rng, vocab, n, args.sections) for n in range(args.files)]
        for n, page in enumerate(pages):
            (folder / f"page{n}.md").write_text(f"# Page {n}\n\n" + "\n\n".join(page))
        store = SqliteStore(Path(tmp) / "kb.sqlite")
        await asyncio.to_thread(store.open)
        kb = KnowledgeBase(store, embedder)
        try:
            first = await ingest_paths(kb, [folder], show_progress=False)
            for n, page in enumerate(pages):
                edited = list(page)
                edited[rng.randrange(len(page))] += f"\n\nUpdated: {_text(rng, vocab, 120)}"
                (folder / f"page{n}.md").write_text(f"# Page {n}\n\n" + "\n\n".join(edited))
            again = await ingest_paths(kb, [folder], show_progress=False)
        finally:
            await kb.close()
    return {"files": args.files, "chunks": first.chunks,
            "first_ingest": {"chunks_embedded": first.embedded,
                             "seconds": round(first.seconds, 2)},
            "after_one_section_edited_per_page": {
                "pages_updated": again.updated, "chunks_rewritten": again.chunks,
                "chunks_embedded": again.embedded, "seconds": round(again.seconds, 2)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--sections", type=int, default=5)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))  # noqa: T201


if __name__ == "__main__":
    main()
