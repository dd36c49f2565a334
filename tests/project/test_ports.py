"""The tests' own loopback ports (tests/ports.py): no two xdist workers can hand out the same
port, none is an ephemeral one (an outgoing connection's own end), and one process never hands
out a pair twice while the slice lasts.

The CI failure this answers: a port the OS picked (bind to 0) was released and, before the
recording proxy bound it, taken by another worker (EADDRINUSE)."""

from __future__ import annotations

import socket

import ports
import pytest
from hypothesis import given
from hypothesis import strategies as st


def _slice_of(monkeypatch: pytest.MonkeyPatch, worker: int, count: int) -> range:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(count))
    return ports._slice()


@given(count=st.integers(1, 64), data=st.data())
def test_workers_slices_are_disjoint_and_outside_the_ephemeral_range(
    count: int, data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, count - 1))
    second = data.draw(st.integers(0, count - 1))
    with pytest.MonkeyPatch.context() as patch:
        one = _slice_of(patch, first, count)
        other = _slice_of(patch, second, count)
    low, high = ports._ephemeral()
    pairs = {p for start in one for p in (start, start + 1)}
    assert len(one) > 0
    assert all(not low <= p <= high and 1024 <= p <= 65535 for p in pairs)
    if first != second:
        assert not pairs & {p for start in other for p in (start, start + 1)}


def test_one_process_hands_out_distinct_free_pairs() -> None:
    handed = ports.free_ports(20)
    pairs = {p for port in handed for p in (port, port + 1)}
    assert len(pairs) == 2 * len(handed)
    with socket.socket() as server:  # and each is bindable as handed out
        server.bind(("127.0.0.1", handed[-1]))


def test_a_held_port_is_skipped() -> None:
    with socket.socket() as other:
        held = ports.free_port()
        other.bind(("127.0.0.1", held + 1))
        # the next turns skip any pair of which a port is held; a whole cycle never returns it
        assert held not in [ports.free_port() for _ in ports._slice()]


def test_avoided_ports_are_not_handed_out() -> None:
    avoid = set(ports.free_ports(3))
    assert not set(ports.free_ports(5, avoid=avoid)) & avoid
