"""`tandem export / stats / report / tune deploy` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.store.db import Store
from bot.tuning.cli import parse_since
from tests.tuning.records import add_decision, add_draft, add_request


@pytest.fixture
async def seeded(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    def work(session):  # type: ignore[no-untyped-def]
        for model, verdict in (("base", "edited"), ("base", "rejected"), ("tandem-v1", "approved")):
            req = add_request(session, text="invoice for sam@example.com is wrong")
            session.flush()
            draft = add_draft(session, req, model=model, text="We will fix it.")
            session.flush()
            edited = verdict == "edited"
            add_decision(session, draft, verdict, edit_distance=18 if edited else None,
                         final_text="We will fix it.\n— The Tandem team" if edited else None)

    await store.run(work)
    monkeypatch.setenv("TANDEM_DB_URL", store.url)
    return store


@pytest.mark.usefixtures("seeded")
async def test_export_cli_writes_jsonl_and_reports_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "sft.jsonl"
    assert main(["export", "--format", "sft", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and "sam@example.com" not in out.read_text()
    assert "sft: 2 rows (support 2)" in capsys.readouterr().err


@pytest.mark.usefixtures("seeded")
async def test_stats_cli_json_has_rates_and_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["stats", "--json"]) == 0
    stats = {s["model"]: s for s in json.loads(capsys.readouterr().out)}
    assert stats["tandem-v1"]["approved_rate"] == 1.0
    assert stats["base"]["edited"] == 1 and stats["base"]["rejected_rate"] == 0.5
    assert stats["base"]["approved_ci95"][1] < 0.9


@pytest.mark.usefixtures("seeded")
async def test_report_cli_embeds_chart_images(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 2 and "tandem-v1" in page


def test_deploy_cli_without_a_server_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tune", "deploy", "--next", str(tmp_path)]) == 2
    assert "TANDEM_LLM_BASE_URL" in capsys.readouterr().err


@pytest.mark.usefixtures("seeded")
async def test_report_cli_makes_the_folder_it_is_told_to_write_into(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "2026-12" / "report.html"
    assert main(["report", "--out", str(out)]) == 0
    assert "tandem-v1" in out.read_text()


@pytest.mark.usefixtures("seeded")
def test_export_cli_refuses_a_misspelt_job_instead_of_exporting_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--format", "sft", "--job", "suport"])
    assert exit_.value.code == 2
    assert "invalid choice: 'suport'" in capsys.readouterr().err


@pytest.mark.usefixtures("seeded")
def test_stats_cli_says_when_nothing_was_reviewed_in_the_period(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["stats", "--since", "2099-01-01"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no drafts reviewed since 2099-01-01" in captured.err


@pytest.mark.usefixtures("seeded")
async def test_report_since_a_date_charts_and_counts_only_that_period_and_says_which(
        tmp_path: Path, store: Store) -> None:
    from bot.tuning.export import open_readonly
    from bot.tuning.report import approval_series

    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out), "--since", "2099-01-01"]) == 0
    page = out.read_text()
    assert "Decisions from 2099-01-01 00:00 UTC" in page
    assert "No drafts were reviewed in this period." in page
    assert "data:image/png" not in page and "tandem-v1" not in page
    engine = open_readonly(store.url)
    try:
        # The chart's series is cut at the same date as the table (it covered all time).
        assert approval_series(engine, since=parse_since("2099-01-01")) == {}
        assert set(approval_series(engine, since=parse_since("2000-01-01"))) == {
            "base", "tandem-v1"}
    finally:
        engine.dispose()
    assert main(["report", "--out", str(out)]) == 0
    assert "All decisions;" in out.read_text()


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("flag", [["--epochs", "0"], ["--rank", "64"], ["--base", "/nonexistent"]])
def test_train_cli_refuses_a_bad_option_before_exporting_a_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str],
) -> None:
    base = tmp_path / "model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    out = tmp_path / "adapter"
    assert main(["tune", "train", "--base", str(base), "--out", str(out), *flag]) == 2
    err = capsys.readouterr().err
    assert flag[0] in err or flag[1] in err
    assert "rows" not in err and not out.exists()
