"""Regenerate the initial Alembic revision from the models (only before the first release)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "bot/store/migrations/versions"

for old in VERSIONS.glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = create_engine(f"sqlite:///{tmp}/gen.sqlite")
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "bot/store/migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
