"""The real model's drafts with and without the prompts' stop strings.

Starts the embedded vLLM and drafts, through the shipped prompts, 8 (`--asks`) document and
support asks each of the routing dev set and the first N questions about the Node.js/npm
docs with the sources the knowledge base finds (the store `bench_kb_docs.py` builds).
Prints one JSON line per run and job: drafts, those that wrote the template's next turn,
tokens generated, drafts that ran to max_tokens, drafts `repeats_example` flags, drafts that loop (a
stretch repeated to the end, which drafting cuts: `bot.drafting.loops`) or restart (write
their opening again: a second reply, cut there too), the characters
of unfinished last sentences that drafting leaves out of the others that ran to max_tokens,
the drafts (and their characters) cut where they switched to a script the prompt does
not use (`bot.drafting.scripts`), the drafts whose last lines echo the prompt's frame or
introduce nothing,
which drafting drops (`bot.drafting.echo`), and the drafts giving an email address, link
or phone number that nothing they were shown holds (`bot.drafting.contacts`), and the
replies and answers stating figures nothing they were shown holds (`bot.drafting.figures`),
and the replies promising remedies the prompt does not offer (`bot.drafting.promises`),
and the drafts with words of another language nothing they were shown holds
(`bot.drafting.foreign`), with those words.

    PYTHONPATH=. python3 tests/bench/bench_prompt_stops.py [--asks 8] [--questions 24]
        [--save F.jsonl] [--no-opening] [--with-stops-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from bot.drafting.contacts import invented_contacts, shown
from bot.drafting.echo import without_echo
from bot.drafting.figures import FIGURE_JOBS, figures_shown, invented_figures
from bot.drafting.foreign import foreign_words
from bot.drafting.language import reply_language
from bot.drafting.loops import LoopGuard, StreamCut, finished_part
from bot.drafting.promises import PROMISE_JOBS, offered, unoffered_promises
from bot.drafting.scripts import ScriptGuard, allowed_scripts
from bot.drafting.service import opening_for
from bot.kb.embedding import LocalEmbedder
from bot.kb.evaluation import load_queries
from bot.kb.evidence import best_sentence
from bot.kb.service import KnowledgeBase
from bot.kb.store_sqlite import SqliteStore
from bot.prompts import PromptBook, continues, repeats_example, the_ask
from tests.bench._common import embedded_llm

ROOT = Path(__file__).resolve().parents[2]
# Where a turn of the prompts' own templates begins.
TURNS = ("Conversation so far", "Question:", "Sources:", "Request:", "Customer message:")


# (job, request, messages, sources) of a draft.
Case = tuple[str, str, list[dict[str, str]], list[dict[str, Any]]]


def streamed(guard: StreamCut, text: str) -> StreamCut:
    """`guard` fed `text` as drafting feeds it, in pieces of a few characters as the
    model's tokens come."""
    for i in range(0, len(text), 4):
        guard.feed(text[i:i + 4])
    return guard


async def asks(book: PromptBook, store: Path, questions: int, openings: bool = True,
               per_job: int = 8) -> list[Case]:
    """(job, request, messages, sources) for each draft."""
    rows = [json.loads(line) for line in
            (ROOT.parent / "shared/data/routing/dev.jsonl").read_text().splitlines() if line]
    # A draft opens in its reader's language, as drafting opens it.
    out: list[Case] = [
        (job, r["text"], book.get(job).render(
            request=r["text"], context="(none)",
            opening=book.get(job).opening(reply_language(r["text"])) if openings else None), [])
        for job in ("document", "support")
        for r in [r for r in rows if r["label"] == job][:per_job]]
    if store.exists():
        kb = KnowledgeBase(SqliteStore(store), LocalEmbedder())
        await asyncio.to_thread(kb.store.open)
        try:
            question = book.get("question")
            for q in load_queries(ROOT / "tests/data/kb_docs/queries.jsonl")[::4][:questions]:
                found = await kb.search(q.query, k=5)
                sources = [{"n": h.n, "title": h.title, "text": h.text[:1500],
                            "heading": h.heading, "url": h.url} for h in found]
                numbered = "\n\n".join(f"[{x['n']}] {x['title']}\n{x['text']}" for x in sources)
                # Opened as drafting opens it: the lead and the best sentence of the sources.
                out.append(("question", q.query, question.render(
                    request=q.query, context="(none)", sources=numbered or "(no sources found)",
                    opening=opening_for(question, reply_language(q.query), best_sentence(
                        q.query, sources, q.query) if sources else None)
                    if openings else None), sources))
        finally:
            await kb.close()
    return out


async def main(args: argparse.Namespace) -> None:
    book = PromptBook()
    if args.save:
        Path(args.save).unlink(missing_ok=True)
    cases = await asks(book, Path(args.store), args.questions, not args.no_opening, args.asks)
    async with embedded_llm() as client:
        for run in ("with_stops",) if args.with_stops_only else ("without_stops", "with_stops"):
            streams = []
            for i, (job, _request, messages, _sources) in enumerate(cases):
                params = dict(book.get(job).params_for(messages))  # as drafting sends them
                if run == "without_stops":
                    params.pop("stop", None)
                streams.append(client.stream_chat(messages, params=params,
                                                  request_id=f"{run}-{i}"))
            await asyncio.gather(*(s.collect() for s in streams))
            by_job: dict[str, dict[str, Any]] = {}
            for (job, request, messages, sources), stream in zip(cases, streams,
                                                                  strict=True):
                text = continues(messages) + stream.text  # the draft, with its opening
                tokens = int((stream.usage or {}).get("completion_tokens", 0))
                row = by_job.setdefault(job, {"run": run, "job": job, "drafts": 0,
                                              "template_turns": 0, "tokens": 0,
                                              "ran_to_max_tokens": 0,
                                              "repeats_example": 0, "loops": 0,
                                              "length_cut_chars": 0, "script_cuts": 0,
                                              "script_cut_chars": 0, "echo_trims": 0,
                                              "invented_contacts": 0,
                                              "invented_figures": 0,
                                              "unoffered_promises": 0, "restarts": 0,
                                              "foreign_words": 0, "foreign": []})
                row["drafts"] += 1
                row["template_turns"] += any(t in text for t in TURNS)
                row["tokens"] += tokens
                row["ran_to_max_tokens"] += tokens >= book.get(job).params["max_tokens"]
                row["repeats_example"] += repeats_example(text, messages)
                # Where drafting cuts a loop, or a second reply from the opening on.
                guard = streamed(LoopGuard(continues(messages)), text)
                looped = guard.cut
                row["restarts"] += guard.restarted
                # Where drafting cuts a draft that switched to a script no one used.
                script = streamed(ScriptGuard(allowed_scripts(
                    (m["content"] for m in messages), request)), text)
                if script.cut:
                    row["script_cuts"] += 1
                    row["script_cut_chars"] += len(text) - len(script.text)
                row["loops"] += looped and not guard.restarted
                # Where drafting drops lines at the end that echo the prompt's frame or
                # introduce nothing.
                kept = (script.text if script.cut else text).rstrip()
                row["echo_trims"] += without_echo(kept) != kept
                # Where drafting flags contact details no one gave the model.
                row["invented_contacts"] += bool(invented_contacts(
                    kept, shown(messages, sources)))
                # ...and figures, in a reply or an answer.
                row["invented_figures"] += job in FIGURE_JOBS and bool(invented_figures(
                    kept, figures_shown(messages)))
                # ...and remedies no one on the team offered, in a reply (its asks are
                # read as the customer's: only the prompt's system text offers any).
                row["unoffered_promises"] += job in PROMISE_JOBS and bool(unoffered_promises(
                    kept, offered(messages, sources, author="external")))
                # ...and words of another language it slipped in.
                foreign = foreign_words(kept, messages, request)
                row["foreign_words"] += bool(foreign)
                row["foreign"] += foreign
                if stream.finish_reason == "length" and not looped:
                    # What drafting leaves out of a draft stopped mid-sentence.
                    row["length_cut_chars"] += len(text.rstrip()) \
                        - len(finished_part(text))
            for row in by_job.values():
                print(json.dumps(row), flush=True)  # noqa: T201
            if args.save:
                with Path(args.save).open("a") as out:
                    for (job, _request, messages, _sources), stream in zip(cases, streams,
                                                                           strict=True):
                        ask = the_ask(messages)
                        out.write(json.dumps({
                            "run": run, "job": job, "ask": ask,
                            "text": continues(messages) + stream.text,
                            "finish_reason": stream.finish_reason}) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=8,
                        help="document and support asks (each) of the routing dev set")
    parser.add_argument("--questions", type=int, default=24)
    parser.add_argument("--save", help="also append every draft to this JSONL file")
    parser.add_argument("--with-stops-only", action="store_true",
                        help="draft only as drafting does, with the prompts' stops")
    parser.add_argument("--no-opening", action="store_true",
                        help="drafts without their prompt's `opening`")
    parser.add_argument("--store", default=str(ROOT / ".data/bench/docs_eval/node_npm.sqlite"),
                        help="a knowledge base holding the Node.js/npm docs")
    asyncio.run(main(parser.parse_args()))
