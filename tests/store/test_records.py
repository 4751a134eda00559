"""The per-draft record statements behave the same on SQLite and on a real Postgres."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from bot.store import repo
from bot.store.db import Store
from bot.store.models import Decision, DraftStatus, Request, Verdict

ASK = {"event_key": "Ev1", "team_id": "T1", "channel_id": "C1", "user_id": "U1",
       "text": "write the weekly update", "participants": ["U1", "U2"], "job": "document",
       "route_reason": "asked for a document", "route_source": "classifier"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tandem.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url").replace("postgresql://", "postgresql+psycopg2://")
    opened = await Store.open(url)
    yield opened

    def wipe(c: Connection) -> None:
        for table in ("decision", "draft", "request", "seenevent"):
            c.exec_driver_sql(f"DELETE FROM {table}")

    await opened.core(wipe)
    await opened.close()


async def test_a_redelivered_ask_opens_no_second_request(store: Store) -> None:
    first = await store.core(lambda c: repo.open_request(c, context_text="ctx", **ASK))
    again = await store.core(lambda c: repo.open_request(c, context_text="ctx", **ASK))
    assert first is not None and again is None
    loaded = await store.core(lambda c: repo.load_generation(c, draft_id=first[0].id))
    assert loaded is not None
    draft, request = loaded
    assert (draft.status, draft.version, draft.context_text) == (DraftStatus.requested, 1, "ctx")
    assert (request.text, request.participants) == (ASK["text"], ["U1", "U2"])
    assert tuple(first) == loaded  # the rows the insert returned are the rows stored


async def test_a_draft_moves_only_from_the_state_it_is_in(store: Store) -> None:
    opened = await store.core(lambda c: repo.open_request(c, context_text="", **ASK))
    assert opened is not None
    draft_id = opened[0].id
    messages = [{"role": "user", "content": "write the weekly update"}]

    def generating(c: Connection, source: DraftStatus) -> bool:
        return repo.move(c, draft_id=draft_id, source=source, target=DraftStatus.generating,
                         messages=messages, model="m")

    assert await store.core(lambda c: generating(c, DraftStatus.requested))
    assert not await store.core(lambda c: generating(c, DraftStatus.requested))  # moved already
    await store.core(lambda c: repo.update_draft(c, draft_id=draft_id, message_ts="1.5"))
    assert await store.core(lambda c: repo.move(
        c, draft_id=draft_id, source=DraftStatus.generating, target=DraftStatus.pending_review,
        text="The update."))
    decision = await store.run(lambda s: repo.decide(
        s, draft_id=draft_id, verdict=Verdict.approved, key="k1", source="button",
        reviewer_id="U2"))
    assert isinstance(decision, Decision)
    assert (decision.draft_text, decision.request_text) == ("The update.", ASK["text"])
    loaded = await store.core(lambda c: repo.load_generation(c, draft_id=draft_id))
    assert loaded is not None
    assert (loaded[0].status, loaded[0].message_ts, loaded[0].messages) == (
        DraftStatus.approved, "1.5", messages)


async def test_a_long_report_does_not_hold_up_drafts(store: Store) -> None:
    """Reads run on their own threads: a write completes while a read is still open."""
    reading, written = threading.Event(), threading.Event()

    def slow_report(s: Session) -> bool:
        s.exec(select(Request)).all()  # a read transaction is open here
        reading.set()
        return written.wait(timeout=5)  # on the writer's thread this would wait out the 5 s

    report = asyncio.ensure_future(store.read(slow_report))
    assert await asyncio.to_thread(reading.wait, 5)
    await store.core(lambda c: repo.open_request(c, context_text="", **ASK))
    written.set()
    assert await report


async def test_a_failed_transaction_leaves_nothing_and_the_next_one_commits(store: Store) -> None:
    """SQLite keeps one connection open on the writer thread: an error must not leave it
    inside a half-done transaction."""

    def open_then_fail(c: Connection) -> None:
        repo.open_request(c, context_text="", **ASK)
        raise RuntimeError("the draft could not be built")

    with pytest.raises(RuntimeError):
        await store.core(open_then_fail)
    opened = await store.core(lambda c: repo.open_request(c, context_text="", **ASK))
    assert opened is not None  # the failed insert was rolled back, so its event_key is free
    rows = await store.read(lambda s: s.exec(select(Request)).all())
    assert [r.id for r in rows] == [opened[1].id]
