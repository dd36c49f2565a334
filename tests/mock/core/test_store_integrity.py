"""A damaged SQLite store is found at start (`PRAGMA integrity_check`, every row read): the mock
stops with one line and exit status 1, and the file is left exactly as it was."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.core.database import DamagedStore, Database, NotAStore
from mock_server.service.store import Job, Store


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


def test_a_directory_in_the_stores_place_is_said_as_such(tmp_path: Path) -> None:
    (tmp_path / "jobs.sqlite3").mkdir()
    with pytest.raises(NotAStore) as caught:
        Database(tmp_path / "jobs.sqlite3")
    assert "is a directory, not a SQLite file" in str(caught.value)


def store_with_jobs(data: Path, count: int) -> Path:
    store = Store(data / "jobs.sqlite3")
    for index in range(count):
        store.insert(
            Job(f"job-{index:04d}", "p" * 32, "VOICE_ASSESS", "CN", None, "CREATING", 1, 1, "0")
        )
    store.database.close()
    db = sqlite3.connect(data / "jobs.sqlite3")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return data / "jobs.sqlite3"


@settings(max_examples=40, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.floats(0, 1), st.integers(1, 64), st.binary(min_size=1)), max_size=3
    )
)
def test_any_damage_is_refused_untouched_or_every_job_still_reads(
    spans: list[tuple[float, int, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Random bytes over random places of a store of 60 jobs: either the mock refuses it at
    start (the file as it was), or it starts and every job reads back (no 500 later). Found
    with it: text that is not UTF-8 in a cell, and a job id changed under its index, both of
    which passed `PRAGMA quick_check`."""
    path = store_with_jobs(tmp_path_factory.mktemp("data"), 60)
    data = bytearray(path.read_bytes())
    for where, length, pattern in spans:
        at = int(where * (len(data) - 1))
        data[at : at + length] = (pattern * length)[: len(data[at : at + length])]
    path.write_bytes(bytes(data))
    before = digest(path)
    try:
        store = Store(path)
    except (DamagedStore, NotAStore):
        assert digest(path) == before
        return
    try:
        listed = store.jobs(1000)
        for job in listed:
            assert store.get(job.job_id) is not None
        assert store.count() == len(listed)
    finally:
        store.database.close()
