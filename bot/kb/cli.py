"""`tandem kb ingest | ingest-slack | list | remove | gaps | search | eval | tune | reembed |
prepare`.

Thin: parse arguments, open the knowledge base from settings, call one
service function, print. `eval` ingests into a throwaway index in a temporary
directory and prints its metrics as the last stdout line (one JSON object);
with `--tune DEV.jsonl` it first fits the search knobs on those other questions.
`tune` fits them on the live store's own labelled questions and saves them there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

__all__ = ["register"]


def _settings() -> Any:
    from bot.settings import load_settings

    return load_settings()


async def _open(settings: Any = None, *, show_progress: bool = True) -> Any:
    """The configured knowledge base; a re-embed it owes runs first, with a progress bar."""
    from bot.kb.service import KnowledgeBase

    return await KnowledgeBase.open(settings or _settings(), show_progress=show_progress)


async def _ingest(args: argparse.Namespace) -> int:
    from bot.kb.ingest import ingest_paths

    urls = [p for p in args.paths if p.startswith(("http://", "https://"))]
    for url in urls:
        print(f"tandem kb ingest: {url} is a web address; Tandem reads files: mirror the "  # noqa: T201
              f"site (wget --mirror --convert-links {url}) and ingest that folder with "
              f"--url '{url.rstrip('/')}/{{path}}', so citations link to the site",
              file=sys.stderr)
    if urls:
        return 2
    kb = await _open(show_progress=not args.quiet)
    try:
        report = await ingest_paths(kb, [Path(p) for p in args.paths],
                                    collection=args.collection, url=args.url,
                                    show_progress=not args.quiet)
    finally:
        await kb.close()
    for path, reason in report.skipped:
        print(f"skipped: {path}: {reason}")  # noqa: T201
    print(json.dumps(report.as_dict()))  # noqa: T201
    # A path named on the command line that is not there (a typo, a mount that failed)
    # fails the run, so a scheduled job shows it; the other paths are ingested all the same.
    return 1 if any(not Path(p).exists() for p in args.paths) else 0


async def _ingest_slack(args: argparse.Namespace) -> int:
    from bot.kb.slack_source import NO_CHANNEL, ingest_channel

    if not (args.channel or "").strip():
        raise ConfigError(NO_CHANNEL)
    settings = _settings()
    kb = await _open(settings)
    try:
        report = await ingest_channel(kb, settings, args.channel, collection=args.collection,
                                      full=args.full)
    finally:
        await kb.close()
    print(json.dumps(report.as_dict()))  # noqa: T201
    return 0


def _when(seconds: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else "-"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


async def _list(args: argparse.Namespace) -> int:
    from bot.kb.inventory import collections

    kb = await _open()
    try:
        if args.docs:
            docs = await kb.documents(collection=args.collection)
            stale = await kb.stale_answers(d.doc_id for d in docs)
        else:
            summaries = await collections(kb, collection=args.collection)
    finally:
        await kb.close()
    if args.json:
        rows = [{**d._asdict(), "stale": d.doc_id in stale} for d in docs] if args.docs else \
            [s.as_dict() for s in summaries]
        print(json.dumps(rows, ensure_ascii=False))  # noqa: T201
        return 0
    if not (docs if args.docs else summaries):
        where = f"collection {args.collection!r}" if args.collection else "the knowledge base"
        print(f"{where} is empty: `tandem kb ingest PATH` adds files")  # noqa: T201
        return 0
    if args.docs:
        for d in docs:
            private = f"  private to {d.private_channel}" if d.private_channel else ""
            old = "  STALE: its sources changed since it was approved; not searched" \
                if d.doc_id in stale else ""
            print(f"{d.collection}  {d.chunks:>5} chunks  {_when(d.updated_at)}  "  # noqa: T201
                  f"{d.title}  ({d.url}){private}{old}")
        return 0
    for s in summaries:
        kinds = ", ".join(_count(n, k) for k, n in sorted(s.kinds.items()))
        private = f"; private to {_count(len(s.private_channels), 'channel')}" \
            if s.private_channels else ""
        old = f"; {_count(s.stale_answers, 'stale answer')} (sources changed since " \
            "approval, not searched: `kb list --docs` names them, `kb remove --stale` " \
            "removes them)" if s.stale_answers else ""
        print(f"{s.name}: {_count(s.documents, 'document')} ({kinds}), "  # noqa: T201
              f"{_count(s.chunks, 'chunk')}, last updated {_when(s.updated_at)}{private}{old}")
    return 0


_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_\-.]*")


async def _remove(args: argparse.Namespace) -> int:
    from bot.kb.inventory import matcher

    if not args.targets and not args.collection and not args.stale:
        print("tandem kb remove: name a path, '#channel' (quoted: unquoted, a shell reads "  # noqa: T201
              "#channel as a comment and drops it), link, --stale or --collection",
              file=sys.stderr)
        return 2
    kb = await _open()
    try:
        docs = await kb.documents(collection=args.collection)
        whole = not args.targets and not args.stale
        chosen = {d.doc_id: d for d in docs} if whole else {}
        if args.stale:
            stale = await kb.stale_answers(d.doc_id for d in docs)
            chosen.update((d.doc_id, d) for d in docs if d.doc_id in stale)
        missed = []
        for target in args.targets:
            match = matcher(target)  # a path target is resolved once, not per document
            named = [d for d in docs if match(d)]
            if not named:
                missed.append(target)
            chosen.update((d.doc_id, d) for d in named)
        if chosen and not args.dry_run:
            await kb.delete(sorted(chosen))
    finally:
        await kb.close()
    for d in sorted(chosen.values(), key=lambda d: (d.collection, d.doc_id)):
        print(f"{'would remove' if args.dry_run else 'removed'}: "  # noqa: T201
              f"{d.collection}  {d.title}  ({d.url})")
    where = f" in collection {args.collection!r}" if args.collection else ""
    for target in missed:
        # "general" is read as a path; the channel's threads are "#general".
        hint = f" (the Slack channel's threads? '#{target}')" if _CHANNEL_NAME.fullmatch(
            target) and any(d.title.startswith(f"#{target}: ") for d in docs) else ""
        print(f"tandem kb remove: nothing{where} matches {target}{hint}",  # noqa: T201
              file=sys.stderr)
    if whole and not chosen:
        print(f"tandem kb remove: collection {args.collection!r} holds nothing",  # noqa: T201
              file=sys.stderr)
    if args.stale and not args.targets and not chosen:
        print(f"no stale answers{where}", file=sys.stderr)  # noqa: T201
    print(json.dumps({"removed": 0 if args.dry_run else len(chosen),  # noqa: T201
                      "chunks": sum(d.chunks for d in chosen.values()),
                      "dry_run": args.dry_run}))
    # Nothing stale is not a failure: a scheduled `--stale` clean-up finds none most days.
    return 1 if missed or (not chosen and not args.stale) else 0


def _gaps(args: argparse.Namespace) -> int:
    from bot.kb.labels import unanswered_questions
    from bot.tuning.export import open_readonly

    engine = open_readonly(_settings().db_url)
    try:
        gaps = unanswered_questions(engine, since=args.since)[:args.limit]
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([{**g._asdict(), "last_asked": g.last_asked.isoformat()}  # noqa: T201
                          for g in gaps], ensure_ascii=False))
        return 0
    if not gaps:
        print("every question asked found sources")  # noqa: T201
    for g in gaps:
        print(f"{_count(g.asked, 'time'):>9}  last {g.last_asked:%Y-%m-%d}  "  # noqa: T201
              f"{' '.join(g.channels)}  {g.question[:160]}")
    return 0


async def _search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        print("tandem kb search: the query is empty", file=sys.stderr)  # noqa: T201
        return 2
    kb = await _open()
    try:
        sources = await kb.search(args.query, k=args.k, collections=args.collection,
                                  channel_id=args.channel)
    finally:
        await kb.close()
    if args.json:
        print(json.dumps([s.__dict__ for s in sources], ensure_ascii=False))  # noqa: T201
    elif not sources:
        print("nothing relevant found")  # noqa: T201
    for s in [] if args.json else sources:
        where = _below_title(s.title, s.heading)
        print(f"[{s.n}] {s.title}{where}  ({s.url})  score={s.score}")  # noqa: T201
        print("    " + s.text[:200].replace("\n", " "))  # noqa: T201
    return 0


def _below_title(title: str, heading: str) -> str:
    """` > Setup > Linux` for a heading path, less a first heading that repeats the title
    (a page's `# Title` is both): not `Deploy > Deploy > Rollback`."""
    from bot.kb.chunking import HEADING_SEP

    parts = heading.split(HEADING_SEP) if heading else []
    if parts and parts[0] == title:
        parts = parts[1:]
    return "".join(f"{HEADING_SEP}{p}" for p in parts)


def _tuned(params: Any) -> dict[str, float]:
    from bot.kb.evaluation import DEFAULT_GRID

    return {name: getattr(params, name) for name in DEFAULT_GRID}


async def _eval(args: argparse.Namespace) -> int:
    from bot.kb.evaluation import (
        EvalFileError,
        build_index,
        evaluate,
        load_corpus,
        load_queries,
        query_notes,
        tune,
    )
    from bot.kb.service import KnowledgeBase

    notes: list[str] = []
    try:  # every file is read before the (long) ingest, so a bad line fails at once
        corpus = load_corpus(Path(args.corpus), notes=notes)
        dev = load_queries(Path(args.tune)) if args.tune else None
        queries = load_queries(Path(args.queries))
    except EvalFileError as exc:
        print(f"tandem kb eval: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    ids = {d.doc_id for d in corpus}
    notes += query_notes(Path(args.queries), queries, ids)
    if dev is not None:
        notes += query_notes(Path(args.tune), dev, ids)
    for note in notes:
        print(f"tandem kb eval: note: {note}", file=sys.stderr)  # noqa: T201
    tuned: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tandem-kb-eval-") as tmp:
        kb = await KnowledgeBase.open(_settings(), url=str(Path(tmp) / "eval.sqlite"))
        try:
            spans, rate = await build_index(kb, corpus)
            if dev is not None:
                kb.params = (await tune(kb, dev, spans)).params
                tuned = {"tuned_on": args.tune, **_tuned(kb.params)}
            result = await evaluate(kb, queries, spans, k=args.k)
        finally:
            await kb.close()
    result["ingest_chunks_per_s"] = round(rate, 1)
    result["chunks"] = len(spans)
    print(json.dumps({**result, **tuned}))  # noqa: T201
    return 0


def _too_few(n: int, needed: int) -> int:
    print(f"{n} labelled questions; tuning needs at least {needed} "  # noqa: T201
          "(--min-questions) to fit more than noise")
    return 2


async def _tune(args: argparse.Namespace) -> int:
    from bot.kb.evaluation import DEFAULT_GRID, EvalFileError, QueryCache, load_queries, tune
    from bot.kb.service import is_answer_entry

    settings = _settings()
    if args.queries:
        try:
            queries = load_queries(Path(args.queries))
        except EvalFileError as exc:
            print(f"tandem kb tune: {exc}", file=sys.stderr)  # noqa: T201
            return 2
    else:
        from bot.kb.labels import questions_from_decisions
        from bot.tuning.export import open_readonly

        queries = questions_from_decisions(open_readonly(settings.db_url))
    if len(queries) < args.min_questions:
        return _too_few(len(queries), args.min_questions)
    kb = await _open(settings)
    try:
        known = set(await kb.hashes())
        missing = sorted({d for q in queries for d in q.relevant} - known)
        if missing and args.queries:
            print(f"{len(missing)} relevant documents are not in the knowledge base "  # noqa: T201
                  f"(first: {missing[0]}): ingest them first")
            return 2
        if missing:  # cited once, deleted since: a question keeps the sources still there
            kept = [replace(q, relevant=q.relevant & known) for q in queries]
            queries = [q for q in kept if q.relevant]
            print(f"{len(missing)} cited documents are no longer in the knowledge base; "  # noqa: T201
                  f"{len(queries)} questions keep a source that is")
        if len(queries) < args.min_questions:
            return _too_few(len(queries), args.min_questions)
        kb.embedder = QueryCache(kb.embedder)
        # Each reviewed question's own approved answer is in the store and matches it
        # word for word; the labels never count such entries, so they are left out
        # of the rankings instead of taking a top slot from every grid point alike.
        tuning = await tune(kb, queries, {}, ignore=None if args.queries else is_answer_entry)
        if not args.dry_run:
            await kb.save_params(tuning.params, DEFAULT_GRID)
    finally:
        await kb.close()
    print(json.dumps({"before_recall@1": tuning.baseline["recall@1"],  # noqa: T201
                      "after_recall@1": tuning.result["recall@1"],
                      "before_recall@5": tuning.baseline["recall@5"],
                      "after_recall@5": tuning.result["recall@5"], "queries": len(queries),
                      "saved": not args.dry_run, **_tuned(tuning.params)}))
    return 0


async def _reembed(_args: argparse.Namespace) -> int:
    kb = await _open()
    try:
        chunks = await asyncio.to_thread(kb.store.count_chunks)
    finally:
        await kb.close()
    print(json.dumps({"embedder": kb.embedder.name, "chunks": chunks}))  # noqa: T201
    return 0


def _prepare(_args: argparse.Namespace) -> int:
    from bot.kb.embedding import default_model_path
    from bot.kb.onnx_model import prepare_onnx

    print(f"embedding model exported to {prepare_onnx(default_model_path())}")  # noqa: T201
    return 0


def _at_least_one(value: str) -> int:
    """A whole number of at least 1: `--k 0` would search for nothing and report that
    nothing relevant was found."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _collection(value: str) -> str:
    """A collection's name, without the spaces around it; an empty one is refused (it
    made a collection no channel's config can name)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("a collection needs a name")
    return value.strip()


def _since(value: str) -> Any:
    from bot.tuning.cli import parse_since

    return parse_since(value)


def _run(coro_fn: Any) -> Any:
    def func(args: argparse.Namespace) -> int:
        return int(asyncio.run(coro_fn(args)))
    return func


def register(subparsers: Any) -> None:
    kb = subparsers.add_parser("kb", help="team knowledge base: ingest, search, eval")
    sub = kb.add_subparsers(dest="kb_command", required=True)

    p = sub.add_parser("ingest", help="ingest files and folders (md, rst, txt, html, pdf)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--collection", type=_collection, default="default")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--url", metavar="TEMPLATE",
                   help="where the files are published, for citation links: a base URL, or "
                        "a template with {path} or {path_noext}, e.g. "
                        "https://docs.example.com/{path_noext}.html")
    p.set_defaults(func=_run(_ingest))

    p = sub.add_parser("ingest-slack", help="ingest a Slack channel's history and threads")
    # Optional for argparse, so a `#general` the shell took as a comment gets told so.
    p.add_argument("channel", nargs="?", help="name, '#name' (quoted) or channel ID")
    p.add_argument("--collection", type=_collection, default="slack")
    p.add_argument("--full", action="store_true",
                   help="read every thread again, not only those with new replies or edits "
                        "to their first message (catches replies edited in place)")
    p.set_defaults(func=_run(_ingest_slack))

    p = sub.add_parser("list", help="what the knowledge base holds, by collection")
    p.add_argument("--collection", type=_collection, help="only this collection")
    p.add_argument("--docs", action="store_true", help="one line per document")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(_list))

    p = sub.add_parser("remove", help="remove what was ingested from a path, channel or link")
    p.add_argument("targets", nargs="*", metavar="TARGET",
                   help="a file or folder path (need not exist any more), #channel or "
                        "channel ID, or a document's link; none with --collection: all of it")
    p.add_argument("--collection", type=_collection, help="only from this collection")
    p.add_argument("--stale", action="store_true",
                   help="approved answers whose sources changed since (search skips them)")
    p.add_argument("--dry-run", action="store_true", help="list, do not remove")
    p.set_defaults(func=_run(_remove))

    p = sub.add_parser("gaps", help="questions the knowledge base had nothing for, most "
                                    "asked first: the documents the team is missing")
    p.add_argument("--since", type=_since, help="only questions from this ISO date on")
    p.add_argument("--limit", type=_at_least_one, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_gaps)

    p = sub.add_parser("search", help="hybrid search")
    p.add_argument("query")
    p.add_argument("--k", type=_at_least_one, default=5)
    p.add_argument("--json", action="store_true")
    p.add_argument("--collection", type=_collection, action="append",
                   help="restrict to collection (repeatable)")
    p.add_argument("--channel", help="search as this channel (private content rules)")
    p.set_defaults(func=_run(_search))

    p = sub.add_parser("eval", help="recall/MRR/latency on a JSONL corpus and queries")
    p.add_argument("--corpus", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--k", type=_at_least_one, default=10)
    p.add_argument("--tune", metavar="DEV.jsonl",
                   help="fit the search knobs on these other questions first")
    p.set_defaults(func=_run(_eval))

    p = sub.add_parser("tune", help="fit the search knobs to labelled questions and save them")
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument("--queries", help='JSONL: {"query", "relevant": [doc_id]}')
    given.add_argument("--from-decisions", action="store_true",
                       help="approved or edited answers and the sources they still cite")
    p.add_argument("--min-questions", type=_at_least_one, default=20)
    p.add_argument("--dry-run", action="store_true", help="report, do not save")
    p.set_defaults(func=_run(_tune))

    p = sub.add_parser("reembed", help="finish a re-embed the configured embedder owes "
                                       "(the bot otherwise does it in the background)")
    p.set_defaults(func=_run(_reembed))

    p = sub.add_parser("prepare", help="export the local embedding model to ONNX once "
                                       "(otherwise its first use does)")
    p.set_defaults(func=_prepare)
