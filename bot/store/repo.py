"""Repository functions over one Session. Each is called inside `Store.run`,
which makes it one transaction; arguments are keyword-only.

Decisions are guarded twice: a conditional UPDATE moves the draft out of
`pending_review` only if it is still there (so two racing reviewers cannot
both win), and `decision.draft_id` / `decision.idempotency_key` are unique.

The per-draft hot path (`open_request`, `load_generation`, `move`,
`update_draft`) runs prepared Core statements (built once, parameters bound at
each call) and also takes a bare Connection: ORM objects and per-call statement
building cost about a millisecond of CPU each, which 200 drafts at once turned
into seconds. Measured: a conditional UPDATE fell from 0.6 ms to 0.12 ms.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, func, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.review.editdist import edit_distance
from bot.store.lifecycle import can_move, check_move
from bot.store.models import Decision, Draft, DraftStatus, Request, SeenEvent, Verdict, utcnow

__all__ = [
    "can_fail", "create_draft", "decide", "draft_with_request",
    "due_for_expiry", "fail_inflight",
    "get_decision", "draft_by_message", "get_draft", "get_request", "latest_draft",
    "load_generation", "mark_seen", "move", "open_request", "pending_for_home",
    "rates_by_job", "recent_decisions",
    "unpublished_decisions", "update_draft",
]


def new_id() -> str:
    return uuid.uuid4().hex


def mark_seen(s: Session, *, key: str) -> bool:
    """True the first time a key is seen; False for every redelivery."""
    try:
        with s.begin_nested():
            s.add(SeenEvent(key=key))
        return True
    except IntegrityError:
        return False


DRAFTS: Table = Draft.__table__  # type: ignore[attr-defined]
REQUESTS: Table = Request.__table__  # type: ignore[attr-defined]


# Prepared statements: built once, so each call only binds its parameters.
# The inserts return their rows, so a new draft needs no second read before generating.
_NEW_REQUEST: dict[str, Executable] = {
    "sqlite": sqlite.insert(REQUESTS).on_conflict_do_nothing().returning(*REQUESTS.c),
    "postgresql": postgresql.insert(REQUESTS).on_conflict_do_nothing().returning(*REQUESTS.c)}
_NEW_DRAFT = DRAFTS.insert().returning(*DRAFTS.c)
_DRAFT_BY_ID = core_select(DRAFTS).where(DRAFTS.c.id == bindparam("_id"))
_REQUEST_BY_ID = core_select(REQUESTS).where(REQUESTS.c.id == bindparam("_id"))
_SET_DRAFT = update(DRAFTS).where(DRAFTS.c.id == bindparam("_id"))
_MOVE_DRAFT = update(DRAFTS).where(DRAFTS.c.id == bindparam("_id"),
                                   DRAFTS.c.status == bindparam("_from"))

Db = Session | Connection


def open_request(c: Db, *, context_text: str, **fields: Any) -> tuple[Draft, Request] | None:
    """Insert a request and its first draft; both as read-only rows (as `load_generation`
    gives them), or None for a Slack retry (the request's event_key was already used)."""
    now = utcnow()
    values = {"id": new_id(), "created_at": now, "text": "", "participants": [], **fields}
    dialect = c.get_bind().dialect if isinstance(c, Session) else c.dialect
    request = c.execute(_NEW_REQUEST[dialect.name], values).first()
    if request is None:
        return None
    draft = c.execute(_NEW_DRAFT, {
        "id": new_id(), "request_id": values["id"], "version": 1,
        "job": fields.get("job", "document"), "status": DraftStatus.requested, "params": {},
        "messages": [], "sources": [], "usage": {}, "text": "", "context_text": context_text,
        "created_at": now, "updated_at": now, "prompt_name": "", "prompt_version": "",
        "model": ""}).one()
    return cast(Draft, draft), cast(Request, request)


def load_generation(c: Db, *, draft_id: str) -> tuple[Draft, Request] | None:
    """A draft and its request as read-only rows (same attribute names as the models)."""
    draft = c.execute(_DRAFT_BY_ID, {"_id": draft_id}).first()
    request = c.execute(_REQUEST_BY_ID, {"_id": draft.request_id}).first() if draft else None
    if draft is None or request is None:
        return None
    return cast(Draft, draft), cast(Request, request)


def get_request(s: Session, *, request_id: str) -> Request | None:
    return s.get(Request, request_id)


def get_draft(s: Session, *, draft_id: str) -> Draft | None:
    return s.get(Draft, draft_id)


def draft_with_request(s: Session, *, draft_id: str) -> tuple[Draft, Request] | None:
    """A draft and the request it answers, or None if either is gone."""
    draft = s.get(Draft, draft_id)
    request = s.get(Request, draft.request_id) if draft else None
    return (draft, request) if draft and request else None


def get_decision(s: Session, *, draft_id: str) -> Decision | None:
    return s.exec(select(Decision).where(Decision.draft_id == draft_id)).first()


def latest_draft(s: Session, *, request_id: str) -> Draft | None:
    return s.exec(select(Draft).where(Draft.request_id == request_id)
                  .order_by(col(Draft.version).desc())).first()


def create_draft(s: Session, *, request_id: str, job: str) -> tuple[Draft, list[Draft]]:
    """A new version for the request; earlier open versions become superseded."""
    superseded: list[Draft] = []
    top = s.exec(select(func.max(Draft.version)).where(Draft.request_id == request_id)).one()
    for old in s.exec(select(Draft).where(Draft.request_id == request_id, col(Draft.status).in_(
            [DraftStatus.requested, DraftStatus.generating, DraftStatus.pending_review,
             DraftStatus.failed]))):
        old.status = DraftStatus.superseded
        old.updated_at = utcnow()
        s.add(old)
        superseded.append(old)
    draft = Draft(id=new_id(), request_id=request_id, version=(top or 0) + 1, job=job)
    s.add(draft)
    s.flush()
    return draft, superseded


def move(s: Db, *, draft_id: str, source: DraftStatus, target: DraftStatus,
         **fields: Any) -> bool:
    """Move a draft from `source` to `target` atomically; False if it was elsewhere."""
    check_move(source, target)
    result = s.execute(_MOVE_DRAFT, {"_id": draft_id, "_from": source, "status": target,
                                     "updated_at": utcnow(), **fields})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def can_fail(source: DraftStatus) -> bool:
    return can_move(source, DraftStatus.failed)


def update_draft(s: Db, *, draft_id: str, **fields: Any) -> None:
    s.execute(_SET_DRAFT, {"_id": draft_id, "updated_at": utcnow(), **fields})


def decide(s: Session, *, draft_id: str, verdict: Verdict, key: str, source: str,
           reviewer_id: str | None, final_text: str | None = None, reason: str | None = None,
           from_status: DraftStatus = DraftStatus.pending_review) -> Decision | None:
    """Record the one decision on a draft; None when someone (or a retry) got there first."""
    if not move(s, draft_id=draft_id, source=from_status, target=DraftStatus(verdict.value)):
        return None
    draft = s.get(Draft, draft_id)
    request = s.get(Request, draft.request_id) if draft else None
    assert draft is not None and request is not None
    ready = draft.completed_at or draft.updated_at
    decision = Decision(
        id=new_id(), draft_id=draft_id, request_id=request.id, idempotency_key=key,
        verdict=verdict, source=source, reviewer_id=reviewer_id, reason=reason,
        job=draft.job, prompt_name=draft.prompt_name, prompt_version=draft.prompt_version,
        model=draft.model, params=draft.params, request_text=request.text,
        context_text=draft.context_text, draft_text=draft.text, final_text=final_text,
        edit_distance=edit_distance(draft.text, final_text) if final_text is not None else None,
        ttft_ms=draft.ttft_ms, draft_ms=draft.draft_ms,
        decision_ms=(utcnow() - ready).total_seconds() * 1000 if ready else None,
    )
    try:
        with s.begin_nested():
            s.add(decision)
    except IntegrityError:
        return None
    return decision


def unpublished_decisions(s: Session) -> list[Decision]:
    """Approved or edited decisions whose final post has not been confirmed."""
    return list(s.exec(select(Decision).where(
        col(Decision.verdict).in_([Verdict.approved, Verdict.edited]),
        col(Decision.final_ts).is_(None), Decision.source != "feedback")))


def fail_inflight(s: Session, *, error: str) -> list[Draft]:
    """On start: drafts left mid-generation by a restart become failed (with Retry)."""
    stuck = list(s.exec(select(Draft).where(col(Draft.status).in_(
        [DraftStatus.requested, DraftStatus.generating]))))
    for draft in stuck:
        draft.status = DraftStatus.failed
        draft.error = error
        draft.updated_at = utcnow()
        s.add(draft)
    return stuck


def due_for_expiry(s: Session, *, older_than: float) -> list[Draft]:
    cutoff = utcnow() - timedelta(seconds=older_than)
    return list(s.exec(select(Draft).where(Draft.status == DraftStatus.pending_review,
                                           col(Draft.updated_at) < cutoff)))


def pending_for_home(s: Session, *, limit: int = 50) -> list[tuple[Draft, Request]]:
    rows = s.exec(select(Draft, Request).join(Request, col(Request.id) == Draft.request_id)
                  .where(Draft.status == DraftStatus.pending_review)
                  .order_by(col(Draft.created_at).desc()).limit(limit))
    return list(rows.all())


def recent_decisions(s: Session, *, limit: int = 10) -> list[Decision]:
    return list(s.exec(select(Decision).order_by(col(Decision.decided_at).desc()).limit(limit)))


def rates_by_job(s: Session, *, since: datetime | None = None) -> list[dict[str, Any]]:
    query = select(Decision.job, Decision.model, Decision.verdict, func.count()).group_by(
        Decision.job, Decision.model, Decision.verdict).where(
        col(Decision.verdict).in_([Verdict.approved, Verdict.edited, Verdict.rejected]))
    if since:
        query = query.where(col(Decision.decided_at) >= since)
    table: dict[tuple[str, str], dict[str, int]] = {}
    for job, model, verdict, n in s.exec(query):
        table.setdefault((job, model), {})[str(verdict)] = n
    rows = []
    for (job, model), counts in sorted(table.items()):
        total = sum(counts.values())
        rows.append({"job": job, "model": model, "n": total,
                     "approval": counts.get("approved", 0) / total,
                     "edit": counts.get("edited", 0) / total,
                     "reject": counts.get("rejected", 0) / total})
    return rows


def open_replies_for_thread(s: Session, *, channel: str, thread: str) -> list[Request]:
    """Reply requests with a draft not yet decided that would post into `thread` of
    `channel` and are reviewed in another channel (a customer's thread, as
    `bot.review.hand_replies` needs)."""
    undecided = select(Draft.request_id).where(col(Draft.status).in_(
        [DraftStatus.requested, DraftStatus.generating, DraftStatus.pending_review]))
    return list(s.exec(select(Request).where(
        Request.channel_id == channel, Request.thread_ts == thread,
        col(Request.review_channel_id).is_not(None), Request.review_channel_id != channel,
        col(Request.id).in_(undecided)).order_by(col(Request.created_at))))


def request_by_message(s: Session, *, channel: str, ts: str) -> Request | None:
    """The request a Slack message made (for edits of it)."""
    return s.exec(select(Request).where(Request.channel_id == channel,
                                        Request.message_ts == ts)).first()


def draft_by_message(s: Session, *, channel: str, ts: str) -> Draft | None:
    """The draft shown by a Slack message (for reactions on it)."""
    return s.exec(select(Draft).where(Draft.message_channel_id == channel,
                                      Draft.message_ts == ts)
                  .order_by(col(Draft.version).desc())).first()
