"""What the team's own records say about the knowledge base: labelled questions for
`tandem kb tune --from-decisions`, and the questions it had nothing for (`tandem kb gaps`).

An approved or edited answer says which retrieved sources a person let stand: the
numbers it still cites. Each such decision becomes {question, relevant doc_ids}.
Sources that are themselves approved answers (`answer:` entries) are left out: they
exist because of the question, so they say nothing about how search ranks documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.kb.citations import cited_numbers
from bot.kb.evaluation import EvalQuery
from bot.kb.ingest import collection_id, home_collection
from bot.kb.service import is_answer_entry
from bot.store.models import NO_SOURCES_MODEL, Decision, Draft, Request, Verdict

__all__ = ["Gap", "questions_from_decisions", "unanswered_questions"]


def _doc_id(source: dict[str, Any]) -> str:
    """The source's id as stored now: a source recorded before collections had ids of their
    own (`collection_id`) was a bare path or thread outside its home collection."""
    doc_id, collection = str(source.get("doc_id") or ""), str(source.get("collection") or "")
    home = home_collection(doc_id)
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


class Gap(NamedTuple):
    question: str  # as last asked
    asked: int
    last_asked: datetime
    channels: tuple[str, ...]


def unanswered_questions(engine: Engine, *, since: datetime | None = None) -> list[Gap]:
    """Questions the knowledge base had nothing relevant for (the draft said so and asked
    no model), most asked first: the documents a team is missing. The same question in
    other case or spacing counts once; a regenerated draft of one ask counts once."""
    stmt = (select(col(Request.id), col(Request.text), col(Request.channel_id),
                   col(Draft.created_at))
            .join(Draft, col(Draft.request_id) == col(Request.id))
            .where(col(Draft.job) == "question").where(col(Draft.model) == NO_SOURCES_MODEL)
            .order_by(col(Draft.created_at)))
    if since is not None:
        stmt = stmt.where(col(Draft.created_at) >= since)
    with engine.connect() as conn:
        rows = list(conn.execute(stmt))
    gaps: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for request_id, text, channel, created in rows:
        key = " ".join((text or "").lower().split())
        if not key or request_id in seen:
            continue
        seen.add(request_id)
        gap = gaps.setdefault(key, {"asked": 0, "channels": {}})
        gap.update(question=" ".join(text.split()), last=created)
        gap["asked"] += 1
        gap["channels"][channel] = None
    out = [Gap(g["question"], g["asked"], g["last"], tuple(g["channels"])) for g in gaps.values()]
    return sorted(out, key=lambda g: (-g.asked, -g.last_asked.timestamp()))
