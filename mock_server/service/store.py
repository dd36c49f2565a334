"""The jobs: their rows in the mock's SQLite database (`mock_server.core.database`).

Every transition is a compare-and-set on the current state, progress mode and steering generation
(`transition`), so two processes can never both apply it, and none applies a step it read before
the job was steered (`set_state`, `set_job_progress`), even if steering brought the job back to
the very state and mode it read; read-modify-writes run inside the database's `BEGIN IMMEDIATE`.
Jobs never leave the database except through the one reset (`Database.reset`), and a write that
lands for a job after the reset removed it writes nothing (every write by job id is an UPDATE, or
an INSERT that checks the job).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.core.database import DamagedStore, Database, columns

# What `Store.lease_status` answers.
HELD, GONE, LOST = "held", "gone", "lost"

_TABLES = """
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
    lease_until REAL,
    generation INTEGER NOT NULL DEFAULT 0
);
-- The worker's queue: committed jobs without an outcome. Partial, so that a new job (not yet
-- committed) is no entry: a create writes two B-tree pages, not three (issue 23: an insert
-- 29 to 21 us of CPU). jobs_pending indexed every job: a store made before is moved on here.
DROP INDEX IF EXISTS jobs_pending;
CREATE INDEX IF NOT EXISTS jobs_unassessed ON jobs (committed_at)
    WHERE outcome_state IS NULL AND committed_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS shows (
    job_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    count INTEGER NOT NULL
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
    # Bumped by every steering of the job (`Store.pin`, `Store.set_progress`): a read of an
    # older generation is stale even if the state and mode it read are back (no ABA).
    generation: int = 0

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
    """The jobs (tables `jobs` and `shows`) in `database`, or in a database of their own at a
    path (as tests open one)."""

    def __init__(self, database: Database | Path) -> None:
        self.database = database if isinstance(database, Database) else Database(database)
        self.path = self.database.path
        self.database.add_tables("jobs", _TABLES.split(";"), _clear)
        self._add_generation()
        self._check_results()

    def _add_generation(self) -> None:
        """Give a file made before the steering generation existed its column (0 for every
        job); a mock of that time ignores it and keeps working on the file."""
        with self._write():
            if "generation" not in columns(self._db, "jobs"):
                self._db.execute(
                    "ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0"
                )

    def _check_results(self) -> None:
        """Raise DamagedStore unless every stored result is JSON. The database's checks prove
        every row reads and every table has its columns (`Database.add_tables`, which writes
        nothing to a file that has them), not what a value means: a damaged cell can hold a
        result that is not JSON, and every request touching that job would answer 500."""
        cursor = self._db.cursor()
        cursor.row_factory = None
        try:
            rows = cursor.execute("SELECT assess_result FROM jobs WHERE assess_result IS NOT NULL")
            for (result,) in rows:
                json.loads(result)
        except (sqlite3.Error, ValueError) as error:
            self.database.close()
            raise DamagedStore(self.path, f"a result in the jobs table: {error}") from error

    @property
    def _db(self) -> sqlite3.Connection:
        return self.database.connection

    def _write(self) -> contextlib.AbstractContextManager[None]:
        return self.database.transaction()

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        """The database's write transaction, or the one this connection is already in (the
        caller's: then its statements are part of that)."""
        if self._db.in_transaction:
            return contextlib.nullcontext()
        return self.database.transaction()

    def close(self) -> None:
        """Close this process's connection to the database; the next use opens a new one."""
        self.database.close()

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

    def count(self) -> int:
        """How many jobs there are."""
        return int(self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

    def transition(self, before: Job, after: Job) -> bool:
        """Store `after` if the job is still in `before`'s state, progress mode and steering
        generation; False if another was first (or the job is gone).

        The mode and generation are part of the comparison because what is due depends on the
        steering: a show or a worker that read the job `timed` must not apply its step after
        `set_state` pinned the job (mode `manual`) in the very state it read, nor after
        `set_job_progress` changed how it moves, nor after the two brought it back to the state
        and mode it read (issue 19, item 1: set_state/worker).
        """
        cursor = self._db.execute(
            "UPDATE jobs SET state = ?, lastupdate_time = ?, progress = ?, committed_at = ?,"
            " processing_seconds = ? WHERE job_id = ? AND state = ? AND progress = ?"
            " AND generation = ?",
            (
                after.state,
                after.lastupdate_time,
                after.progress,
                after.committed_at,
                after.processing_seconds,
                before.job_id,
                before.state,
                before.progress,
                before.generation,
            ),
        )
        return cursor.rowcount == 1

    def set_progress(self, job_id: str, progress: str) -> None:
        """The control plane's `set_job_progress`: a new steering generation (`Job.generation`)."""
        self._db.execute(
            "UPDATE jobs SET progress = ?, generation = generation + 1 WHERE job_id = ?",
            (progress, job_id),
        )

    def save_outcome(
        self, job_id: str, outcome: Outcome, at: float, *, replace: bool, lease: str | None = None
    ) -> bool:
        """Record the assessment's outcome once (or override it, for forced outcomes). With
        `lease`, only while the job still holds that lease: a reset (which removes the row, and
        may see its id made again) or a lapsed claim discards the outcome."""
        condition = "" if replace else " AND outcome_state IS NULL"
        if lease is not None:
            condition += " AND lease_owner = ?"
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
                *(() if lease is None else (lease,)),
            ),
        )
        return cursor.rowcount == 1

    def holds_lease(self, job_id: str, lease: str) -> bool:
        """Whether job `job_id` exists, has no outcome yet and is leased to `lease`."""
        return self.lease_status(job_id, lease) == HELD

    def lease_status(self, job_id: str, lease: str) -> str:
        """`HELD` if job `job_id` has no outcome yet and is leased to `lease`; `GONE` if there
        is no such job (a reset removed it); else `LOST` (an outcome was kept, the job was
        reopened, or the claim lapsed and another took it)."""
        row = self._db.execute(
            "SELECT lease_owner = ? AND outcome_state IS NULL FROM jobs WHERE job_id = ?",
            (lease, job_id),
        ).fetchone()
        if row is None:
            return GONE
        return HELD if row[0] else LOST

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
        with self.atomic():
            self.save_outcome(job.job_id, outcome, now, replace=True)
            self._db.execute(
                "UPDATE jobs SET state = ?, lastupdate_time = ? WHERE job_id = ?",
                (outcome.state, int(now), job.job_id),
            )

    def pin(
        self,
        job_id: str,
        state: str,
        progress: str,
        at: float,
        outcome: Outcome | None,
        *,
        reopen: bool,
    ) -> bool:
        """The control plane's `set_state`, in one transaction: the job in `state` and
        `progress` (steering's `manual`), with `outcome` (replacing any, and ending any claim
        on it) if given, its show count forgotten (`forget_shows`), its steering generation
        bumped (`Job.generation`). False if the job is gone.

        `reopen` (set_state CREATING: the job takes an upload and a commit again) also makes it
        uncommitted, so everything its earlier commit led to goes: the outcome, the
        assessment's claim (a running assessment is abandoned), the commit time. Its re-commit
        is assessed afresh, on the upload it has then (issue 19, item 1: a reopened job never
        shows the old outcome).
        """
        with self.atomic():
            if outcome is not None:
                self.save_outcome(job_id, outcome, at, replace=True)
            uncommit = (
                ", committed_at = NULL, processing_seconds = NULL, outcome_state = NULL,"
                " outcome_at = NULL, failed_code = NULL, failed_reason = NULL,"
                " assess_result = NULL, lease_owner = NULL, lease_until = NULL"
                if reopen
                else ""
            )
            cursor = self._db.execute(
                "UPDATE jobs SET state = ?, lastupdate_time = ?, progress = ?,"
                f" generation = generation + 1{uncommit}"
                " WHERE job_id = ?",
                (state, int(at), progress, job_id),
            )
            self.forget_shows(job_id)
        return cursor.rowcount == 1

    def forget_shows(self, job_id: str) -> None:
        """Start the job's show count afresh (`set_state`: polls:N counts from there)."""
        self._db.execute("DELETE FROM shows WHERE job_id = ?", (job_id,))

    def show_count(self, job_id: str, state: str) -> int:
        """How many shows the job has had in `state` since it came into it (0: none counted)."""
        row = self._db.execute(
            "SELECT count FROM shows WHERE job_id = ? AND state = ?", (job_id, state)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def count_show(self, read: Job) -> int:
        """Count one show of a job the show read as `read`; answer its shows in that state (1
        after a change).

        The count lands only if the job is still in that state, progress mode and steering
        generation: 0, and nothing written, when it is gone (a reset came between the show's
        read and this count, which leaves nothing behind) or was moved or steered meanwhile (a
        `set_state` or `set_job_progress`, even a pair that brought it back to the state and
        mode read; another show's step). A stale show never bumps nor restarts the count of a
        state it did not see (issue 19, item 1: set_state/show).
        """
        row = self._db.execute(
            "INSERT INTO shows (job_id, state, count) SELECT ?, ?, 1 WHERE EXISTS"
            " (SELECT 1 FROM jobs WHERE job_id = ? AND state = ? AND progress = ?"
            " AND generation = ?)"
            " ON CONFLICT (job_id) DO"
            " UPDATE SET count = CASE WHEN state = excluded.state THEN count + 1 ELSE 1 END,"
            " state = excluded.state RETURNING count",
            (read.job_id, read.state, read.job_id, read.state, read.progress, read.generation),
        ).fetchone()
        return 0 if row is None else int(row[0])


def _clear(db: sqlite3.Connection) -> int:
    """Reset's part: forget every job (answered: how many) and its show counts."""
    removed = db.execute("DELETE FROM jobs").rowcount
    db.execute("DELETE FROM shows")
    return int(removed)


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
        generation=row["generation"],
    )
