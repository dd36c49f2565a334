"""Which worker process of `python -m mock_server --workers N` serves a connection (Linux).

Each request goes over a fresh connection, and `Workers` finds which process accepted that
connection (the inode of the server side of the socket, from the kernel's sock_diag or else
/proc/net/tcp, then the process, the mock or one of its descendants, whose file descriptors hold
it), so a test can send a request to the worker it wants; how the workers are started (spawned
or forked) does not matter. Waiting is always for a condition (a connection accepted), bounded,
never a fixed sleep.
"""

from __future__ import annotations

import http.client
import os
import socket
import struct
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
    """The inode of the server's end of the connection from 127.0.0.1:client_port (None until
    a process accepted it): asked of the kernel for that one socket (sock_diag), else read from
    /proc/net/tcp."""
    try:
        return _diag_inode(server_port, client_port)
    except OSError:
        return _proc_inode(server_port, client_port)


# sock_diag (linux/sock_diag.h, linux/inet_diag.h): one request for one socket by its addresses.
# /proc/net/tcp lists every socket of the machine, TIME_WAIT ones included: thousands of lines
# after a few suites' connections, milliseconds to generate and read for every connection these
# tests make (most of the worker races' time); the exact lookup takes microseconds.
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NO_COOKIE = 0xFFFFFFFF
_LOOPBACK = socket.inet_aton("127.0.0.1") + bytes(12)  # __be32 [4]: IPv4 in the first word


def _diag_inode(server_port: int, client_port: int) -> str | None:
    sockid = (
        struct.pack(">HH", server_port, client_port)  # the server's end: sport, dport
        + _LOOPBACK
        + _LOOPBACK
        + struct.pack("<III", 0, _NO_COOKIE, _NO_COOKIE)  # any interface, no cookie
    )
    request = struct.pack("<BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    header = struct.pack("<IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as netlink:
        netlink.sendto(header + request, (0, 0))
        answer = netlink.recv(65536)
    kind = struct.unpack_from("<H", answer, 4)[0]
    if kind == _NLMSG_ERROR:  # ENOENT: no such socket (yet)
        return None
    # struct inet_diag_msg: family, state, timer, retrans, the sockid, then expires, rqueue,
    # wqueue, uid, inode; the lookup falls back to the listening socket (its dport is 0)
    dport: int = struct.unpack_from(">H", answer, 16 + 4 + 2)[0]
    inode: int = struct.unpack_from("<I", answer, 16 + 4 + 48 + 16)[0]
    return str(inode) if dport == client_port and inode != 0 else None


def _proc_inode(server_port: int, client_port: int) -> str | None:
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote and fields[9] != "0":
            return fields[9]
    return None
