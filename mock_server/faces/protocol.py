"""The HTTP/1.1 protocol the mock serves with: uvicorn's own, each answer sent in one write.

uvicorn writes an answer's status line and headers when the app sends `http.response.start`, and
its body when the app sends `http.response.body`: two `transport.write` calls, so two write(2)
system calls and, with TCP_NODELAY (uvicorn sets it), two TCP segments, each delivered to the
client and acknowledged on its own. On loopback that was a quarter of a show's server CPU
(bench/README.md, "Figures seen", 2026-12-04 evening: 119 to 88 us of CPU per show).
`CoalescingTransport` holds what is written during one turn of the event loop and writes it as
one (`loop.call_soon`), so an answer whose start and body are sent in one step of its task goes
out whole; the bytes and their order are exactly what uvicorn wrote.

`PROTOCOL` is what `http="auto"` picks (httptools if it is installed, else h11) with its
`connection_made` handing uvicorn the coalescing transport: uvicorn's `Config(http=...)` takes a
protocol class. The hook is listed in `mock_server/http/hooks.py` ("coalesced-writes").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, cast

# A write at least this big goes out at once (after what is held): coalescing saves a system
# call per answer, and joining would copy a big body for nothing. What is held goes out as soon
# as it reaches this size too: an app that streams many small chunks in one turn holds at most
# this much here, and the transport's own flow control (pause_writing) sees the rest.
DIRECT_BYTES = 16 * 1024


class CoalescingTransport(asyncio.Transport):
    """An `asyncio.Transport` over `transport` whose small writes of one event-loop turn are
    written as one, at the end of the turn (or once they reach `DIRECT_BYTES`). Closing and
    half-closing first write what is held, the write buffer's size counts it; aborting drops
    it, as aborting drops the transport's own buffer. Everything else is the transport's."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self.transport = transport
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= DIRECT_BYTES:
            self.flush()
            self.transport.write(data)
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= DIRECT_BYTES:
            self.flush()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Write what is held now (a no-op when nothing is). A connection already closing
        takes no more data: what is held is dropped, as the transport would drop it."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def abort(self) -> None:
        self._held.clear()
        self._held_bytes = 0
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + self._held_bytes

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()


class CoalescedWrites(asyncio.Protocol):
    """Put before uvicorn's protocol class: it gets the coalescing transport."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is no subclass of asyncio.Transport, but has its methods
        super().connection_made(CoalescingTransport(cast(asyncio.Transport, transport)))


try:  # as uvicorn's "auto" picks (uvicorn/protocols/http/auto.py)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Uvicorns
except ImportError:  # no httptools here
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Uvicorns  # type: ignore[assignment]


class CoalescedHttpProtocol(CoalescedWrites, _Uvicorns):
    """uvicorn's HTTP/1.1 protocol (httptools', else h11's), writing through a
    `CoalescingTransport`. A module-level class: uvicorn's spawned workers (no fork) pickle it
    by name."""


PROTOCOL: type[asyncio.Protocol] = CoalescedHttpProtocol
