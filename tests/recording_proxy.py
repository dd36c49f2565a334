"""A recording proxy in front of an out-of-process mock: every exchange, checked against its spec.

`RecordingProxy` listens on a loopback port and joins each connection it accepts to one of its
own to the mock (one to one, so keep-alive, pipelining, a half-close and an answer sent before
the body was all read behave exactly as without it). It forwards the bytes unchanged, in both
directions, as they come, and on the side parses them as HTTP/1.1 messages (framing only:
`Content-Length`, chunked, or to the close) to record each exchange: method, target, status,
content type and body. Nothing is parsed into the forwarded stream: a stream it cannot parse
is still forwarded, only no longer recorded (`unparsed` counts such connections).

`exchange_problems(exchanges, control)` checks every recorded exchange against the spec it came
from (`spec_exchanges.SpecOperations`, the in-process `Watcher`'s checks): on the API port
`openapi.yaml`, plus `control.yaml` under `/_mock` when the mock serves the control plane; on
IAM's port `iam.yaml`. An armed fault's answers are the test's, not the spec's: from a fault
armed (`POST /_mock/faults` answered 2xx) until they are cleared (`DELETE /_mock/faults`) or
the mock reset, exchanges are not checked.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from spec_exchanges import SpecOperations, the_specs

_BUFFER = 65536
_HEAD_LIMIT = 1 << 20  # a head longer than this is no HTTP the mock answers: stop parsing


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as they crossed the proxy."""

    spec: str  # "api" or "iam": which of the mock's ports it reached
    method: str
    target: str
    status: int
    content_type: str | None
    body: bytes  # the answer's body, de-chunked
    sequence: int  # the order answers completed in, across connections

    @property
    def path(self) -> str:
        """The percent-decoded path, without the query: ASGI's `scope["path"]`."""
        return unquote(urlsplit(self.target).path or "/")


class _Unparsable(Exception):
    pass


@dataclass
class _Message:
    start: list[str]  # the start line's three parts
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name]
        return values[-1] if values else None


# How a message's body is framed, from its head: ("length", N), ("chunked", 0), ("none", 0), or
# ("close", 0): to the end of the stream, an answer's last resort.
Framing = Callable[[_Message], tuple[str, int]]


class _Parser:
    """An incremental HTTP/1.1 framing parser: `feed` bytes, get back the complete messages."""

    def __init__(self, framing: Framing) -> None:
        self.buffer = bytearray()
        self.framing = framing
        self.current: _Message | None = None
        self.remaining = 0
        self.mode = ""
        self.chunk_state = "size"  # "size", "data", "data-crlf", "trailers"
        self.heads: list[_Message] = []  # started messages, for a request's early answer

    def feed(self, data: bytes) -> list[_Message]:
        self.buffer.extend(data)
        done: list[_Message] = []
        while True:
            if self.current is None and not self._head():
                return done
            assert self.current is not None
            if not self._body():
                return done
            done.append(self.current)
            self.current = None

    def close(self) -> list[_Message]:
        """The stream ended: a body read to the close is complete."""
        if self.current is not None and self.mode == "close":
            self.current.body.extend(self.buffer)
            self.buffer.clear()
            finished, self.current = self.current, None
            return [finished]
        return []

    def _head(self) -> bool:
        while self.buffer.startswith(b"\r\n"):  # RFC 9112, 2.2: empty lines before a request
            del self.buffer[:2]
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > _HEAD_LIMIT:
                raise _Unparsable("head too long")
            return False
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        start = lines[0].split(" ", 2)
        if len(start) < 2:
            raise _Unparsable(f"start line {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise _Unparsable(f"header line {line!r}")
            headers.append((name.strip(), value.strip()))
        self.current = _Message(start, headers)
        self.heads.append(self.current)
        self.mode, self.remaining = self.framing(self.current)
        self.chunk_state = "size"
        return True

    def _body(self) -> bool:
        message = self.current
        assert message is not None
        if self.mode == "none":
            return True
        if self.mode == "length":
            taken = bytes(self.buffer[: self.remaining])
            del self.buffer[: len(taken)]
            message.body.extend(taken)
            self.remaining -= len(taken)
            return self.remaining == 0
        if self.mode == "close":
            message.body.extend(self.buffer)
            self.buffer.clear()
            return False
        return self._chunks(message)

    def _chunks(self, message: _Message) -> bool:
        while True:
            if self.chunk_state in ("size", "trailers", "data-crlf"):
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return False
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                if self.chunk_state == "data-crlf":
                    if line:
                        raise _Unparsable("chunk not followed by CRLF")
                    self.chunk_state = "size"
                elif self.chunk_state == "trailers":
                    if not line:
                        return True
                else:
                    try:
                        self.remaining = int(line.split(b";")[0].strip(), 16)
                    except ValueError:
                        raise _Unparsable(f"chunk size {line[:20]!r}") from None
                    self.chunk_state = "data" if self.remaining else "trailers"
            else:
                taken = bytes(self.buffer[: self.remaining])
                del self.buffer[: len(taken)]
                message.body.extend(taken)
                self.remaining -= len(taken)
                if self.remaining:
                    return False
                self.chunk_state = "data-crlf"


def _framed(message: _Message, unframed: str) -> tuple[str, int]:
    """Chunked, else Content-Length, else `unframed` (RFC 9112, 6.3)."""
    if "chunked" in (message.header("transfer-encoding") or "").lower():
        return "chunked", 0
    length = message.header("content-length")
    if length is None:
        return unframed, 0
    try:
        size = int(length)
    except ValueError:
        raise _Unparsable(f"Content-Length {length!r}") from None
    return ("length", size) if size else ("none", 0)


def _request_framing(message: _Message) -> tuple[str, int]:
    return _framed(message, "none")


def _response_framing(requests: deque[_Message]) -> Framing:
    """An answer's framing also depends on its request (HEAD) and its status."""

    def framing(message: _Message) -> tuple[str, int]:
        try:
            status = int(message.start[1])
        except (IndexError, ValueError):
            raise _Unparsable(f"status line {message.start!r}") from None
        if not requests:
            raise _Unparsable("an answer with no request")
        if requests[0].start[0] == "HEAD" or status < 200 or status in (204, 304):
            return "none", 0
        return _framed(message, "close")

    return framing


class RecordingProxy:
    """127.0.0.1:`port` -> 127.0.0.1:`upstream`, recording exchanges as `spec` ("api"/"iam")."""

    def __init__(self, port: int, upstream: int, spec: str) -> None:
        self.port = port
        self.upstream = upstream
        self.spec = spec
        self.exchanges: list[Exchange] = []
        self.unparsed = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind(("127.0.0.1", port))
            self._listener.listen(128)
        except OSError:
            self._listener.close()
            raise
        self._closed = False
        self._start(self._accept, "accept")

    def _start(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(
            target=target,
            args=args,
            name=f"recording-proxy-{self.port}-{name}",
            daemon=True,
        )
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                mock = socket.create_connection(("127.0.0.1", self.upstream), timeout=10)
                mock.settimeout(None)
            except OSError:
                client.close()  # the mock is not there (yet, or any more): as a refused connect
                continue
            for end in (client, mock):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._closed:
                    client.close()
                    mock.close()
                    return
                self._sockets |= {client, mock}
            requests: deque[_Message] = deque()
            self._start(self._pump, "up", client, mock, _Parser(_request_framing), requests, True)
            down = _Parser(_response_framing(requests))
            self._start(self._pump, "down", mock, client, down, requests, False)

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        parser: _Parser,
        requests: deque[_Message],
        upstream: bool,
    ) -> None:
        """Copy `source` to `sink` until it ends, parsing what passes (for the record only)."""
        parsing = True
        try:
            while True:
                try:
                    data = source.recv(_BUFFER)
                except OSError:
                    data = b""
                if parsing:
                    parsing = self._parse(parser, data, requests, upstream)
                if not data:
                    break
                try:
                    sink.sendall(data)
                except OSError:
                    break
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)  # pass the half-close on
            if not upstream:  # the answers' side ended: the connection is over
                self._forget(source, sink)

    def _parse(
        self, parser: _Parser, data: bytes, requests: deque[_Message], upstream: bool
    ) -> bool:
        try:
            if upstream:  # a request is queued from its head on: it may be answered early
                if data:
                    parser.feed(data)
                requests.extend(parser.heads)
                del parser.heads[:]
                return True
            answers = parser.feed(data) if data else parser.close()
            for answer in answers:
                self._record(answer, requests)
            del parser.heads[:]
            return True
        except _Unparsable:
            with self._lock:
                self.unparsed += 1
            return False

    def _record(self, answer: _Message, requests: deque[_Message]) -> None:
        status = int(answer.start[1])
        if status < 200:
            return  # an interim answer (100 Continue): the request's answer is still to come
        with self._lock:
            request = requests.popleft() if requests else None
            if request is None:
                return
            self.exchanges.append(
                Exchange(
                    spec=self.spec,
                    method=request.start[0],
                    target=request.start[1],
                    status=status,
                    content_type=answer.header("content-type"),
                    body=bytes(answer.body),
                    sequence=_next_sequence(),
                )
            )

    def _forget(self, *ends: socket.socket) -> None:
        """End the connection: shut down first, which wakes the other pump's `recv` (a close
        from another thread would not)."""
        for end in ends:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                end.close()
        with self._lock:
            self._sockets -= set(ends)

    def close(self) -> None:
        """Stop listening, end every connection, and wait for the threads (bounded)."""
        with self._lock:
            self._closed = True
            ends = list(self._sockets)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for end in ends:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)
        for end in ends:
            with contextlib.suppress(OSError):
                end.close()


_SEQUENCE_LOCK = threading.Lock()
_SEQUENCE = iter(range(1 << 62))


def _next_sequence() -> int:
    with _SEQUENCE_LOCK:
        return next(_SEQUENCE)


def exchange_problems(exchanges: Iterable[Exchange], control: bool) -> list[str]:
    """Why each exchange is not one its spec declares (module docstring), in completion order."""
    api, control_spec, iam = the_specs()
    by_port: dict[str, tuple[SpecOperations, ...]] = {
        "api": (api, control_spec) if control else (api,),
        "iam": (iam,),
    }
    problems: list[str] = []
    faulted = False
    for exchange in sorted(exchanges, key=lambda e: e.sequence):
        path = exchange.path
        if exchange.spec == "api" and 200 <= exchange.status < 300:
            if (exchange.method, path) == ("POST", "/_mock/faults"):
                faulted = True
                continue
            if (exchange.method, path) in (("DELETE", "/_mock/faults"), ("POST", "/_mock/reset")):
                faulted = False
        if faulted:
            continue
        for spec in by_port[exchange.spec]:
            problem = spec.problem(
                exchange.method, path, exchange.status, exchange.content_type, exchange.body
            )
            if problem is not None:
                problems.append(problem)
    return problems


@contextlib.contextmanager
def recording(port: int, upstream: int, spec: str) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(port, upstream, spec)
    try:
        yield proxy
    finally:
        proxy.close()
