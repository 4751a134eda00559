"""Export decisions as JSONL datasets, streaming, without getting in the bot's way.

- **Constant memory.** Decisions are read in keyset pages of `chunk` rows
  (ordered by `decided_at, id`), each page its own short read transaction with
  `yield_per`, so a running bot's writers are never held up and a WAL
  checkpoint is never pinned for the whole export. Duplicate detection keeps
  its row hashes in a temporary on-disk SQLite table, not in a Python set.
- **Read-only.** SQLite connections set `PRAGMA query_only`; Postgres sessions
  are opened read-only. The exporter cannot write to the bot's database.
- **Rows** come from `bot.tuning.rows` (the pure mapping); redaction
  (`bot.tuning.redact`) happens before de-duplication, so two rows that differ
  only in a customer's email collapse into one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import and_, create_engine, event, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased
from sqlmodel import col

from bot.errors import ConfigError, unreachable
from bot.store.models import Decision, Draft, DraftStatus, Verdict
from bot.tuning.redact import redact_row
from bot.tuning.rows import (
    FORMATS,
    DecisionRecord,
    examples_for_decision,
    examples_for_regeneration,
    rows_for,
)

__all__ = ["ExportCounts", "export", "open_readonly"]

# Which verdicts can produce rows for each format (the rest are not even read).
_VERDICTS_FOR = {
    "sft": (Verdict.approved, Verdict.edited),
    "openai-sft": (Verdict.approved, Verdict.edited),
    "dpo": (Verdict.edited,),
    "openai-dpo": (Verdict.edited,),
    "kto": (Verdict.approved, Verdict.rejected),
}


@dataclass(slots=True)
class ExportCounts:
    fmt: str
    rows: Counter[str] = field(default_factory=Counter)  # per job
    duplicates: int = 0
    decisions: int = 0

    def summary(self) -> str:
        jobs = ", ".join(f"{job} {n}" for job, n in sorted(self.rows.items())) or "none"
        return (f"{self.fmt}: {sum(self.rows.values())} rows ({jobs}); "
                f"{self.duplicates} duplicates skipped; {self.decisions} decisions read")


def open_readonly(url: str) -> Engine:
    """An engine that can only read the bot's database."""
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            raise ConfigError(f"no database at {path}: set TANDEM_DB_URL or run `tandem run` first")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA query_only=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, execution_options={"postgresql_readonly": True})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        raise unreachable(url, exc) from exc
    return engine


class _Seen:
    """Row hashes on disk: de-duplication whose memory does not grow with the export."""

    def __init__(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="tandem-export-", suffix=".sqlite")
        os.close(fd)
        self._db = sqlite3.connect(self._path)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4096;"
            "CREATE TABLE seen (h BLOB PRIMARY KEY) WITHOUT ROWID;"
        )

    def add(self, line: str) -> bool:
        """True if the line is new."""
        digest = hashlib.blake2b(line.encode(), digest_size=16).digest()
        return self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (digest,)).rowcount == 1

    def close(self) -> None:
        self._db.close()
        os.unlink(self._path)


def _decisions(
    engine: Engine, verdicts: tuple[Verdict, ...], job: str | None, since: datetime | None,
    chunk: int,
) -> Iterator[DecisionRecord]:
    cursor: tuple[datetime, str] | None = None
    while True:
        stmt = (
            select(col(Decision.decided_at), col(Decision.id), col(Decision.verdict),
                   col(Decision.job), col(Decision.draft_text), col(Decision.final_text),
                   col(Draft.messages))
            .join(Draft, col(Draft.id) == col(Decision.draft_id))
            .where(col(Decision.verdict).in_(verdicts))
            .order_by(col(Decision.decided_at), col(Decision.id))
            .limit(chunk)
        )
        if job:
            stmt = stmt.where(col(Decision.job) == job)
        if since:
            stmt = stmt.where(col(Decision.decided_at) >= since)
        if cursor:
            at, ident = cursor
            stmt = stmt.where(or_(col(Decision.decided_at) > at,
                                  and_(col(Decision.decided_at) == at, col(Decision.id) > ident)))
        with engine.connect() as conn:  # one short transaction per page
            page = list(conn.execution_options(yield_per=chunk).execute(stmt))
        for _at, _ident, verdict, row_job, draft, final, messages in page:
            yield DecisionRecord(str(getattr(verdict, "value", verdict)), row_job,
                                 messages or [], draft or "", final)
        if len(page) < chunk:
            return
        cursor = (page[-1][0], page[-1][1])


def _regenerations(
    engine: Engine, job: str | None, since: datetime | None, chunk: int,
) -> Iterator[tuple[DecisionRecord, str]]:
    """(kept decision, superseded text) for every version a later kept one replaced."""
    old, kept = aliased(Draft), aliased(Draft)
    cursor = ""
    while True:
        # Page on superseded drafts first: a page of them may pair with nothing
        # (never decided), and the cursor must still move past it.
        ids_stmt = (select(col(Draft.id))
                    .where(col(Draft.status) == DraftStatus.superseded, col(Draft.id) > cursor)
                    .order_by(col(Draft.id)).limit(chunk))
        stmt = (
            select(col(old.text), col(Decision.verdict), col(Decision.job),
                   col(Decision.draft_text), col(Decision.final_text), col(kept.messages))
            .join(kept, and_(col(kept.request_id) == col(old.request_id),
                             col(kept.version) > col(old.version)))
            .join(Decision, col(Decision.draft_id) == col(kept.id))
            .where(col(Decision.verdict).in_((Verdict.approved, Verdict.edited)))
            .order_by(col(old.id), col(kept.id))
        )
        if job:
            stmt = stmt.where(col(Decision.job) == job)
        if since:
            stmt = stmt.where(col(Decision.decided_at) >= since)
        with engine.connect() as conn:  # one short transaction per page
            ids = list(conn.execute(ids_stmt).scalars())
            if not ids:
                return
            page = list(conn.execute(stmt.where(col(old.id).in_(ids))))
        for old_text, verdict, row_job, draft, final, messages in page:
            record = DecisionRecord(str(getattr(verdict, "value", verdict)), row_job,
                                    messages or [], draft or "", final)
            yield record, old_text or ""
        cursor = ids[-1]


def export(
    engine: Engine, fmt: str, out: TextIO, *, job: str | None = None,
    since: datetime | None = None, redact: bool = True, chunk: int = 1000,
) -> ExportCounts:
    """Write `fmt` rows as JSONL to `out`; returns what was written."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    counts = ExportCounts(fmt)
    seen = _Seen()
    try:
        def emit(row_job: str, row: dict[str, Any]) -> None:
            line = json.dumps(redact_row(row) if redact else row, ensure_ascii=False,
                              separators=(",", ":"))
            if seen.add(line):
                out.write(line + "\n")
                counts.rows[row_job] += 1
            else:
                counts.duplicates += 1

        for record in _decisions(engine, _VERDICTS_FOR[fmt], job, since, chunk):
            counts.decisions += 1
            for row_job, row in rows_for(examples_for_decision(record), fmt):
                emit(row_job, row)
        if fmt in ("dpo", "openai-dpo"):
            for record, old_text in _regenerations(engine, job, since, chunk):
                for row_job, row in rows_for(examples_for_regeneration(record, old_text), fmt):
                    emit(row_job, row)
    finally:
        seen.close()
    return counts
