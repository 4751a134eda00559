"""How often the check for words of another language (`bot.drafting.foreign`) names a word
in text written by people in English, read as if it were a draft given nothing.

Sets, where present: the Node.js/npm and CMake docs (`bench_kb_docs.py` builds their
corpora under .data/bench/docs_eval), COVID-QA's FAQ and papers (`bench_kb_covid.py`
converts them under .data/bench/covid_qa_eval), the routing dev set's asks (English and
not), and the project's own Markdown. Prints one JSON line per set: texts, words, words
named, texts with any, and the words named most. A real draft's words that its sources
or conversation hold count as given, so these are upper bounds.

    PYTHONPATH=. python3 tests/bench/bench_foreign_words.py [--limit 400]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from bot.drafting.foreign import draft_language, foreign_words, warm

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".data/bench"


def _corpus(path: Path, limit: int) -> list[str]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for _, line in zip(range(limit), lines, strict=False)]


def sets(limit: int) -> dict[str, list[str]]:
    routing = ROOT.parent / "shared/data/routing/dev.jsonl"
    return {
        "node_npm_docs": _corpus(BENCH / "docs_eval/node_npm_corpus.jsonl", limit),
        "cmake_docs": _corpus(BENCH / "docs_eval/cmake_corpus.jsonl", limit),
        "covid_faq": _corpus(BENCH / "covid_qa_eval/faq_corpus.jsonl", limit),
        "covid_papers": _corpus(BENCH / "covid_qa_eval/papers_corpus.jsonl", limit // 6),
        "routing_asks": _corpus(routing, limit) if routing.exists() else [],
        "readme_and_docs": [p.read_text(encoding="utf-8")
                            for p in [*ROOT.glob("*.md"), *ROOT.glob("deploy/*.md")]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400, help="texts per set, at most")
    args = parser.parse_args()
    started = time.monotonic()
    warm()
    print(json.dumps({"lists_read_s": round(time.monotonic() - started, 2)}))  # noqa: T201
    for name, texts in sets(args.limit).items():
        if not texts:
            continue
        started = time.monotonic()
        named = [foreign_words(text, []) for text in texts]
        seconds = time.monotonic() - started
        counts = Counter(word for words in named for word in words)
        print(json.dumps({  # noqa: T201
            "set": name, "texts": len(texts),
            "words": sum(len(text.split()) for text in texts),
            "languages": dict(Counter(str(draft_language(text)) for text in texts)),
            "words_named": sum(counts.values()), "texts_with_any": sum(map(bool, named)),
            "most_named": counts.most_common(8),
            "ms_per_text": round(seconds * 1000 / len(texts), 2)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
