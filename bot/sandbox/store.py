"""Workspace state of the sandbox: messages (with reactions and stream state) and views.

State lives in memory for speed and is written through to SQLite so that a
restart keeps history. sqlite3 is called synchronously on purpose: each write is
one small row on a local file, far below the cost of a thread hop, and the
sandbox is a single-user dev tool, not a production server.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

__all__ = ["SandboxStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (channel TEXT, ts TEXT, data TEXT, PRIMARY KEY (channel, ts));
CREATE TABLE IF NOT EXISTS views (id TEXT PRIMARY KEY, data TEXT);
"""


class SandboxStore:
    def __init__(self, db_path: Path | None) -> None:
        self._db = sqlite3.connect(str(db_path) if db_path else ":memory:")
        # Writes happen on the event loop: skip fsync so a burst of posts never stalls it.
        # A restart still keeps history; only an OS crash could lose the last writes.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self._last_ts = 0.0
        for channel, ts, data in self._db.execute("SELECT channel, ts, data FROM messages"):
            self.messages.setdefault(channel, {})[ts] = json.loads(data)
            self._last_ts = max(self._last_ts, float(ts))
        for vid, data in self._db.execute("SELECT id, data FROM views"):
            self.views[vid] = json.loads(data)

    def close(self) -> None:
        self._db.close()

    def reset(self) -> None:
        self._db.executescript("DELETE FROM messages; DELETE FROM views;")
        self._db.commit()
        self.messages.clear()
        self.views.clear()

    def next_ts(self) -> str:
        # Slack ts values are unique per channel and ordered; keep them strictly increasing
        # even when two messages land in the same microsecond.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    # messages ------------------------------------------------------------------
    def put_message(self, msg: dict[str, Any]) -> None:
        self.messages.setdefault(msg["channel"], {})[msg["ts"]] = msg
        self._db.execute("INSERT OR REPLACE INTO messages VALUES (?, ?, ?)",
                         (msg["channel"], msg["ts"], json.dumps(msg)))
        self._db.commit()

    def get_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return self.messages.get(channel, {}).get(ts)

    def delete_message(self, channel: str, ts: str) -> None:
        self.messages.get(channel, {}).pop(ts, None)
        self._db.execute("DELETE FROM messages WHERE channel = ? AND ts = ?", (channel, ts))
        self._db.commit()

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        return sorted(self.messages.get(channel, {}).values(), key=lambda m: float(m["ts"]))

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.channel_messages(channel)
                if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    # views ---------------------------------------------------------------------
    def put_view(self, view: dict[str, Any]) -> None:
        self.views[view["id"]] = view
        self._db.execute("INSERT OR REPLACE INTO views VALUES (?, ?)",
                         (view["id"], json.dumps(view)))
        self._db.commit()

    def delete_view(self, view_id: str) -> None:
        self.views.pop(view_id, None)
        self._db.execute("DELETE FROM views WHERE id = ?", (view_id,))
        self._db.commit()
