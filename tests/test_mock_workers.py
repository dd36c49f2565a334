"""`--workers 2`: both worker processes serve the same jobs from the shared SQLite store.

Each request goes over a fresh connection, and the test finds which process accepted that
connection (Linux: the server side of the socket in /proc/net/tcp, then the process, the mock or
one of its descendants, whose file descriptors hold it), so it can send a request to the worker
it wants; how the workers are started (spawned or forked) does not matter. Waiting is always for
a condition (a connection accepted, a job finished), bounded, never a fixed sleep.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mock_server.config import DEFAULT_PROJECT_ID, DEFAULT_TOKEN

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").is_file(), reason="finds the serving worker through Linux /proc"
)

COLLECTION = f"/v1/{DEFAULT_PROJECT_ID}/voice-training-manage/user/short-jobs"
HEADERS = {"X-Auth-Token": DEFAULT_TOKEN, "Content-Type": "application/json"}
# Bounds, not expectations: each loop ends as soon as its condition holds.
START_SECONDS = 30.0
ACCEPT_SECONDS = 10.0
ATTEMPTS = 400


class Workers:
    """`python -m mock_server --workers 2` on a free port, and which worker serves a socket."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.pids: list[int] = []

    def wait_started(self) -> None:
        """Wait until it answers, then until two processes have each accepted a connection."""
        deadline = time.monotonic() + START_SECONDS
        while not self._ready():
            assert self.process.poll() is None, "the mock exited"
            assert time.monotonic() < deadline, "the mock did not become ready"
            time.sleep(0.05)
        seen: set[int] = set()
        for _ in range(ATTEMPTS):
            connection, pid = self.connect()
            connection.close()
            seen.add(pid)
            if len(seen) == 2:
                break
        assert len(seen) == 2, f"{ATTEMPTS} connections were all accepted by {seen}"
        self.pids = sorted(seen)

    def _ready(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def connect(self) -> tuple[http.client.HTTPConnection, int]:
        """A fresh connection and the PID of the worker that accepted it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.connect()
        assert connection.sock is not None
        client_port: int = connection.sock.getsockname()[1]
        deadline = time.monotonic() + ACCEPT_SECONDS
        while True:
            pid = self._owner(client_port)
            if pid is not None:
                return connection, pid
            if time.monotonic() > deadline:
                connection.close()
                raise AssertionError("no worker accepted the connection")
            time.sleep(0.002)

    def connect_to(self, pid: int) -> http.client.HTTPConnection:
        """A fresh connection that the worker `pid` accepted (others are closed unused)."""
        for _ in range(ATTEMPTS):
            connection, owner = self.connect()
            if owner == pid:
                return connection
            connection.close()
        raise AssertionError(f"worker {pid} accepted none of {ATTEMPTS} connections")

    def _owner(self, client_port: int) -> int | None:
        inode = _server_socket_inode(self.port, client_port)
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for pid in _family(self.process.pid):
            fd_dir = Path(f"/proc/{pid}/fd")
            for fd in _listdir(fd_dir):
                try:
                    if os.readlink(fd_dir / fd) == target:
                        return pid
                except OSError:
                    continue
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _family(pid: int) -> list[int]:
    """The process and all its descendants."""
    family, pending = [], [pid]
    while pending:
        current = pending.pop()
        family.append(current)
        for task in _listdir(Path(f"/proc/{current}/task")):
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            pending.extend(int(child) for child in children)
    return family


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the connection from 127.0.0.1:client_port."""
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote and fields[9] != "0":
            return fields[9]
    return None


def _call(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    try:
        connection.request(method, path, body=body, headers=headers or HEADERS)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    data = (
        json.loads(raw) if raw and response.getheader("content-type", "").endswith("json") else raw
    )
    return response.status, data


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "--workers",
            "2",
            "--port",
            str(port),
            "--iam-port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--processing-seconds",
            "0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        server = Workers(process, port)
        server.wait_started()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _create(server: Workers, pid: int | None = None) -> tuple[dict[str, str], int]:
    if pid is None:
        connection, pid = server.connect()
    else:
        connection = server.connect_to(pid)
    status, job = _call(connection, "POST", COLLECTION, b'{"job_type": "VOICE_ASSESS"}')
    assert status == 200, job
    return job, pid


def test_every_show_after_create_succeeds_on_fresh_connections(workers: Workers) -> None:
    """50 jobs, each created and then shown over fresh connections: every show finds its job,
    and some jobs were created by one worker and shown by the other, both ways round."""
    pairs: set[tuple[int, int]] = set()
    for n in range(ATTEMPTS):
        job, created_by = _create(workers)
        connection, shown_by = workers.connect()
        status, shown = _call(connection, "GET", f"{COLLECTION}/{job['job_id']}")
        assert status == 200, shown
        assert shown["job_id"] == job["job_id"] and shown["state"] == "CREATING"
        pairs.add((created_by, shown_by))
        a, b = workers.pids
        if n + 1 >= 50 and {(a, b), (b, a)} <= pairs:
            break
    a, b = workers.pids
    assert {(a, b), (b, a)} <= pairs, f"no cross-worker create/show in {ATTEMPTS}: {pairs}"


@pytest.mark.parametrize("direction", ["first-to-second", "second-to-first"])
def test_a_job_created_by_one_worker_goes_all_the_way_through_the_other(
    workers: Workers, recordings: Path, direction: str
) -> None:
    creator, other = workers.pids if direction == "first-to-second" else workers.pids[::-1]
    job, _ = _create(workers, creator)
    item = f"{COLLECTION}/{job['job_id']}"

    status, shown = _call(workers.connect_to(other), "GET", item)
    assert status == 200 and shown["state"] == "CREATING", shown

    url = urlsplit(job["data_uploading_url"])
    status, answer = _call(
        workers.connect_to(other),
        "PUT",
        f"{url.path}?{url.query}",
        body=recordings.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert status == 200, answer

    # committed through the creator, after the other worker stored the upload
    status, answer = _call(workers.connect_to(creator), "POST", item)
    assert status == 200, answer
    # a second commit is refused by the other worker: it sees the first one
    status, refused = _call(workers.connect_to(other), "POST", item)
    assert status == 400 and refused["error_code"] == "MSS.00000003", refused

    deadline = time.monotonic() + 60
    while True:
        status, shown = _call(workers.connect_to(other), "GET", item)
        assert status == 200, shown
        if shown["state"] in ("SUCCEED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert shown["state"] == "SUCCEED", shown
    status, again = _call(workers.connect_to(creator), "GET", item)
    assert status == 200 and again == shown
