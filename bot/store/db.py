"""The database handle: engine set-up, migrations, and async access.

SQLModel is synchronous; every query runs off the event loop. SQLite takes one
writer at a time, so its queries run on a single thread in arrival order:
threads racing for its lock would sleep in the busy handler (1 to 100 ms a try)
and 200 drafts at once spent seconds there. Postgres, used when `TANDEM_DB_URL`
says so, gets a pool of threads. `run` gives a Session (the ORM); `core` gives a
bare Connection, for the per-draft hot path written as prepared Core statements;
with SQLite that is one connection kept open on the writer thread, since checking
a connection out of the pool and back cost as much as the statements themselves.
`read` runs read-only queries (App Home's reports) on threads of their own, so a
long report never holds up drafts (WAL readers do not block the writer).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from bot.errors import unreachable

__all__ = ["Store", "make_engine", "migrate"]

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    here = Path(__file__).resolve().parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """Owns the engine and runs blocking database work off the event loop."""

    def __init__(self, url: str, *, workers: int | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        if workers is None:
            workers = 1 if url.startswith("sqlite") else 8
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="store-read")
        self._held = threading.local() if url.startswith("sqlite") else None
        self._held_all: list[Connection] = []

    @classmethod
    async def open(cls, url: str) -> Store:
        store = cls(url)
        try:
            await store.call(migrate, store.engine)
        except OperationalError as exc:
            store.engine.dispose()
            raise unreachable(url, exc) from exc
        return store

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one transaction on the pool; commit if it returns."""

        def work() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                result = fn(session)
                session.commit()
                return result

        return await self.call(work)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run a read-only `fn(session)` on the reader threads."""

        def work() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._readers, work)

    async def core(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn(connection)` in one transaction on the pool; commit if it returns."""

        def work() -> T:
            if self._held is None:
                with self.engine.begin() as conn:
                    return fn(conn)
            conn = self._connection()
            with conn.begin():
                return fn(conn)

        return await self.call(work)

    def _connection(self) -> Connection:
        """This thread's held connection (SQLite only), opened again if it was lost."""
        assert self._held is not None
        conn: Connection | None = getattr(self._held, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._held.conn = self.engine.connect()
            self._held_all.append(conn)
        return conn

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        for conn in self._held_all:
            conn.close()
        self.engine.dispose()
