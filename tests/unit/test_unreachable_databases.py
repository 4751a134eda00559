"""A database or knowledge base that cannot be reached stops a command with one line naming
the setting to fix, and never shows the URL's password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import masked_url


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_masked_url_hides_only_the_password() -> None:
    assert masked_url("postgresql+psycopg2://tandem:s3cr:et@db:5432/tandem") == \
        "postgresql+psycopg2://tandem:***@db:5432/tandem"
    assert masked_url('invalid dsn: missing "=" after "postgresql://u:pw@h/x"') == \
        'invalid dsn: missing "=" after "postgresql://u:***@h/x"'
    assert masked_url("postgresql://db:5432/tandem") == "postgresql://db:5432/tandem"


@pytest.mark.parametrize(("argv", "env", "says"), [
    (["stats"], {"TANDEM_DB_URL": "postgresql+psycopg2://tandem:s3cret@127.0.0.1:{port}/t"},
     "the database at postgresql+psycopg2://tandem:***@127.0.0.1:{port}/t cannot be reached"),
    # A bare postgresql:// URL reached the driver that is not installed ("No module named
    # 'psycopg'"); now it is read as psycopg2, like the knowledge base's.
    (["export", "--format", "sft"], {"TANDEM_DB_URL": "postgresql://tandem:s3cret@127.0.0.1:{port}/t"},
     "the database at postgresql+psycopg2://tandem:***@127.0.0.1:{port}/t cannot be reached"),
    (["kb", "list"], {"TANDEM_KB_URL": "postgresql://tandem:s3cret@127.0.0.1:{port}/kb"},
     "the knowledge base's Postgres at postgresql://tandem:***@127.0.0.1:{port}/kb cannot be "
     "reached"),
    # The knowledge base follows TANDEM_DB_URL, in SQLAlchemy's form, when it has no URL.
    (["kb", "list"], {"TANDEM_DB_URL": "postgresql+psycopg2://tandem:s3cret@127.0.0.1:{port}/t"},
     "the knowledge base's Postgres at postgresql://tandem:***@127.0.0.1:{port}/t cannot be "
     "reached"),
])
def test_an_unreachable_postgres_stops_the_command_naming_the_setting_without_the_password(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        argv: list[str], env: dict[str, str], says: str) -> None:
    port = _closed_port()
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(port=port))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says.format(port=port) in err and "Connection refused" in err
    assert "s3cret" not in err
