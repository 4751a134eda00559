"""The tests' own clean environment: settings see no developer's values, test knobs pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = '''
import os

from tests.conftest import clean_environment  # noqa: F401 - the autouse fixture under test


def test_sees_the_environment():
    assert "TANDEM_SLACK_BOT_TOKEN" not in os.environ
    assert "SLACK_APP_TOKEN" not in os.environ
    assert os.environ["TANDEM_PROOF_EPOCHS"] == "2"
    assert os.environ["TANDEM_MODEL_CACHE"] == "/nowhere"
'''


def test_settings_values_are_removed_and_the_proofs_knobs_kept(tmp_path: Path) -> None:
    (tmp_path / "test_child.py").write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TANDEM_SLACK_BOT_TOKEN": "xoxb-not-real",
           "SLACK_APP_TOKEN": "xapp-not-real", "TANDEM_PROOF_EPOCHS": "2",
           "TANDEM_MODEL_CACHE": "/nowhere"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "bt"), str(tmp_path)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
