"""The mock's one clock: wall-clock time plus an offset a test may move forward.

Every rule that reads time asks it: IAM's token and temporary-credential expiry, the gateway's
15-minute window for `X-Sdk-Date`, the upload URL's `Expires`. The offset is a row of the mock's
SQLite database, so every `--workers` process and a mock in another process move together
(`POST /_mock/clock`, `short_jobs_mock.advance_clock(seconds)`); `reset()` of the database
puts it back to zero.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from typing import Protocol

from mock_server.core.database import Database

_TABLES = (
    """CREATE TABLE IF NOT EXISTS clock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        offset_seconds REAL NOT NULL
    )""",
)


def _clear(db: sqlite3.Connection) -> int:
    return db.execute("DELETE FROM clock").rowcount


class Now(Protocol):
    """What a rule that reads time needs: `now()`, Unix seconds (tests pass a frozen one)."""

    def now(self) -> float: ...


class Clock:
    """`now()` in Unix seconds (float); `advance(seconds)` moves it on for every process."""

    def __init__(self, database: Database) -> None:
        self.database = database
        database.add_tables("clock", _TABLES, _clear)

    def offset(self) -> float:
        """Seconds the clock is ahead of the wall clock (0 unless a test moved it)."""
        row = self.database.connection.execute(
            "SELECT offset_seconds FROM clock WHERE id = 1"
        ).fetchone()
        return float(row[0]) if row is not None else 0.0

    def now(self) -> float:
        return time.time() + self.offset()

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> float:
        """Move the clock on by `seconds` (>= 0: time never runs back); the new offset."""
        if not seconds >= 0:
            raise ValueError(f"the clock only moves forward, not by {seconds!r} s")
        with self.database.transaction():
            self.database.connection.execute(
                "INSERT INTO clock (id, offset_seconds) VALUES (1, ?) ON CONFLICT (id) DO"
                " UPDATE SET offset_seconds = offset_seconds + excluded.offset_seconds",
                (seconds,),
            )
        return self.offset()
