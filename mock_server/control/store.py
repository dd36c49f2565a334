"""The control plane's state: the request journal, the armed faults and the settings (the
default progress mode), in tables of their own in the mock's database, so every worker process
sees the same switches. The one reset (`Database.reset`) clears them with the jobs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from mock_server.core.database import Database
from mock_server.service import lifecycle

_TABLES = (
    """CREATE TABLE IF NOT EXISTS journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        entry TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS faults (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        operation TEXT,
        for_upload INTEGER NOT NULL,
        remaining INTEGER NOT NULL,
        spec TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
)


class ControlStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        database.add_tables("control", _TABLES, _clear)

    @property
    def _db(self) -> sqlite3.Connection:
        return self.database.connection

    # -- settings -------------------------------------------------------------------------------

    def progress(self) -> str | None:
        """The default progress mode of new jobs, if one was chosen (PUT /_mock/progress)."""
        return self.get_setting(lifecycle.PROGRESS_SETTING)

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put_setting(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- the journal ----------------------------------------------------------------------------

    def journal_append(self, entry: dict[str, Any]) -> None:
        self._db.execute("INSERT INTO journal (entry) VALUES (?)", (json.dumps(entry),))

    def journal(self, since_id: int) -> list[dict[str, Any]]:
        """Every entry after `since_id`, oldest first."""
        return list(self.journal_entries(since_id))

    def journal_entries(self, since_id: int) -> Iterator[dict[str, Any]]:
        """The entries after `since_id`, oldest first, read in batches as they are consumed
        (a page of a filtered journal stops reading once it is full)."""
        cursor = self._db.execute(
            "SELECT id, entry FROM journal WHERE id > ? ORDER BY id", (since_id,)
        )
        while rows := cursor.fetchmany(500):
            for row in rows:
                yield {"id": row[0], **json.loads(row[1])}

    def journal_clear(self) -> None:
        self._db.execute("DELETE FROM journal")

    # -- faults ---------------------------------------------------------------------------------

    def add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        cursor = self._db.execute(
            "INSERT INTO faults (operation, for_upload, remaining, spec) VALUES (?, ?, ?, ?)",
            (
                spec.get("operation"),
                int(spec.get("operation") == "upload" or "upload" in spec),
                spec["times"],
                json.dumps(spec),
            ),
        )
        return {"fault_id": cursor.lastrowid, **spec}

    def faults(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT id, remaining, spec FROM faults ORDER BY id").fetchall()
        return [{**json.loads(row[2]), "fault_id": row[0], "times": row[1]} for row in rows]

    def clear_faults(self) -> None:
        self._db.execute("DELETE FROM faults")

    def take_fault(self, operation: str) -> dict[str, Any] | None:
        """The first armed fault matching `operation`, counted down once (gone at zero)."""
        upload = int(operation == "upload")
        with self.database.transaction():
            row = self._db.execute(
                "SELECT id, remaining, spec FROM faults WHERE for_upload = ?"
                " AND (operation IS NULL OR operation = ?) ORDER BY id LIMIT 1",
                (upload, operation),
            ).fetchone()
            if row is None:
                return None
            if row[1] <= 1:
                self._db.execute("DELETE FROM faults WHERE id = ?", (row[0],))
            else:
                self._db.execute(
                    "UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row[0],)
                )
        spec: dict[str, Any] = json.loads(row[2])
        return spec


def _clear(db: sqlite3.Connection) -> int:
    removed = 0
    for table in ("journal", "faults", "settings"):
        removed += db.execute(f"DELETE FROM {table}").rowcount
    return removed
