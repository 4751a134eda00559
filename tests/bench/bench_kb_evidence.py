"""How often the sentence shown beside an answer holds the answer (COVID-QA test questions).

For N test questions spread over the COVID-QA test split, the knowledge base retrieves
five sources as the question route does (each cut to the 1,500 characters the prompt
shows), and each method picks a text that should hold the annotated answer:

- `evidence`: `bot.kb.evidence.best_sentence`, the line a draft shows its reviewer, with
  the shortlisted sentences' closeness to the question (`KnowledgeBase.closeness`) as
  drafting gives it (`--words-only`: without);
- `quoted_passage`: `bot.kb.evidence.best_passage`, what "Answer with the best match"
  puts in the edit modal: that sentence and the rest of its paragraph, to 400 characters;
- `first_sentence`: the first sentence of source [1];
- `minilm_nearest`: the sentence closest to the question by the local MiniLM;
- `model_answer` (with --with-model): the packaged model's answer through the shipped
  question prompt, on the embedded vLLM, with the opening drafting gives it (its lead and
  the `evidence` sentence, `bot.drafting.service.opening_for`; the lead alone with
  `--no-quote`) and the parameters drafting gives it (`Prompt.params_for`: one opening
  with a quote ends at a paragraph; `--no-paragraph-stop` leaves that out), cut and
  stopped where the model starts listing sources of its own, as drafting does
  (`bot.kb.citations.ListingGuard`); with `--no-guard`, the whole of what it writes
  (~8 minutes here for 100; 13 without the paragraph stop).

A text "holds" the answer when it holds at least 60% of the answer's words (lower-cased,
punctuation and a few stop words dropped). With the model it also reports how many answers
were cut, how many the model left empty, how many `bot.kb.grounding` flags as mostly not
in their sources (judging the model's part, as drafting does; and of those, how many hold
the answer), the median length of the model's part, the tokens the
model generated
(streamed deltas; one token each on vLLM) and the time all answers took, 16 at a time.
Prints one JSON line. With `--docs`, then one per documentation set of `bench_kb_docs.py`
(Node.js/npm, CMake), which has no annotated answers: of the questions whose top 5 hold a
relevant page, in how many the shown sentence comes from one (and, for comparison, in
how many source [1] is one).

    PYTHONPATH=. python3 tests/bench/bench_kb_evidence.py [--questions 100] [--with-model
        [--no-guard] [--no-quote] [--no-paragraph-stop] [--max-tokens N] [--stop S]]
        [--docs] [--words-only]

The index is `bench_kb_covid.py`'s (`.data/bench/covid.sqlite`), built here if missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.drafting.service import opening_for
from bot.kb.citations import ListingGuard
from bot.kb.embedding import LocalEmbedder
from bot.kb.evidence import best_passage, best_sentence, sentences
from bot.kb.grounding import grounding
from bot.kb.service import KnowledgeBase
from bot.prompts import PromptBook, joined
from tests.bench._common import embedded_llm
from tests.bench.bench_kb_covid import open_index

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared/data/covid_qa"
DATA = ROOT / ".data/bench/covid_qa_eval"
_DROP = {"a", "an", "the", "of", "and", "in", "to", "is"}


def words(text: str) -> list[str]:
    text = "".join(" " if c in string.punctuation else c for c in text.lower())
    return [w for w in text.split() if w not in _DROP]


def holds(text: str, answer: str) -> bool:
    have, want = set(words(text)), words(answer)
    return bool(want) and sum(w in have for w in want) / len(want) >= 0.6


async def cases(kb: KnowledgeBase, n: int, words_only: bool = False) -> list[dict[str, Any]]:
    squad = json.loads((SOURCE / "200423_covidQA.json").read_text())
    answers = {q["question"].strip(): q["answers"][0]["text"]
               for d in squad["data"] for p in d["paragraphs"] for q in p["qas"]}
    rows = [json.loads(line) for line in (DATA / "papers_queries.jsonl").open() if line.strip()]
    test = [r for r in rows if r.get("split") == "test"]
    out = []
    for r in test[::max(1, len(test) // n)][:n]:
        found = await kb.search(r["query"], k=5)
        sources = [{"n": h.n, "title": h.title, "text": h.text[:1500], "heading": h.heading}
                   for h in found]
        out.append({"question": r["query"], "answer": answers[r["query"].strip()],
                    "sources": sources,
                    "closeness": None if words_only else await kb.closeness(r["query"],
                                                                             sources)})
    return out


async def model_answers(todo: list[dict[str, Any]], *, guard: bool, quote: bool = True,
                        params: dict[str, Any] | None = None, after_quote: bool = True
                        ) -> tuple[list[str], dict[str, Any]]:
    """The model's answers, with the opening drafting gives them (with `quote`, the best
    sentence of the sources in it), and what writing them took: with the parameters
    drafting gives them (without `after_quote`, the prompt's plain `params`), and
    `params` over those."""
    prompt = PromptBook().get("question")
    tokens, cut, at_max = [0], [0], [0]
    async with embedded_llm() as client:

        async def one(c: dict[str, Any]) -> tuple[str, str]:
            numbered = "\n\n".join(f"[{s['n']}] {s['title']}\n{s['text']}"
                                   for s in c["sources"])
            best = best_sentence(c["question"], c["sources"], closeness=c["closeness"]) \
                if quote else None
            opening = opening_for(prompt, "en", best) or ""
            messages = prompt.render(request=c["question"], context="(none)",
                                     sources=numbered or "(no sources found)", opening=opening)
            given = prompt.params_for(messages) if after_quote else prompt.params
            stream = client.stream_chat(messages, params={**given, **(params or {})})
            listing = ListingGuard({s["n"] for s in c["sources"]})
            async with stream:
                async for delta in stream:
                    tokens[0] += 1
                    listing.feed(joined(opening, delta) if tokens[0] == 1 else delta)
                    if guard and listing.cut:
                        break
            listing.finish()
            cut[0] += listing.cut
            at_max[0] += stream.finish_reason == "length"
            return opening, listing.text if guard else stream.text

        started = time.monotonic()
        written = list(await asyncio.gather(*(one(c) for c in todo)))
        took = time.monotonic() - started
    answers = [opening + text for opening, text in written]
    lengths = sorted(len(text.strip()) for _opening, text in written)  # the model's part
    # What the model wrote, as drafting judges it: without the opening it continued.
    judged = [grounding(text, c["sources"], c["question"])
              for (_opening, text), c in zip(written, todo, strict=True)]
    return answers, {"answers_not_in_sources": sum(g.flagged for g in judged),
                     "median_share_unheld": sorted(g.share_unheld for g in judged)[
                         len(judged) // 2] if judged else 0.0,
                     "not_in_sources_but_holding": sum(
                         g.flagged and holds(a, c["answer"])
                         for g, a, c in zip(judged, answers, todo, strict=True)),
                     **{"answers_with_listing" if not guard else "answers_cut": cut[0],
                     "answers_empty": sum(not text.strip() for _opening, text in written),
                     "median_answer_chars": lengths[len(lengths) // 2] if lengths else 0,
                     "ran_to_max_tokens": at_max[0], "tokens_generated": tokens[0],
                     "model_seconds": round(took)}}


async def run(args: argparse.Namespace) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts/covid_qa_to_eval.py"), str(SOURCE),
                    str(DATA)], check=True, capture_output=True)
    embedder = LocalEmbedder()
    kb, _spans, _rate = await open_index(DATA / "papers_corpus.jsonl",
                                         ROOT / ".data/bench/covid.sqlite", embedder, False)
    try:
        todo = await cases(kb, args.questions, args.words_only)
    finally:
        await kb.close()
    picks: dict[str, list[str]] = {"evidence": [], "quoted_passage": [], "first_sentence": [],
                                   "minilm_nearest": []}
    for c in todo:
        found = [s for src in c["sources"] for s in sentences(src["text"])]
        best = best_sentence(c["question"], c["sources"], closeness=c["closeness"])
        picks["evidence"].append(best[1] if best else "")
        passage = best_passage(c["question"], c["sources"], closeness=c["closeness"])
        picks["quoted_passage"].append(passage[1] if passage else "")
        picks["first_sentence"].append(found[0] if found else "")
        if found:
            vectors = await embedder.embed([c["question"], *found])
            picks["minilm_nearest"].append(found[int(np.argmax(vectors[1:] @ vectors[0]))])
        else:
            picks["minilm_nearest"].append("")
    model: dict[str, Any] = {}
    if args.with_model:
        changed: dict[str, Any] = {"max_tokens": args.max_tokens} if args.max_tokens else {}
        if args.stop:
            changed["stop"] = [*PromptBook().get("question").params.get("stop", []), *args.stop]
        picks["model_answer"], model = await model_answers(
            todo, guard=not args.no_guard, quote=not args.no_quote, params=changed,
            after_quote=not args.no_paragraph_stop)
        model["guard"], model["quote"] = not args.no_guard, not args.no_quote
        model["params_after_quote"] = not args.no_paragraph_stop
        model.update(changed)
    shown = sum(holds(" ".join(s["text"] for s in c["sources"]), c["answer"]) for c in todo)
    print(json.dumps({"questions": len(todo), "answer_in_sources": shown,  # noqa: T201
                      **{f"{name}_holds_answer": sum(holds(t, c["answer"])
                                                     for t, c in zip(texts, todo, strict=True))
                         for name, texts in picks.items()},
                      **{f"{name}_median_chars": sorted(map(len, picks[name]))[len(todo) // 2]
                         for name in ("evidence", "quoted_passage") if todo}, **model}))


async def docs_sets(words_only: bool) -> None:
    from bot.kb.evaluation import load_queries
    from tests.bench.bench_kb_docs import QUERIES

    data = ROOT / ".data/bench/docs_eval"
    for name, queries in QUERIES.items():
        corpus = data / f"{name}_corpus.jsonl"
        subprocess.run([sys.executable, str(ROOT / "scripts/docs_eval_set.py"), str(corpus),
                        name], check=True, capture_output=True)
        kb, _spans, _rate = await open_index(corpus, data / f"{name}.sqlite", LocalEmbedder(),
                                             False)
        answerable = from_relevant = first_relevant = 0
        try:
            for q in load_queries(queries):
                found = await kb.search(q.query, k=5)
                if not any(h.doc_id in q.relevant for h in found):
                    continue
                answerable += 1
                first_relevant += found[0].doc_id in q.relevant
                sources = [{"n": h.n, "text": h.text[:1500], "heading": h.heading}
                           for h in found]
                near = None if words_only else await kb.closeness(q.query, sources)
                best = best_sentence(q.query, sources, closeness=near)
                from_relevant += bool(best) and found[best[0] - 1].doc_id in q.relevant
        finally:
            await kb.close()
        print(json.dumps({"set": name, "relevant_page_in_top5": answerable,  # noqa: T201
                          "evidence_from_relevant_page": from_relevant,
                          "source_1_relevant": first_relevant}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--with-model", action="store_true",
                        help="also the packaged model's answers (starts the embedded vLLM)")
    parser.add_argument("--no-quote", action="store_true",
                        help="answers opened without the best sentence of their sources")
    parser.add_argument("--max-tokens", type=int,
                        help="the model's answers stop at this many tokens, not the prompt's")
    parser.add_argument("--stop", action="append", default=[],
                        help="the prompt's stop strings and this one for every answer "
                             "(repeatable; a backslash-n is a line break)")
    parser.add_argument("--no-paragraph-stop", action="store_true",
                        help="answers opening with a quote get the prompt's plain params, "
                             "not its params_after_quote (which end them at a paragraph)")
    parser.add_argument("--no-guard", action="store_true",
                        help="keep all the model writes, made-up source listings included")
    parser.add_argument("--docs", action="store_true",
                        help="also the documentation sets: is the sentence from a relevant page")
    parser.add_argument("--words-only", action="store_true",
                        help="the evidence chosen by its words alone, without each "
                             "shortlisted sentence's closeness to the question")
    args = parser.parse_args()
    args.stop = [stop.replace("\\n", "\n") for stop in args.stop]
    asyncio.run(run(args))
    if args.docs:
        asyncio.run(docs_sets(args.words_only))


if __name__ == "__main__":
    main()
