"""Durable job state in an embedded SQLite database (WAL), shared by every worker process.

Connection discipline: each process opens one connection and uses it only from its event-loop
thread (the server's handlers are async and never hand the connection to a thread), so no lock is
needed inside a process. Between processes, SQLite's WAL gives readers a consistent snapshot and
`BEGIN IMMEDIATE` serialises read-modify-write transitions; every transition is also a
compare-and-set on the current state, so two processes can never both apply it.

Jobs never leave the database except through an explicit reset, so a restart (also after
`kill -9`: WAL with synchronous=NORMAL survives a process crash) finds every job and commit.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SCHEMA_VERSION = 1
# How long a process waits for another's write lock before SQLite gives up (busy timeout).
BUSY_SECONDS = 10.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    job_type TEXT NOT NULL,
    language TEXT NOT NULL,
    app_user_id TEXT,
    state TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    lastupdate_time INTEGER NOT NULL,
    progress TEXT NOT NULL,
    committed_at REAL,
    processing_seconds REAL,
    outcome_state TEXT,
    outcome_at REAL,
    failed_code TEXT,
    failed_reason TEXT,
    assess_result TEXT,
    lease_owner TEXT,
    lease_until REAL
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (outcome_state, committed_at);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation TEXT,
    for_upload INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shows (
    job_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Outcome:
    """What the assessment decided: SUCCEED with a result, or FAILED with a code and reason."""

    state: str
    assess_result: dict[str, Any] | None = None
    failed_code: str | None = None
    failed_reason: str | None = None


@dataclass(frozen=True)
class Job:
    job_id: str
    project_id: str
    job_type: str
    language: str
    app_user_id: str | None
    state: str
    create_time: int
    lastupdate_time: int
    progress: str
    committed_at: float | None = None
    processing_seconds: float | None = None
    outcome: Outcome | None = None
    outcome_at: float | None = None

    def to_api(self) -> dict[str, Any]:
        """The ShowShortJob body: failure fields only when failed, the result only when done."""
        body: dict[str, Any] = {
            "job_type": self.job_type,
            "job_id": self.job_id,
            "state": self.state,
            "create_time": self.create_time,
            "lastupdate_time": self.lastupdate_time,
        }
        # the outcome's fields show while the job is in the outcome's state (steering.fields_in)
        outcome = self.outcome if self.outcome and self.outcome.state == self.state else None
        if outcome is not None and outcome.failed_code is not None:
            body["job_failed_code"] = outcome.failed_code
            body["job_failed_reason"] = outcome.failed_reason
        if outcome is not None and outcome.assess_result is not None:
            body["assess_result"] = outcome.assess_result
        return body


class Store:
    """The jobs and the control plane's state in `path` (SQLite, WAL).

    The connection is per process: opened on first use in each process, so a store built before
    a fork (gunicorn's preload) serves every worker after `close()`, and no connection crosses a
    fork (SQLite forbids using one in a child). Creating the schema is safe when several
    processes open a fresh file at once: see `_create_schema`.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._reset_hooks: list[Callable[[sqlite3.Connection], None]] = []
        self._create_schema()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            # After a fork the parent's connection is left alone (never used nor closed here).
            self._connection = self._open()
            self._pid = os.getpid()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        # Used by the event-loop thread alone (the handlers never hand it to a thread).
        db = sqlite3.connect(
            self.path, isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=False
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _create_schema(self) -> None:
        """Switch the file to WAL and create the tables, once, whoever comes first.

        Several processes may do this at once on a fresh file (`--workers` without a preload,
        two mocks on one data dir). SQLite answers SQLITE_BUSY without waiting where waiting
        could deadlock: a connection holding a read lock that wants to write while another
        does the same (both `PRAGMA journal_mode=WAL` on a file still in rollback mode, or a
        read that upgrades). So the tables are made inside `BEGIN IMMEDIATE` (the write lock
        first, waited for with the busy timeout), and the journal-mode switch, which cannot run
        inside a transaction, is retried on SQLITE_BUSY until `BUSY_SECONDS` have passed.
        """
        _retry_busy(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        with self._write():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer mock (schema {version} > {SCHEMA_VERSION})"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        """Close this process's connection; the next use opens a new one."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def insert(self, job: Job) -> None:
        self._db.execute(
            "INSERT INTO jobs (job_id, project_id, job_type, language, app_user_id, state,"
            " create_time, lastupdate_time, progress) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.job_id,
                job.project_id,
                job.job_type,
                job.language,
                job.app_user_id,
                job.state,
                job.create_time,
                job.lastupdate_time,
                job.progress,
            ),
        )

    def get(self, job_id: str) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def jobs(self, limit: int) -> list[Job]:
        """The newest `limit` jobs, newest first (the dashboard's view)."""
        rows = self._db.execute(
            "SELECT * FROM jobs ORDER BY create_time DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_job(row) for row in rows]

    def transition(self, before: Job, after: Job) -> bool:
        """Store `after` if the job is still in `before`'s state; False if another was first."""
        cursor = self._db.execute(
            "UPDATE jobs SET state = ?, lastupdate_time = ?, progress = ?, committed_at = ?,"
            " processing_seconds = ? WHERE job_id = ? AND state = ?",
            (
                after.state,
                after.lastupdate_time,
                after.progress,
                after.committed_at,
                after.processing_seconds,
                before.job_id,
                before.state,
            ),
        )
        return cursor.rowcount == 1

    def set_progress(self, job_id: str, progress: str) -> None:
        self._db.execute("UPDATE jobs SET progress = ? WHERE job_id = ?", (progress, job_id))

    def save_outcome(self, job_id: str, outcome: Outcome, at: float, *, replace: bool) -> bool:
        """Record the assessment's outcome once (or override it, for forced outcomes)."""
        condition = "" if replace else " AND outcome_state IS NULL"
        cursor = self._db.execute(
            "UPDATE jobs SET outcome_state = ?, outcome_at = ?, failed_code = ?, failed_reason = ?,"
            " assess_result = ?, lease_owner = NULL, lease_until = NULL"
            f" WHERE job_id = ?{condition}",
            (
                outcome.state,
                at,
                outcome.failed_code,
                outcome.failed_reason,
                None if outcome.assess_result is None else json.dumps(outcome.assess_result),
                job_id,
            ),
        )
        return cursor.rowcount == 1

    def claim_unassessed(self, owner: str, now: float, lease_seconds: float) -> list[Job]:
        """Committed jobs with no outcome that nobody alive is assessing, leased to `owner`."""
        # Polled by every worker process: look before taking the write lock.
        waiting = self._db.execute(
            "SELECT 1 FROM jobs WHERE outcome_state IS NULL AND committed_at IS NOT NULL"
            " AND (lease_owner IS NULL OR lease_until < ?) LIMIT 1",
            (now,),
        ).fetchone()
        if waiting is None:
            return []
        with self._write():
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE outcome_state IS NULL AND committed_at IS NOT NULL"
                " AND (lease_owner IS NULL OR lease_until < ?) ORDER BY committed_at LIMIT 32",
                (now,),
            ).fetchall()
            jobs = [_job(row) for row in rows]
            self._db.executemany(
                "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE job_id = ?",
                [(owner, now + lease_seconds, job.job_id) for job in jobs],
            )
        return jobs

    def release_leases(self, owner_prefix: str) -> None:
        """Forget leases of a previous run: its processes are gone (also after kill -9)."""
        self._db.execute(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL"
            " WHERE lease_owner IS NOT NULL AND lease_owner NOT LIKE ?",
            (owner_prefix + "%",),
        )

    def force(self, job: Job, outcome: Outcome, now: float) -> None:
        """End a job now with `outcome`, whatever its state (the control plane's override)."""
        with self._write():
            self.save_outcome(job.job_id, outcome, now, replace=True)
            self._db.execute(
                "UPDATE jobs SET state = ?, lastupdate_time = ? WHERE job_id = ?",
                (outcome.state, int(now), job.job_id),
            )

    def reset(self) -> int:
        """Forget every job, journal entry, fault and setting; answer how many jobs there were."""
        with self._write():
            removed = self._db.execute("DELETE FROM jobs").rowcount
            for table in ("journal", "faults", "settings", "shows"):
                self._db.execute(f"DELETE FROM {table}")
            for clear in self._reset_hooks:
                clear(self._db)
        return int(removed)

    # -- for modules that keep tables of their own in this database (IAM: mock_server/iam) ------

    @property
    def connection(self) -> sqlite3.Connection:
        """This process's connection (opened on first use, as `_db`; same discipline: the
        event-loop thread only). Ask for it at each use: it changes after a fork or `close()`."""
        return self._db

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """`BEGIN IMMEDIATE` ... `COMMIT` (rolled back on an exception)."""
        return self._write()

    def on_reset(self, clear: Callable[[sqlite3.Connection], None]) -> None:
        """Have `reset()` call `clear` too, inside its transaction."""
        self._reset_hooks.append(clear)

    # -- the control plane's state, shared by every worker process ------------------------------

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put_setting(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def count_show(self, job_id: str, state: str) -> int:
        """Count one show of a job in `state`; answer its shows in that state (1 after a change)."""
        row = self._db.execute(
            "INSERT INTO shows (job_id, state, count) VALUES (?, ?, 1) ON CONFLICT (job_id) DO"
            " UPDATE SET count = CASE WHEN state = excluded.state THEN count + 1 ELSE 1 END,"
            " state = excluded.state RETURNING count",
            (job_id, state),
        ).fetchone()
        return int(row[0])

    def journal_append(self, entry: dict[str, Any]) -> None:
        self._db.execute("INSERT INTO journal (entry) VALUES (?)", (json.dumps(entry),))

    def journal(self, since_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, entry FROM journal WHERE id > ? ORDER BY id", (since_id,)
        ).fetchall()
        return [{"id": row[0], **json.loads(row[1])} for row in rows]

    def journal_clear(self) -> None:
        self._db.execute("DELETE FROM journal")

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
        with self._write():
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


def _retry_busy(attempt: Callable[[], T]) -> T:
    """`attempt()`, again after a short random pause while SQLite answers SQLITE_BUSY ("database
    is locked") without having waited, for at most `BUSY_SECONDS`."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF
            if busy != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0.005, 0.05))  # apart, so the contenders do not meet again


def _job(row: sqlite3.Row) -> Job:
    outcome = None
    if row["outcome_state"] is not None:
        result = row["assess_result"]
        outcome = Outcome(
            state=row["outcome_state"],
            assess_result=None if result is None else json.loads(result),
            failed_code=row["failed_code"],
            failed_reason=row["failed_reason"],
        )
    return Job(
        job_id=row["job_id"],
        project_id=row["project_id"],
        job_type=row["job_type"],
        language=row["language"],
        app_user_id=row["app_user_id"],
        state=row["state"],
        create_time=row["create_time"],
        lastupdate_time=row["lastupdate_time"],
        progress=row["progress"],
        committed_at=row["committed_at"],
        processing_seconds=row["processing_seconds"],
        outcome=outcome,
        outcome_at=row["outcome_at"],
    )
