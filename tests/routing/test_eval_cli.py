"""`tandem route eval` on the shared dev set and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.routing.eval import score

DEV = Path(__file__).parents[2].parent / "shared/data/routing/dev.jsonl"


@pytest.mark.skipif(not DEV.exists(), reason="shared/data is not beside the repo")
def test_eval_cli_reaches_95_percent_on_dev_in_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "eval", str(DEV)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 150
    assert report["accuracy"] >= 0.95, report
    assert set(report["per_label"]) == {"document", "question", "support"}
    # Seconds on CPU, training included (the machine may be shared and busy).
    assert report["seconds"] < 10


def test_eval_cli_rejects_a_row_without_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "hi"}\n', encoding="utf-8")
    assert main(["route", "eval", str(path)]) == 2
    assert "rows.jsonl:1" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_eval_cli_refuses_a_file_without_rows_instead_of_scoring_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(content, encoding="utf-8")
    assert main(["route", "eval", str(path)]) == 2
    captured = capsys.readouterr()
    assert "rows.jsonl holds no rows" in captured.err and "accuracy" not in captured.out


@pytest.mark.parametrize(("content", "message"), [
    ('{"text": "hi", "label": "question"}\n["a list"]\n', "rows.jsonl:2: not a JSON object"),
    ('{"text": "hi", "label": "question"}\n{"text": \n', "rows.jsonl:2: not JSON"),
])
def test_eval_cli_names_the_line_that_is_not_a_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(content, encoding="utf-8")
    assert main(["route", "eval", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_eval_cli_prints_mistakes_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [
        {"text": "write the launch announcement", "label": "question"},
        {
            "text": "my parcel never arrived",
            "channel_kind": "support",
            "author": "external",
            "thread_parent": None,
            "label": "support",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert main(["route", "eval", str(path)]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out.strip().splitlines()[-1])
    assert report["accuracy"] == 0.5
    assert "want question, got document" in out.err


def test_score_counts_precision_and_recall_per_label() -> None:
    report = score(
        ["document", "question", "support", "support"],
        ["document", "support", "support", "question"],
    )
    assert report["accuracy"] == 0.5
    assert report["per_label"]["support"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "n": 2}
    assert report["per_label"]["document"]["f1"] == 1.0
