"""A damaged SQLite store is found at start (`PRAGMA quick_check`): the mock stops with one line
and exit status 1, and the file is left exactly as it was."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.core.database import DamagedStore, Database


def real_store(data: Path) -> Path:
    """A store the mock wrote itself (its schema), plus enough rows for several pages."""
    path = data / "jobs.sqlite3"
    Database(path).close()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE filler (x TEXT)")
    db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def damage_page(path: Path, page: int) -> None:
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[size * (page - 1) : size * (page - 1) + 100] = b"\xff" * 100
    path.write_bytes(bytes(data))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_healthy_store_opens(tmp_path: Path) -> None:
    Database(real_store(tmp_path)).close()


@pytest.mark.parametrize("page", [1, 2, 3])
def test_a_damaged_page_is_refused_and_left_alone(tmp_path: Path, page: int) -> None:
    path = real_store(tmp_path)
    damage_page(path, page)
    before = digest(path)
    with pytest.raises(DamagedStore) as caught:
        Database(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert digest(path) == before


@pytest.mark.slow
def test_the_mock_process_stops_with_one_line(tmp_path: Path) -> None:
    path = real_store(tmp_path)
    damage_page(path, 3)
    before = digest(path)
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "damaged" in lines[0] and str(path) in lines[0]
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.sqlite3"]
