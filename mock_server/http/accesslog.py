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

Moving the work to a thread was not enough: measured with `bench/cpu_cost.py`, the line was
still a third of a show's CPU, and most of that was the two threads handing the GIL to each
other for every record (the writer woke per line) and a write(2) per line (stderr is line
buffered). So the writer takes records in batches (`_Batching`: when the queue is empty it
flushes, then gathers for `GATHER_SECONDS` before it waits again), `BatchedStreamHandler` writes
a batch with one flush, and `CachedTimeFormatter` formats `asctime`'s seconds once a second.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO

from mock_server.core.asgi import Scope
from mock_server.core.state import state_of
from mock_server.core.text import Escaped, header_text
from short_jobs.terminal import escape as shown_on_terminal

access_log = logging.getLogger("mock_server.access")
LINE = '%s "%s %s" %s %s %.1fms rid=%s'
# How long the writer gathers records after it emptied the queue: a line reaches its stream at
# most this late, and a busy mock hands the GIL to the writer ~20 times a second, not per line.
GATHER_SECONDS = 0.05


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
    arguments = (
        Escaped(str(client[0])),
        Escaped(scope["method"]),
        Escaped(scope["path"] + ("?" + query if query else "")),
        "-" if status is None else status,
        Escaped(state.error_code or "-"),
        seconds * 1000,
        state.request_id or "-",
    )
    # Logger.info would walk the stack for the caller's file and line (findCaller), which the
    # line does not show; the record is otherwise the one info() makes.
    record = access_log.makeRecord(
        access_log.name, logging.INFO, __file__, 0, LINE, arguments, None, "log_request"
    )
    access_log.handle(record)


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

    def flush(self) -> None:
        """Ends a batch: every `BatchedStreamHandler` above writes what it holds."""
        logger: logging.Logger | None = access_log.parent
        while logger is not None:
            for handler in logger.handlers:
                if isinstance(handler, BatchedStreamHandler):
                    handler.flush()
            logger = logger.parent if logger.propagate else None


_writer = threading.local()  # `batching` is set on the writer's thread only


class _Batching(QueueListener):
    """A `QueueListener` that takes records in batches through its documented `dequeue` hook:
    when the queue is empty, it ends the batch (flushes) and gathers for `GATHER_SECONDS`
    before it blocks."""

    def __init__(self, lines: queue.SimpleQueue[logging.LogRecord], above: _Above) -> None:
        super().__init__(lines, above)
        self.lines = lines
        self.above = above

    def dequeue(self, block: bool) -> logging.LogRecord:
        _writer.batching = True
        try:
            return self.lines.get_nowait()
        except queue.Empty:
            if not block:
                raise
        self.above.flush()
        time.sleep(GATHER_SECONDS)
        return self.lines.get()

    def flush(self) -> None:
        self.above.flush()


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """A `StreamHandler` that leaves its stream unflushed for records the access log's writer
    hands it (the writer flushes once a batch); every other record is flushed at once, as
    `logging.StreamHandler` does."""

    def emit(self, record: logging.LogRecord) -> None:
        # as StreamHandler.emit (Handler.handle holds the lock), the flush left to the batch's end;
        # a record of several lines (a traceback) is written a line at a time, so a stream that
        # writes whole lines (`faces.cli.line_stream`) never ends a write inside one
        try:
            text = self.format(record) + self.terminator
            if text.count("\n") <= 1:  # one line: an access line, nearly every record
                self.stream.write(text)
            else:
                self.stream.writelines(_by_line(text))
            if not getattr(_writer, "batching", False):
                self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def _by_line(text: str) -> list[str]:
    """`text` cut after each "\\n" (only there: pipes and terminals end a line at LF alone)."""
    pieces = [line + "\n" for line in text.split("\n")]
    pieces[-1] = pieces[-1][:-1]  # what follows the last "\n" (most often nothing)
    return pieces if pieces[-1] else pieces[:-1]


class CachedTimeFormatter(logging.Formatter):
    """`logging.Formatter` for every line the mock's command logs: the message shown as the
    terminal shows text from outside (`short_jobs.terminal.escape`: a path, a key or a header a
    message quotes cannot clear the screen or fake a line; a traceback keeps its lines), and
    the `asctime` text the standard library's, with the seconds part (`time.strftime`, the
    costly call) made once per second of `record.created` instead of once per record. Exact:
    local time changes only at whole seconds."""

    _cached: tuple[int, str] = (-1, "")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = shown_on_terminal(record.message)
        return super().formatMessage(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        cached = self._cached
        if cached[0] == second and datefmt is None:
            text = cached[1]
        else:
            text = time.strftime(datefmt or self.default_time_format, self.converter(second))
            if datefmt is None:
                self._cached = (second, text)
        if datefmt is None and self.default_msec_format:
            return self.default_msec_format % (text, record.msecs)
        return text


_lock = threading.Lock()
_users = 0
_listener: _Batching | None = None
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
        _listener = _Batching(lines, _Above())
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
        _listener.flush()  # the last batch
        _listener = _handler = None
