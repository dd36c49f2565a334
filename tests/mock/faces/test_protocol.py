"""The coalescing transport (mock_server/faces/protocol.py) over a real socket: every byte
written arrives, in order, and the small writes of one event-loop turn reach the socket's
transport as one write; closing writes what is held, aborting drops it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.faces.cli import uvicorn_options
from mock_server.faces.inprocess import RunningMock
from mock_server.faces.protocol import DIRECT_BYTES, PROTOCOL, CoalescingTransport
from mock_server.faces.supervisor import MockWorker


class Counting:
    """A transport's stand-in that records every write it passes on to the real one."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def _expected_writes(program: list[tuple[str, bytes]]) -> list[bytes]:
    """The writes the real transport is to see: what one turn held, joined (or as soon as it
    reaches DIRECT_BYTES); a big write alone."""
    expected: list[bytes] = []
    held: list[bytes] = []

    def flush() -> None:
        if held:
            expected.append(b"".join(held))
            held.clear()

    for operation, data in program:
        if operation == "write" and len(data) >= DIRECT_BYTES:
            flush()
            expected.append(data)
        elif operation == "write":
            held.append(data)
            if sum(map(len, held)) >= DIRECT_BYTES:
                flush()
        else:
            flush()
    flush()  # close
    return expected


async def _run(program: list[tuple[str, bytes]], *, abort: bool = False) -> tuple[bytes, Counting]:
    loop = asyncio.get_running_loop()
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    real, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    counting = Counting(real)
    transport = CoalescingTransport(counting)  # type: ignore[arg-type]

    async def read_all() -> bytes:
        chunks = []
        while chunk := await loop.sock_recv(peer, 65536):
            chunks.append(chunk)
        return b"".join(chunks)

    reader = asyncio.create_task(read_all())
    for operation, data in program:
        if operation == "write":
            transport.write(data)
        else:
            await asyncio.sleep(0)
    if abort:
        transport.abort()
    else:
        transport.close()
    received = await asyncio.wait_for(reader, 20)
    peer.close()
    return received, counting


_small = st.binary(min_size=1, max_size=64) | st.binary(min_size=4096, max_size=DIRECT_BYTES - 1)
_big = st.integers(DIRECT_BYTES, 3 * DIRECT_BYTES).map(lambda n: bytes([n % 251]) * n)
_programs = st.lists(
    st.one_of(
        st.tuples(st.just("write"), _small),
        st.tuples(st.just("write"), _big),
        st.tuples(st.just("turn"), st.just(b"")),
    ),
    max_size=30,
)


@settings(deadline=None)
@given(program=_programs)
def test_every_byte_arrives_in_order_in_one_write_per_turn(
    program: list[tuple[str, bytes]],
) -> None:
    received, counting = asyncio.run(_run(program))
    assert received == b"".join(data for operation, data in program if operation == "write")
    assert counting.writes == _expected_writes(program)


def test_an_answer_written_in_two_parts_reaches_the_socket_in_one_write() -> None:
    head, body = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", b"hello"
    received, counting = asyncio.run(_run([("write", head), ("write", body)]))
    assert received == head + body
    assert counting.writes == [head + body]


def test_aborting_drops_what_the_turn_held_and_keeps_what_went_before() -> None:
    received, counting = asyncio.run(
        _run([("write", b"sent"), ("turn", b""), ("write", b"held")], abort=True)
    )
    assert counting.writes == [b"sent"]
    assert b"held" not in received


def test_every_way_the_mock_serves_uses_the_protocol(
    mock: RunningMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MockWorker.CONFIG_KWARGS["http"] is PROTOCOL  # gunicorn's workers
    assert uvicorn_options(Settings(), None)["http"] is PROTOCOL  # one process
    writes: list[bytes] = []
    made = CoalescingTransport.__init__

    def counted(self: CoalescingTransport, transport: asyncio.Transport) -> None:
        made(self, transport)
        self.transport = _Into(transport, writes)  # type: ignore[assignment]

    monkeypatch.setattr(CoalescingTransport, "__init__", counted)
    with httpx.Client(base_url=mock.url) as client:  # the in-process mock: a new connection
        answers = [client.get("/") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200] * 3
    assert len(writes) == 3 and all(write.startswith(b"HTTP/1.1 200 ") for write in writes)


class _Into(Counting):
    def __init__(self, transport: asyncio.Transport, writes: list[bytes]) -> None:
        super().__init__(transport)
        self.writes = writes
