"""The mock's one SQLite file (WAL), shared by every worker process and every store in it.

Connection discipline: each process opens one connection and uses it only from its event-loop
thread (the server's handlers are async and never hand the connection to a thread), so no lock is
needed inside a process. Between processes, SQLite's WAL gives readers a consistent snapshot and
`BEGIN IMMEDIATE` serialises read-modify-write transactions.

Each store keeps tables of its own here (the jobs: `mock_server.service.store`; the control
plane's journal, faults and settings: `mock_server.control.store`; IAM's tokens and credentials:
`mock_server.iam.store`) and says how to clear them: `reset()` clears every store's tables in one
transaction, the one reset of the mock's state. Nothing leaves the file except through it, so a
restart (also after `kill -9`: WAL with synchronous=NORMAL survives a process crash) finds all.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
SCHEMA_VERSION = 1
# How long a process waits for another's write lock before SQLite gives up (busy timeout).
BUSY_SECONDS = 10.0

# Clears a store's tables inside reset's transaction; answers how many rows it removed.
Clear = Callable[[sqlite3.Connection], int]


class DamagedStore(RuntimeError):
    """The SQLite file fails its integrity check; `str()` is one line naming the file."""

    def __init__(self, path: Path, problem: str) -> None:
        first = " ".join(problem.split())  # one line, whatever SQLite said
        super().__init__(
            f"the store {path} is damaged ({first}); nothing was changed: restore it from a "
            "copy, or move it away to start with an empty store"
        )
        self.path = path


class NotAStore(RuntimeError):
    """The store's path holds something other than a file (a directory, a device...)."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"the store {path} is {what}, not a SQLite file; nothing was changed: move it away "
            "to start with an empty store"
        )
        self.path = path


# How many forks this process is from the one that imported this module: a connection opened at
# another count was the parent's. Counted at each fork rather than compared with os.getpid(),
# which is a system call, made twice per request (`Database.connection` is asked at each use).
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # no fork() without it (Windows)
    os.register_at_fork(after_in_child=_forked)


class Database:
    """The SQLite file at `path`, its connection of this process, and the stores' tables.

    The connection is per process: opened on first use in each process, so a database built
    before a fork (gunicorn's preload) serves every worker after `close()`, and no connection
    crosses a fork (SQLite forbids using one in a child). Creating tables is safe when several
    processes open a fresh file at once: see `_switch_to_wal` and `add_tables`.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._forks = -1  # `_forks` when the connection was opened
        self._clears: dict[str, Clear] = {}
        self._check_is_file()
        self._check_integrity()
        self._switch_to_wal()

    @property
    def connection(self) -> sqlite3.Connection:
        """This process's connection (opened on first use; the event-loop thread only). Ask for
        it at each use: it changes after a fork or `close()`."""
        if self._connection is None or self._forks != _forks:
            # After a fork the parent's connection is left alone (never used nor closed here).
            self._connection = self._open()
            self._forks = _forks
        return self._connection

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=False
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _check_is_file(self) -> None:
        """Raise NotAStore if the path exists and is no regular file (SQLite would only say
        "unable to open database file", as for a damaged one)."""
        if self.path.exists() and not self.path.is_file():
            raise NotAStore(self.path, "a directory" if self.path.is_dir() else "no regular file")

    def _check_integrity(self) -> None:
        """Refuse a damaged file before anything is written to it: `PRAGMA integrity_check`
        must answer "ok", and every row must read (`_check_values`).

        Not `quick_check`, which skips the index entries against their tables: a damaged cell
        in a job's id leaves the job unfindable by id through its index while every page is
        sound (found by tests/mock/core/test_store_integrity.py's property test). The cost is
        O(N log N) reads at start (SQLite's PRAGMA documentation): measured 0.09 s against
        quick_check's 0.03 s for 100,000 jobs; with every row read, the store opens in 0.4 s.

        Raises DamagedStore naming the file and SQLite's first complaint; the file, its WAL and
        its shared-memory index are left exactly as found (the check only reads, and no journal
        mode or schema version is set before it). Without this check the mock would start and
        answer 500 to every request that touches a damaged page.
        """
        try:
            rows = self.connection.execute("PRAGMA integrity_check(1)").fetchall()
        # "file is not a database", "malformed"...; ValueError: SQLite's complaint quoting
        # schema text that is not UTF-8 (the sqlite3 module cannot even decode the message)
        except (sqlite3.DatabaseError, ValueError) as error:
            self.close()
            raise DamagedStore(self.path, str(error)) from error
        problems = [str(row[0]) for row in rows if str(row[0]) != "ok"]
        if problems:
            self.close()
            raise DamagedStore(self.path, problems[0])
        self._check_values()

    def _check_values(self) -> None:
        """Raise DamagedStore unless every row of every table reads: integrity_check proves the
        pages and indexes sound, not the values in them, and a damaged cell's text that is not
        UTF-8 would fail every request that reads its row. (What a value means is its store's
        check.)"""
        connection = self.connection
        cursor = connection.cursor()
        cursor.row_factory = None  # plain tuples: the values are read, not used
        tables = [
            str(row[0])
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        try:
            for table in tables:
                for _ in cursor.execute(f"SELECT * FROM {_quoted(table)}"):
                    pass
        except (sqlite3.Error, ValueError) as error:  # ValueError: a column name not UTF-8
            self.close()
            raise DamagedStore(self.path, f"a row of table {table}: {error}") from error

    def _switch_to_wal(self) -> None:
        """Switch the file to WAL, whoever comes first, and refuse a newer mock's file.

        Several processes may do this at once on a fresh file (`--workers` without a preload,
        two mocks on one data dir). SQLite answers SQLITE_BUSY without waiting where waiting
        could deadlock: a connection holding a read lock that wants to write while another
        does the same (both `PRAGMA journal_mode=WAL` on a file still in rollback mode, or a
        read that upgrades). So the switch, which cannot run inside a transaction, is retried on
        SQLITE_BUSY until `BUSY_SECONDS` have passed, and tables are made inside `BEGIN
        IMMEDIATE` (the write lock first, waited for with the busy timeout).
        """
        _retry_busy(lambda: self.connection.execute("PRAGMA journal_mode=WAL"))
        with self.transaction():
            version = self.connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer mock (schema {version} > {SCHEMA_VERSION})"
                )
            if version != SCHEMA_VERSION:  # a write only when it changes: a refused file stays
                self.connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def add_tables(self, name: str, statements: Iterable[str], clear: Clear) -> None:
        """Create a store's tables (`CREATE ... IF NOT EXISTS`) under the write lock, and have
        `reset()` call `clear` for them, under `name`.

        Raises DamagedStore (nothing written) if a table of the file's is not the declared one:
        its columns must be the declared columns, or the first of them (a file from an earlier
        mock, whose store then adds the rest). A damaged schema page can rename a column or make
        its declaration unreadable, and every request on that table would answer 500."""
        statements = [statement for statement in statements if statement.strip()]
        self._check_schema(statements)
        with self.transaction():
            for statement in statements:
                self.connection.execute(statement)
        self._clears[name] = clear

    def _check_schema(self, statements: list[str]) -> None:
        declared = sqlite3.connect(":memory:")
        try:
            for statement in statements:
                declared.execute(statement)
            tables = {
                str(row[0]): columns(declared, str(row[0]))
                for row in declared.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            declared.close()
        for table, declared_columns in tables.items():
            try:
                found = columns(self.connection, table)
            except (sqlite3.Error, ValueError) as error:
                self.close()
                raise DamagedStore(self.path, f"the schema of table {table}: {error}") from error
            if found and found != declared_columns[: len(found)]:
                self.close()
                raise DamagedStore(
                    self.path,
                    f"table {table} has columns {found}, not the declared {declared_columns}",
                )

    def reset(self) -> dict[str, int]:
        """Clear every store's tables in one transaction; answer the rows removed, by store."""
        with self.transaction():
            return {name: clear(self.connection) for name, clear in self._clears.items()}

    def close(self) -> None:
        """Close this process's connection; the next use opens a new one."""
        if self._connection is not None and self._forks == _forks:
            self._connection.close()
        self._connection = None

    @contextmanager
    def _write(self) -> Iterator[None]:
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """`BEGIN IMMEDIATE` ... `COMMIT` (rolled back on an exception)."""
        return self._write()


def _quoted(name: str) -> str:
    """An SQL identifier for `name` (any text: a damaged schema's names are not ours)."""
    return '"' + name.replace('"', '""') + '"'


def columns(connection: sqlite3.Connection, table: str) -> list[str]:
    """`table`'s column names in order (none if there is no such table)."""
    return [str(row[1]) for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")]


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
