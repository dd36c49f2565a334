"""Created projects, issued tokens and temporary credentials, in tables of their own in the mock's
SQLite store.

They use the database's connection of this process (same discipline: the event-loop thread;
asked for at each use, since the database reopens it after a fork), are created here under its
write lock (`Database.add_tables`), and the one reset (`Database.reset`) clears them.
Expired rows are kept a day (so a late caller hears "expired", not "unknown"), then pruned.
"""

from __future__ import annotations

import sqlite3

from mock_server.core.database import Database
from mock_server.iam.model import IssuedToken, Project, TemporaryCredential

_TABLES = (
    """CREATE TABLE IF NOT EXISTS iam_tokens (
        digest TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        domain_name TEXT NOT NULL,
        project_id TEXT NOT NULL,
        issued_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS iam_credentials (
        access TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        security_token TEXT NOT NULL,
        user_name TEXT NOT NULL,
        issued_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS iam_projects (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        domain_id TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
)
KEEP_EXPIRED_SECONDS = 24 * 60 * 60


class IamStore:
    def __init__(self, database: Database) -> None:
        self._database = database
        database.add_tables("iam", _TABLES, _clear)

    @property
    def _db(self) -> sqlite3.Connection:
        return self._database.connection

    def add_token(self, token: IssuedToken) -> None:
        with self._database.transaction():
            self._prune("iam_tokens", token.issued_at)
            self._db.execute(
                "INSERT INTO iam_tokens (digest, user_name, domain_name, project_id, issued_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    token.digest,
                    token.user_name,
                    token.domain_name,
                    token.project_id,
                    token.issued_at,
                    token.expires_at,
                ),
            )

    def token(self, digest: str) -> IssuedToken | None:
        row = self._db.execute("SELECT * FROM iam_tokens WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else IssuedToken(**dict(row))

    def add_credential(self, credential: TemporaryCredential) -> None:
        with self._database.transaction():
            self._prune("iam_credentials", credential.issued_at)
            self._db.execute(
                "INSERT INTO iam_credentials (access, secret, security_token, user_name,"
                " issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    credential.access,
                    credential.secret,
                    credential.security_token,
                    credential.user_name,
                    credential.issued_at,
                    credential.expires_at,
                ),
            )

    def credential(self, access: str) -> TemporaryCredential | None:
        """The temporary credential of AK `access`, or None (also for any AK that is not text
        SQLite can hold: a header's undecodable bytes arrive as lone surrogates)."""
        if not _storable(access):
            return None
        row = self._db.execute(
            "SELECT * FROM iam_credentials WHERE access = ?", (access,)
        ).fetchone()
        return None if row is None else TemporaryCredential(**dict(row))

    def add_project(self, project: Project) -> bool:
        """Store a created project; False (nothing stored) if its name is taken."""
        with self._database.transaction():
            found = self._db.execute(
                "SELECT 1 FROM iam_projects WHERE name = ?", (project.name,)
            ).fetchone()
            if found is not None:
                return False
            self._db.execute(
                "INSERT INTO iam_projects (id, name, domain_id, description, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    project.id,
                    project.name,
                    project.domain_id,
                    project.description,
                    project.created_at,
                ),
            )
        return True

    def projects(self, domain_id: str) -> list[Project]:
        """The projects created in domain `domain_id`, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM iam_projects WHERE domain_id = ? ORDER BY created_at, id", (domain_id,)
        ).fetchall()
        return [Project(**dict(row)) for row in rows]

    def project(self, project_id: str) -> Project | None:
        """The created project `project_id` (any domain), or None (also for an id that is not
        text SQLite can hold)."""
        if not _storable(project_id):
            return None
        row = self._db.execute("SELECT * FROM iam_projects WHERE id = ?", (project_id,)).fetchone()
        return None if row is None else Project(**dict(row))

    def _prune(self, table: str, now: float) -> None:
        self._db.execute(f"DELETE FROM {table} WHERE expires_at < ?", (now - KEEP_EXPIRED_SECONDS,))


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clear(db: sqlite3.Connection) -> int:
    return int(
        db.execute("DELETE FROM iam_tokens").rowcount
        + db.execute("DELETE FROM iam_credentials").rowcount
        + db.execute("DELETE FROM iam_projects").rowcount
    )
