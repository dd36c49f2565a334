"""Loopback ports for tests that start a server of their own, safe under pytest-xdist.

Why not the OS's pick (bind to port 0, close, hand the number on): that port comes from the
ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), which every outgoing connection's
own end and every other worker's bind(0) also draw from. Between the probe's close and the
server's bind, another xdist worker can take it, and the server fails with EADDRINUSE.

These ports come from outside the ephemeral range instead, from a slice of their own per xdist
worker (PYTEST_XDIST_WORKER gwN of PYTEST_XDIST_WORKER_COUNT), handed out in turn by this
process and checked free (bound, without SO_REUSEADDR) when handed out. Each port handed out
has the next one reserved with it: the mock's IAM listens on --port + 1 by default, and a test
may hold one of the two while it needs the other free.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

# Below this, ports are the registered services' (IANA, RFC 6335); the slices start here.
_LOWEST = 10000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral() -> tuple[int, int]:
    """The OS's ephemeral range, first and last port; Linux's default where it cannot be read."""
    try:
        low, high = (int(part) for part in _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def _span() -> range:
    """The larger of the two stretches outside the ephemeral range: above _LOWEST below it, or
    above it up to 65534 (65535 has no next port)."""
    low, high = _ephemeral()
    below = range(_LOWEST, max(_LOWEST, low))
    above = range(min(high + 1, 65535), 65535)
    return below if len(below) >= len(above) else above


def _slice() -> range:
    """This worker's share of the span, whole pairs only."""
    span = _span()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    index = int(worker) % count if worker.isdigit() else 0
    size = len(span) // count // 2 * 2
    start = span.start + index * size
    return range(start, start + size, 2)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class _Allocator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turn: Iterator[int] | None = None

    def take(self, avoid: set[int]) -> int:
        """The next pair's first port whose pair is free now and not in `avoid`; raises
        RuntimeError if none in the whole slice is."""
        with self._lock:
            pairs = _slice()
            if self._turn is None:
                # Two suites at once (two checkouts, two users) share the slices: each process
                # starts at its own place in its slice, so their turns rarely meet.
                start = os.getpid() % len(pairs)
                self._turn = itertools.cycle([*pairs[start:], *pairs[:start]])
            for _ in range(len(pairs)):
                port = next(self._turn)
                if {port, port + 1} & avoid:
                    continue
                if _bindable(port) and _bindable(port + 1):
                    return port
        raise RuntimeError(f"no free pair of loopback ports in {pairs}")


_ALLOCATOR = _Allocator()


def free_port() -> int:
    """A loopback port free now, that no other xdist worker hands out, with the next one
    reserved too (see the module's docstring). Raises RuntimeError if the slice is full."""
    return _ALLOCATOR.take(set())


def free_ports(count: int, avoid: Iterable[int] = ()) -> list[int]:
    """`count` distinct ports as free_port gives them, neither of whose pair is in `avoid`."""
    taken = set(avoid)
    ports: list[int] = []
    for _ in range(count):
        port = _ALLOCATOR.take(taken)
        ports.append(port)
        taken |= {port, port + 1}
    return ports
