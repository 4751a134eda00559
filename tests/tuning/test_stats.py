"""Stats: Wilson intervals, rates per job × model × prompt version, and the compact view."""

from __future__ import annotations

import pytest

from bot.store.db import Store
from bot.tuning.export import open_readonly
from bot.tuning.stats import compact_stats, query_stats, summarise, wilson
from tests.tuning.records import add_decision, add_draft, add_request


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (81, 263, 0.2553, 0.3662),
])
def test_wilson_matches_published_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-3) and got[1] == pytest.approx(hi, abs=1e-3)


def test_wilson_without_trials_is_the_whole_interval() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def test_summarise_rates_exclude_expired_and_failed() -> None:
    (stat,) = summarise([
        ("support", "tandem-v1", "2", "approved", 6, 0),
        ("support", "tandem-v1", "2", "edited", 2, 30),
        ("support", "tandem-v1", "2", "rejected", 2, 0),
        ("support", "tandem-v1", "2", "expired", 5, 0),
    ])
    assert stat.reviewed == 10
    assert stat.rate("approved") == 0.6 and stat.rate("rejected") == 0.2
    assert stat.mean_edit_distance == pytest.approx(30 / 8)
    assert stat.as_dict()["expired"] == 5


async def test_query_stats_groups_by_job_model_and_prompt_version(store: Store) -> None:
    def work(session):  # type: ignore[no-untyped-def]
        for model, verdicts in (("base", ["edited", "edited", "approved", "rejected"]),
                                ("tandem-v1", ["approved", "approved", "approved", "edited"])):
            for verdict in verdicts:
                req = add_request(session)
                session.flush()
                draft = add_draft(session, req, model=model, text="t")
                session.flush()
                edited = verdict == "edited"
                add_decision(session, draft, verdict, final_text="t!" if edited else None,
                             edit_distance=4 if edited else None)

    await store.run(work)
    engine = open_readonly(store.url)
    stats = {s.model: s for s in query_stats(engine)}
    engine.dispose()
    assert stats["base"].rate("approved") == 0.25 and stats["tandem-v1"].rate("approved") == 0.75
    assert stats["base"].mean_edit_distance == pytest.approx(8 / 3)
    lines = compact_stats(stats.values())
    assert [line["model"] for line in lines] == ["base", "tandem-v1"]
    assert lines[1]["approval"] == "75%" and lines[1]["reviewed"] == 4
    assert lines[1]["approval_ci"] == "30%–95%"
