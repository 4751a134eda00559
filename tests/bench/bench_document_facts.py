"""Do the real model's documents use the facts they were given?

Starts the embedded vLLM and drafts, through the document prompt (the shipped one, or
each directory of prompts given), 12 documents asked for "from the notes above" with the
notes in the conversation (`tests/data/document_notes.jsonl`) and the first 12 English
document asks of the routing dev set (with their thread's opening message, if any).
Prints one JSON line per prompt and set: drafts, the mean share of the facts' words (of
four letters or more, or with a digit, from the notes and the ask) that the draft holds,
drafts holding at least half of them, drafts stating figures nothing they were shown
holds (`bot.drafting.figures`), drafts `repeats_example` flags, and mean characters.

    PYTHONPATH=. python3 tests/bench/bench_document_facts.py [PROMPT_DIR ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from bot.drafting.figures import figures_shown, invented_figures
from bot.prompts import PromptBook, repeats_example
from tests.bench._common import embedded_llm

ROOT = Path(__file__).resolve().parents[2]
PER_SET = 12
# The asks' own framing words, which are no facts of the notes.
_FRAMING = frozenset("""this that with from have will been they their about above these those
    into using based write draft turn short notes them make each what when which there then
    than also only week""".split())


def fact_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9][a-z0-9.%-]*[a-z0-9%]", text.lower())
            if (len(w) >= 4 or any(c.isdigit() for c in w)) and w not in _FRAMING}


def cases() -> list[tuple[str, str, str, str]]:
    """(set, conversation, request, facts) of each draft."""
    out = [("notes", f"dana: {r['notes']}", r["ask"], r["notes"] + " " + r["ask"])
           for r in map(json.loads, (ROOT / "tests/data/document_notes.jsonl")
                        .read_text().splitlines()) if r][:PER_SET]
    rows = [json.loads(line) for line in
            (ROOT.parent / "shared/data/routing/dev.jsonl").read_text().splitlines() if line]
    docs = [r for r in rows if r["label"] == "document" and r["lang"] == "en"][:PER_SET]
    for r in docs:
        ask = re.sub(r"<@\w+>\s*", "", r["text"])
        parent = r["thread_parent"]
        out.append(("dev", f"someone: {parent}" if parent else "(none)", ask,
                    f"{parent or ''} {ask}"))
    return out


async def main(dirs: list[Path | None]) -> None:
    drafts = cases()
    async with embedded_llm() as client:
        for directory in dirs:
            prompt = PromptBook(directory).get("document")
            renders = [prompt.render(request=ask, context=conv) for _s, conv, ask, _f in drafts]
            started = time.monotonic()
            streams = [client.stream_chat(m, params=dict(prompt.params_for(m)),
                                          request_id=f"facts-{i}")
                       for i, m in enumerate(renders)]
            await asyncio.gather(*(s.collect() for s in streams))
            wall = time.monotonic() - started
            rows: dict[str, dict[str, Any]] = {}
            for (name, _conv, _ask, facts), messages, stream in zip(drafts, renders, streams,
                                                                     strict=True):
                text, wanted = stream.text, fact_words(facts)
                share = len(wanted & fact_words(text)) / max(1, len(wanted))
                row = rows.setdefault(name, {"drafts": 0, "fact_share": 0.0, "half_or_more": 0,
                                             "invented_figures": 0, "repeats_example": 0,
                                             "chars": 0})
                row["drafts"] += 1
                row["fact_share"] += share
                row["half_or_more"] += share >= 0.5
                row["invented_figures"] += bool(invented_figures(text, figures_shown(messages)))
                row["repeats_example"] += bool(repeats_example(text, messages))
                row["chars"] += len(text)
            for name, row in rows.items():
                n = row.pop("drafts")
                print(json.dumps({
                    "prompt": f"document@{prompt.version}",
                    "dir": str(directory or "prompts"), "set": name, "drafts": n,
                    "fact_share": round(row.pop("fact_share") / n, 3),
                    "mean_chars": row.pop("chars") // n, **row,
                    "wall_s": round(wall, 1)}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path,
                        help="prompt directories to compare (default: the shipped prompts)")
    args = parser.parse_args()
    asyncio.run(main(args.dirs or [None]))
