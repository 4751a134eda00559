"""Export over a real migrated SQLite database: rows, filters, de-duplication, streaming."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.errors import ConfigError
from bot.store.db import Store
from bot.store.models import DraftStatus
from bot.tuning.export import export, open_readonly
from tests.tuning.records import T0, add_decision, add_draft, add_request, bulk_seed

SIGN = "\n— The Tandem team"


def run_export(store: Store, fmt: str, **kwargs: object) -> tuple[list[dict], object]:
    engine = open_readonly(store.url)
    buf = io.StringIO()
    counts = export(engine, fmt, buf, **kwargs)  # type: ignore[arg-type]
    engine.dispose()
    return [json.loads(line) for line in buf.getvalue().splitlines()], counts


async def seed_mixed(store: Store) -> None:
    def work(session):  # type: ignore[no-untyped-def]
        for verdict in ("approved", "edited", "rejected", "expired", "failed"):
            req = add_request(session, text=f"{verdict} ask from jo@example.com")
            session.flush()
            draft = add_draft(session, req, text=f"{verdict} draft")
            session.flush()
            add_decision(session, draft, verdict,
                         final_text=f"{verdict} draft{SIGN}" if verdict == "edited" else None)
        # Regenerated twice, the third version edited.
        req = add_request(session, text="regenerate me")
        session.flush()
        v1 = add_draft(session, req, version=1, text="first try", status=DraftStatus.superseded)
        v2 = add_draft(session, req, version=2, text="second try", status=DraftStatus.superseded)
        v3 = add_draft(session, req, version=3, text="third try")
        session.flush()
        assert v1 and v2
        add_decision(session, v3, "edited", final_text="third try" + SIGN)
        # A document job, to filter on.
        doc = add_request(session, job="document", text="release notes")
        session.flush()
        d = add_draft(session, doc, text="Release 2.3 is out.")
        session.flush()
        add_decision(session, d, "approved", at=T0 + timedelta(days=30))

    await store.run(work)


async def test_export_writes_each_format_per_the_mapping_table(store: Store) -> None:
    await seed_mixed(store)
    sft, _ = run_export(store, "sft")
    assert sorted(r["messages"][-1]["content"] for r in sft) == sorted(
        ["approved draft", "edited draft" + SIGN, "third try" + SIGN, "Release 2.3 is out."])
    kto, _ = run_export(store, "kto")
    assert sorted((r["completion"][0]["content"], r["label"]) for r in kto) == [
        ("Release 2.3 is out.", True), ("approved draft", True), ("rejected draft", False)]
    dpo, _ = run_export(store, "dpo")
    pairs = sorted((r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in dpo)
    assert pairs == [("edited draft" + SIGN, "edited draft"),
                     ("third try" + SIGN, "first try"),
                     ("third try" + SIGN, "second try"),
                     ("third try" + SIGN, "third try")]
    oai, _ = run_export(store, "openai-dpo")
    assert len(oai) == 4 and all(set(r) == {"input", "preferred_output", "non_preferred_output"}
                                 for r in oai)


async def test_export_redacts_by_default_and_keeps_pii_when_asked(store: Store) -> None:
    await seed_mixed(store)
    redacted, _ = run_export(store, "sft", job="support")
    assert "jo@example.com" not in json.dumps(redacted) and "[EMAIL_1]" in json.dumps(redacted)
    raw, _ = run_export(store, "sft", job="support", redact=False)
    assert "jo@example.com" in json.dumps(raw)


async def test_export_filters_by_job_and_since(store: Store) -> None:
    await seed_mixed(store)
    rows, counts = run_export(store, "sft", job="document")
    assert [r["messages"][-1]["content"] for r in rows] == ["Release 2.3 is out."]
    assert dict(counts.rows) == {"document": 1}  # type: ignore[attr-defined]
    rows, _ = run_export(store, "sft", since=T0 + timedelta(days=1))
    assert len(rows) == 1


async def test_export_skips_duplicate_rows_and_counts_them(store: Store) -> None:
    def work(session):  # type: ignore[no-untyped-def]
        for _ in range(3):  # the same ask approved three times (e.g. a FAQ)
            req = add_request(session, text="how do I reset my password?")
            session.flush()
            draft = add_draft(session, req, text="Use the reset link.")
            session.flush()
            add_decision(session, draft, "approved")

    await store.run(work)
    rows, counts = run_export(store, "sft")
    assert len(rows) == 1 and counts.duplicates == 2  # type: ignore[attr-defined]


async def test_export_pages_through_more_rows_than_one_chunk(store: Store) -> None:
    await store.call(bulk_seed, store.engine, 250)
    rows, counts = run_export(store, "sft", chunk=7)
    # approved, edited, rejected, approved, expired: 3 of every 5 carry an SFT row.
    assert len(rows) == 150 and counts.decisions == 150  # type: ignore[attr-defined]


async def test_export_cannot_write_to_the_database(store: Store) -> None:
    engine = open_readonly(store.url)
    refused = pytest.raises(Exception, match="readonly|read-only|attempt to write")
    with refused, engine.begin() as conn:
        conn.execute(text("DELETE FROM decision"))
    engine.dispose()


def test_export_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no database"):
        open_readonly(f"sqlite:///{tmp_path / 'absent.sqlite'}")


def _peak_bytes(url: str) -> int:
    engine = open_readonly(url)
    tracemalloc.start()
    with open(os.devnull, "w", encoding="utf-8") as sink:  # a StringIO would hold every row
        export(engine, "sft", sink, chunk=500)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    return peak


@pytest.mark.slow
async def test_export_memory_stays_flat_as_the_database_grows(tmp_path: Path) -> None:
    peaks = []
    for n in (2_000, 20_000):
        store = await Store.open(f"sqlite:///{tmp_path / f'db{n}.sqlite'}")
        await store.call(bulk_seed, store.engine, n)
        peaks.append(_peak_bytes(store.url))
        await store.close()
    # Ten times the decisions, nowhere near ten times the memory.
    assert peaks[1] < peaks[0] * 1.5, peaks
