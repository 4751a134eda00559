"""File ingestion: walk paths, skip what is unchanged, write what changed, drop what vanished.

Incremental by content hash: a document whose hash matches the stored one is
not re-chunked or re-embedded. Files are read as they are written, in small
batches, each batch one transaction: a folder of any size holds one batch's text
in memory, an interrupted run keeps what it finished, and the next run picks up
the rest. Files that cannot be read are skipped, reported and counted.

A document's id is its source (a file's path, a Slack thread) within its collection:
the same folder ingested into two collections is held by both, and each collection's
scheduled re-ingest leaves the other's copy alone.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from bot.kb.readers import MAX_FILE_BYTES, Unreadable, path_text, read_file, walk
from bot.kb.service import KnowledgeBase, content_hash
from bot.kb.types import Document, IngestReport

__all__ = ["FILES_HOME", "SLACK_HOME", "collection_id", "home_collection", "ingest_paths",
           "link_for", "sync_documents"]

Progress = Callable[[int], None]


# The collections whose documents' ids are their bare source keys (`collection_id`): the
# ones `tandem kb ingest` and `ingest-slack` write to by default.
FILES_HOME, SLACK_HOME = "default", "slack"


def home_collection(key: str) -> str | None:
    """The home collection of a source key: a file's path or a Slack thread's
    `slack:<channel>:<ts>`; None for other keys (approved answers, eval corpora)."""
    if key.startswith("/"):
        return FILES_HOME
    return SLACK_HOME if key.startswith("slack:") else None


def collection_id(collection: str, key: str, home: str) -> str:
    """A document's id: its source `key` itself in the source's `home` collection (the
    ids of stores made before collections had ids of their own), else prefixed with the
    collection, so one source can be in several collections at once."""
    return key if collection == home else f"{collection}:{key}"


async def sync_documents(kb: KnowledgeBase, docs: Iterable[Document], *, scope: str,
                         report: IngestReport, batch: int = 32,
                         progress: Progress | None = None,
                         legacy: tuple[str, str] | None = None,
                         keep: set[str] | None = None,
                         stored: dict[str, str] | None = None) -> None:
    """Make the index hold exactly `docs` among the documents whose id starts with `scope`,
    besides those in `keep`: known unchanged without being read again.
    `docs` is consumed as it comes, `batch` changed documents written at a time, so only
    a batch's text is held at once whatever the size of a folder (`ingest_paths` reads
    files lazily). `legacy` (prefix, collection): documents stored under an older id of
    the same sources, which go once their new ids are written. `stored`: the hashes under
    `scope` if the caller has just read them."""
    if stored is None:
        stored = await kb.hashes(prefix=scope)
    kept = (keep or set()) & set(stored)
    report.unchanged += len(kept)
    present = set(kept)
    changed: list[Document] = []

    async def flush() -> None:
        before = kb.chunks_embedded
        report.chunks += await kb.upsert(changed)
        report.embedded += kb.chunks_embedded - before
        if progress:
            progress(len(changed))
        changed.clear()

    for doc in docs:
        present.add(doc.doc_id)
        old = stored.get(doc.doc_id)
        if old == content_hash(doc):
            report.unchanged += 1
            if progress:
                progress(1)
            continue
        changed.append(doc)
        if old is None:
            report.added += 1
        else:
            report.updated += 1
        if len(changed) >= batch:
            await flush()
    if changed:
        await flush()
    vanished = [doc_id for doc_id in stored if doc_id not in present]
    if legacy is not None and legacy[0] != scope:
        # Not counted as deleted: the same pages are there under their new ids.
        await kb.delete(list(await kb.hashes(prefix=legacy[0], collection=legacy[1])))
    if vanished:
        await kb.delete(vanished)
        report.deleted += len(vanished)


def _scope(path: Path) -> str:
    resolved = path.resolve()
    text = path_text(resolved)
    return text if resolved.is_file() else text.rstrip("/") + "/"


def link_for(template: str, relative: str) -> str:
    """Where a file is published, for citations: `template` holds `{path}` (the file's path
    under the ingested folder, `guide/setup.md`) or `{path_noext}` (`guide/setup`), URL-
    quoted; without either, the path is appended. `https://github.com/acme/handbook/blob/
    main/docs/{path}`, `https://docs.acme.com/{path_noext}.html` (Sphinx), `…/{path_noext}/`
    (MkDocs)."""
    path = quote(relative)
    noext = quote(str(PurePosixPath(relative).with_suffix("")))
    if "{path}" not in template and "{path_noext}" not in template:
        return template.rstrip("/") + "/" + path
    return template.replace("{path_noext}", noext).replace("{path}", path)


def _placed(doc: Document, collection: str, relative: str, url: str | None) -> Document:
    return replace(doc, doc_id=collection_id(collection, doc.doc_id, FILES_HOME),
                   url=link_for(url, relative) if url else doc.url)


async def ingest_paths(kb: KnowledgeBase, paths: list[Path], *, collection: str = FILES_HOME,
                       show_progress: bool = True, max_file_bytes: int = MAX_FILE_BYTES,
                       url: str | None = None) -> IngestReport:
    """`url`: a `link_for` template, so citations link to where the files are published
    rather than show their path on this machine."""
    report = IngestReport()
    started = time.perf_counter()
    for root in paths:
        if not root.exists():
            # Its pages stay: a mount that failed must not empty the knowledge base.
            report.skipped.append((path_text(root), "does not exist; what was ingested from it "
                                   "stays until `tandem kb remove` removes it"))
            continue
        base = root if root.is_dir() else root.parent
        files = walk([root])  # paths only: each file is read when its turn comes
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(files), desc=f"ingest {root}", unit="file", file=sys.stderr)

        def read(files: list[Path] = files, base: Path = base, bar: Any = bar
                 ) -> Iterator[Document]:
            for path in files:
                try:
                    doc = read_file(path, collection=collection, max_bytes=max_file_bytes,
                                    root=base)
                except Unreadable as exc:
                    report.skipped.append((path_text(path), str(exc)))
                    line = f"skipped {path_text(path)}: {exc}"
                    if bar is not None:
                        bar.write(line, file=sys.stderr)
                        bar.update(1)
                    else:
                        print(line, file=sys.stderr)  # noqa: T201
                    continue
                yield _placed(doc, collection, path_text(path.relative_to(base).as_posix()),
                              url)

        # Stores made before collections had ids of their own hold a folder's pages
        # in another collection under their bare paths: those give way to the new ids.
        scope = _scope(root)
        await sync_documents(kb, read(), scope=collection_id(collection, scope, FILES_HOME),
                             report=report, progress=bar.update if bar else None,
                             legacy=(scope, collection))
        if bar:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report
