"""The access log: one line per request, always, with every client-controlled field escaped.

    client "METHOD target" status error_code duration rid=request-id

The method, the target (decoded path and query) and the client address come from the client;
`text.escape` writes their non-printable characters (CR, LF, ESC...), `"` and `\\` as escapes,
so a request cannot split its line, forge another or colour a terminal.

The line's cost stays off the request (issue 23): while the app runs (`access_queue()`, entered
by its lifespan), the request only makes the log record and puts it on a queue
(`logging.handlers.QueueHandler`); a `QueueListener` thread escapes, formats and writes it
through the handlers of the loggers above `mock_server.access` (the root's stream, a user's
file). Leaving the context, at shutdown under uvicorn or gunicorn (SIGTERM), writes every line
still queued before it returns. Handlers put on `mock_server.access` itself still get each
record at once, on the request's thread (as tests do).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import QueueHandler, QueueListener

from mock_server.core.asgi import Scope
from mock_server.core.state import state_of
from mock_server.core.text import escape, header_text

access_log = logging.getLogger("mock_server.access")
LINE = '%s "%s %s" %s %s %.1fms rid=%s'


class Escaped:
    """Client text, escaped when the line is formatted (on the listener's thread), not before."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return escape(self.text)


def log_request(
    scope: Scope, status: int | None, seconds: float, *, hide_query: bool = False
) -> None:
    """Write the request's line; `status` None (shown `-`) when the client got no complete
    answer. `hide_query` leaves the query out (an upload URL's signature)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    state = state_of(scope)
    client = scope.get("client") or ("-", 0)
    query = header_text(scope.get("query_string", b"")) if not hide_query else ""
    access_log.info(
        LINE,
        Escaped(str(client[0])),
        Escaped(scope["method"]),
        Escaped(scope["path"] + ("?" + query if query else "")),
        "-" if status is None else status,
        Escaped(state.error_code or "-"),
        seconds * 1000,
        state.request_id or "-",
    )


class _Enqueue(QueueHandler):
    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The stdlib's prepare formats here, on the request's thread; the arguments are
        # immutable, so the record goes as it is and the listener formats it.
        return record


class _Above(logging.Handler):
    """On the listener's thread: hands a record to the handlers of `mock_server.access`'s
    ancestors, as propagation would have, looked up at that moment (so a handler added later,
    pytest's caplog included, gets it too)."""

    def emit(self, record: logging.LogRecord) -> None:
        parent = access_log.parent
        if parent is not None:
            parent.handle(record)


_lock = threading.Lock()
_users = 0
_listener: QueueListener | None = None
_handler: _Enqueue | None = None


@contextmanager
def access_queue() -> Iterator[None]:
    """Access lines go through a queue and a writer thread while the context is open; one queue
    per process, however many apps run in it (each enters; the last one out drains it)."""
    _start()
    try:
        yield
    finally:
        _stop()


def _start() -> None:
    global _users, _listener, _handler
    with _lock:
        _users += 1
        if _users > 1:
            return
        lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        _handler = _Enqueue(lines)
        _listener = QueueListener(lines, _Above())
        _listener.start()
        access_log.addHandler(_handler)
        access_log.propagate = False


def _stop() -> None:
    global _users, _listener, _handler
    with _lock:
        _users -= 1
        if _users > 0 or _listener is None or _handler is None:
            return
        access_log.propagate = True  # first: a line logged meanwhile is written, not lost
        access_log.removeHandler(_handler)
        _listener.stop()  # writes what is still queued, then joins the thread
        _listener = _handler = None
