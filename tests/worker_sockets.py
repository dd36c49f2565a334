"""Which worker process of `python -m mock_server --workers N` serves a connection (Linux).

Each request goes over a fresh connection, and `Workers` finds which process accepted that
connection (the server side of the socket in /proc/net/tcp, then the process, the mock or one of
its descendants, whose file descriptors hold it), so a test can send a request to the worker it
wants; how the workers are started (spawned or forked) does not matter. Waiting is always for a
condition (a connection accepted), bounded, never a fixed sleep.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from pathlib import Path

# Bounds, not expectations: each loop ends as soon as its condition holds.
START_SECONDS = 30.0
ACCEPT_SECONDS = 10.0
ATTEMPTS = 400

AVAILABLE = Path("/proc/net/tcp").is_file()
"""Whether this system shows sockets as /proc does (Linux); skip the tests that need it if not."""


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
        for pid in family(self.process.pid):
            fd_dir = Path(f"/proc/{pid}/fd")
            for fd in _listdir(fd_dir):
                try:
                    if os.readlink(fd_dir / fd) == target:
                        return pid
                except OSError:
                    continue
        return None


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def family(pid: int) -> list[int]:
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
