"""Labelled questions from the team's own reviews, for `tandem kb tune --from-decisions`.

An approved or edited answer says which retrieved sources a person let stand: the
numbers it still cites. Each such decision becomes {question, relevant doc_ids}.
Sources that are themselves approved answers (`answer:` entries) are left out: they
exist because of the question, so they say nothing about how search ranks documents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.kb.citations import cited_numbers
from bot.kb.evaluation import EvalQuery
from bot.kb.ingest import collection_id
from bot.kb.service import is_answer_entry
from bot.store.models import Decision, Draft, Verdict

__all__ = ["questions_from_decisions"]


def _doc_id(source: dict[str, Any]) -> str:
    """The source's id as stored now: a source recorded before collections had ids of their
    own (`collection_id`) was a bare path or thread outside its home collection."""
    doc_id, collection = str(source.get("doc_id") or ""), str(source.get("collection") or "")
    home = "default" if doc_id.startswith("/") else "slack" if doc_id.startswith(
        "slack:") else None
    return collection_id(collection, doc_id, home) if home and collection else doc_id


def _cited_docs(final_text: str, sources: list[dict[str, Any]]) -> frozenset[str]:
    by_number = {int(s["n"]): _doc_id(s) for s in sources if "n" in s}
    return frozenset(doc for n in cited_numbers(final_text)
                     if (doc := by_number.get(n)) and not is_answer_entry(doc))


def questions_from_decisions(engine: Engine) -> list[EvalQuery]:
    """One labelled question per distinct question text (its latest decision wins)."""
    stmt = (select(col(Decision.request_text), col(Decision.final_text), col(Draft.sources))
            .join(Draft, col(Draft.id) == col(Decision.draft_id))
            .where(col(Decision.job) == "question")
            .where(col(Decision.verdict).in_((Verdict.approved, Verdict.edited)))
            .order_by(col(Decision.decided_at), col(Decision.id)))
    with engine.connect() as conn:
        rows = list(conn.execute(stmt))
    latest: dict[str, EvalQuery] = {}
    for question, final_text, sources in rows:
        relevant = _cited_docs(final_text or "", sources or [])
        if question and question.strip() and relevant:
            latest[question.strip()] = EvalQuery(query=question.strip(), relevant=relevant)
    return list(latest.values())
