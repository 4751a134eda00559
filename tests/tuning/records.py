"""Record factories for the tuning tests: requests, drafts and decisions as the bot writes them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.store.models import Decision, Draft, DraftStatus, Request, Verdict

_ids = itertools.count(1)
T0 = datetime(2025, 1, 1, 9, 0, 0, tzinfo=UTC)


def now() -> datetime:
    # sqlmodel's UTCDateTime refuses naive datetimes, so every timestamp is set here.
    return datetime.now(UTC)


SYSTEM = "You draft replies for the support team."


def messages_for(ask: str, system: str = SYSTEM) -> list[dict[str, Any]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": ask}]


def add_request(session: Session, *, job: str = "support", text: str = "help") -> Request:
    n = next(_ids)
    request = Request(id=f"r{n:07d}", event_key=f"ev{n}", channel_id="C1", job=job, text=text,
                      created_at=now())
    session.add(request)
    return request


def add_draft(
    session: Session, request: Request, *, version: int = 1, text: str = "draft",
    status: DraftStatus = DraftStatus.pending_review, messages: list[dict[str, Any]] | None = None,
    model: str = "gemma3-270m",
) -> Draft:
    draft = Draft(
        id=f"d{next(_ids):07d}", request_id=request.id, version=version, status=status,
        job=request.job, model=model, prompt_name=request.job, prompt_version="1",
        messages=messages if messages is not None else messages_for(request.text), text=text,
        created_at=now(), updated_at=now(),
    )
    session.add(draft)
    return draft


def add_decision(
    session: Session, draft: Draft, verdict: str, *, final_text: str | None = None,
    at: datetime | None = None, edit_distance: int | None = None, model: str | None = None,
) -> Decision:
    n = next(_ids)
    decision = Decision(
        id=f"x{n:07d}", draft_id=draft.id, request_id=draft.request_id,
        idempotency_key=f"k{n}", verdict=Verdict(verdict), job=draft.job,
        prompt_name=draft.prompt_name, prompt_version=draft.prompt_version,
        model=model or draft.model, draft_text=draft.text, final_text=final_text,
        edit_distance=edit_distance, decided_at=at or T0 + timedelta(seconds=n),
    )
    session.add(decision)
    return decision


def bulk_seed(engine: Any, n: int, *, batch: int = 5000) -> None:
    """`n` decided drafts (a mix of every verdict), inserted in bulk for scale tests."""
    from sqlalchemy import insert

    verdicts = ["approved", "edited", "rejected", "approved", "expired"]
    with engine.begin() as conn:
        for start in range(0, n, batch):
            reqs, drafts, decisions = [], [], []
            for i in range(start, min(n, start + batch)):
                text = f"Customer {i} writes: my invoice {i} is wrong, mail me at c{i}@example.com"
                at = T0 + timedelta(seconds=i)
                verdict = verdicts[i % len(verdicts)]
                reqs.append({"id": f"R{i:08d}", "event_key": f"E{i}", "channel_id": "C1",
                         "job": "support", "text": text, "created_at": at})
                drafts.append({
                    "id": f"D{i:08d}", "request_id": f"R{i:08d}", "version": 1,
                    "status": verdict, "job": "support", "model": "gemma3-270m",
                    "messages": messages_for(text), "text": f"Sorry about invoice {i}.",
                    "params": {}, "sources": [], "usage": {}, "context_text": "",
                    "created_at": at, "updated_at": at})
                edited = verdict == "edited"
                decisions.append({
                    "id": f"X{i:08d}", "draft_id": f"D{i:08d}", "request_id": f"R{i:08d}",
                    "idempotency_key": f"K{i}", "verdict": verdict, "job": "support",
                    "model": "gemma3-270m", "prompt_name": "support", "prompt_version": "1",
                    "params": {}, "request_text": text, "context_text": "",
                    "draft_text": f"Sorry about invoice {i}.",
                    "final_text": (f"Sorry about invoice {i}.\n— The Tandem team"
                                   if edited else None),
                    "edit_distance": 20 if edited else None, "decided_at": at,
                    "source": "button"})
            conn.execute(insert(Request), reqs)
            conn.execute(insert(Draft), drafts)
            conn.execute(insert(Decision), decisions)
