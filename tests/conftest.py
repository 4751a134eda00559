"""Shared fixtures: a clean environment for every test, the real-vLLM and Postgres fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    name for name in ("tests.support.vllm_fixture", "tests.support.pg_fixture")
    if (Path(__file__).parent / "support" / (name.rsplit(".", 1)[1] + ".py")).exists()
]

# Variables settings read: each test starts without them.
_SETTINGS_PREFIXES = ("SLACK_", "TANDEM_")
# Knobs of the tests themselves, never read by settings (the learning-loop proof's).
_TEST_KNOBS = ("TANDEM_MODEL_CACHE", "TANDEM_PROOF_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings read the environment: no test may see a developer's tokens or URLs."""
    for name in list(os.environ):
        if name.startswith(_SETTINGS_PREFIXES) and not name.startswith(_TEST_KNOBS):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield
