"""Convert COVID-QA (shared/data/covid_qa) to `tandem kb eval` JSONL files.

Writes to OUT_DIR:
- papers_corpus.jsonl / papers_queries.jsonl: 98 papers; 1,380 questions with the
  answer's offset (`answer_start`, found with context.find since upstream offsets
  are off by one in 234 answers) for chunk-level recall, and a `split`
  (dev/test, by question id parity) so weights are tuned on dev only;
- faq_corpus.jsonl / faq_queries.jsonl: 213 FAQ entries (question + answer as the
  document); the paraphrased questions of eval_question_similarity_en.csv with
  similar=1 as queries, gold = the FAQ row whose question equals question_1.

Usage: python3 scripts/covid_qa_to_eval.py [SRC_DIR] [OUT_DIR]
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def papers(src: Path, out: Path) -> tuple[int, int]:
    data = json.loads((src / "200423_covidQA.json").read_text(encoding="utf-8"))["data"]
    corpus, queries = [], []
    for item in data:
        for para in item["paragraphs"]:
            context, doc_id = para["context"], str(para["document_id"])
            title = context.split("\n", 1)[0].strip()
            corpus.append({"doc_id": doc_id, "title": title, "text": context, "kind": "text"})
            for qa in para["qas"]:
                start = context.find(qa["answers"][0]["text"])
                queries.append({"query": qa["question"], "relevant": [doc_id],
                                "answer_start": start if start >= 0 else None,
                                "split": "dev" if int(qa["id"]) % 2 == 0 else "test"})
    _write(out / "papers_corpus.jsonl", corpus)
    _write(out / "papers_queries.jsonl", queries)
    return len(corpus), len(queries)


def faq(src: Path, out: Path) -> tuple[int, int]:
    with (src / "faq_covidbert.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    corpus, ids = [], {}
    for i, row in enumerate(rows):
        doc_id = f"faq-{i}"
        ids.setdefault(row["question"].strip(), doc_id)
        corpus.append({"doc_id": doc_id, "title": row["question"].strip(),
                       "text": row["answer"].strip(), "url": row.get("link") or doc_id,
                       "kind": "text"})
    queries = []
    with (src / "eval_question_similarity_en.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            gold = ids.get(row["question_1"].strip())
            if row["similar"].strip() == "1" and gold:
                queries.append({"query": row["question_2"].strip(), "relevant": [gold]})
    _write(out / "faq_corpus.jsonl", corpus)
    _write(out / "faq_queries.jsonl", queries)
    return len(corpus), len(queries)


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path("../shared/data/covid_qa")
    out = Path(argv[2]) if len(argv) > 2 else Path(".data/covid_qa_eval")
    out.mkdir(parents=True, exist_ok=True)
    print("papers", *papers(src, out), "faq", *faq(src, out))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
