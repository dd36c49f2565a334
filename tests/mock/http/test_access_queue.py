"""The access line off the request's path (issue 23): a queue and a writer thread, nothing lost.

Every request still gets exactly one line, escaped as before, written by the listener thread;
at SIGTERM (one process and gunicorn's workers alike) every line still queued is written before
the process exits. Lines are written in batches, each batch flushed once, and a line reaches a
running mock's stderr without waiting for more; the cached time text is the standard library's.
"""

from __future__ import annotations

import io
import logging
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time

import plain_http
import pytest
from helpers import collection, free_port, wait_ready
from hypothesis import example, given
from hypothesis import strategies as st

from mock_server.core.config import DEFAULT_PROJECT_ID, DEFAULT_TOKEN
from mock_server.faces.cli import PIPE_BUF, line_stream
from mock_server.faces.inprocess import RunningMock
from mock_server.http.accesslog import (
    BatchedStreamHandler,
    CachedTimeFormatter,
    access_log,
    access_queue,
)

REQUESTS = 1000
LINE = re.compile(r'^.* mock_server\.access 127\.0\.0\.1 "GET /v1/\S+" 400 MSS\.00000003 ', re.M)


class _Threads(logging.Handler):
    """Records which thread wrote each line, at the root (where the stream handler sits)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == access_log.name:
            self.seen.append((threading.current_thread().name, record.getMessage()))


def test_lines_are_written_by_the_listener_thread_and_escaped_there(mock: RunningMock) -> None:
    root = logging.getLogger()
    handler = _Threads()
    level = access_log.level
    root.addHandler(handler)
    access_log.setLevel(logging.INFO)
    try:
        # ESC [2J: clears a terminal if written raw
        target = mock.url + collection(mock) + "/%1b%5B2J"
        with plain_http.client() as client:
            client.get(target, headers={"X-Auth-Token": mock.settings.token})
        with access_queue():  # one more user of the queue, then out: nothing is drained yet
            pass
        for _ in range(1000):
            if any("\\x1b[2J" in line for _, line in handler.seen):
                break
            threading.Event().wait(0.01)
    finally:
        root.removeHandler(handler)
        access_log.setLevel(level)
    [(thread, line)] = [seen for seen in handler.seen if "\\x1b[2J" in seen[1]]
    assert "\x1b" not in line
    assert thread != threading.current_thread().name
    assert thread != "MainThread"


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_every_line_is_written_by_sigterm(workers: int, tmp_path: os.PathLike[str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mock_server", "--port", str(port), "--iam-port", "0",
            "--workers", str(workers), "--log-level", "info", "--data-dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")},
    )  # fmt: skip
    try:
        wait_ready(process, port)
        url = (
            f"http://127.0.0.1:{port}/v1/{DEFAULT_PROJECT_ID}/voice-training-manage/user/short-jobs"
        )
        with plain_http.client(headers={"X-Auth-Token": DEFAULT_TOKEN}) as client:
            for number in range(REQUESTS):
                assert client.get(f"{url}/no-such-job-{number}").status_code == 400
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    lines = LINE.findall(stderr.decode("utf-8", "replace"))
    assert len(lines) == REQUESTS, stderr.decode()[-2000:]


@given(
    created=st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
    earlier=st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
    datefmt=st.sampled_from([None, "%Y-%m-%dT%H:%M:%S", "%H:%M"]),
    msec_format=st.sampled_from(["%s,%03d", "%s.%03d", None]),
)
def test_the_cached_time_text_is_the_standard_librarys(
    created: float, earlier: float, datefmt: str | None, msec_format: str | None
) -> None:
    cached, stdlib = (
        CachedTimeFormatter("%(asctime)s", datefmt),
        logging.Formatter("%(asctime)s", datefmt),
    )
    cached.default_msec_format = stdlib.default_msec_format = msec_format
    for when in (earlier, created, created):  # another second cached first, then this one twice
        record = logging.makeLogRecord({"msg": "m"})
        record.created, record.msecs = when, int((when - int(when)) * 1000) + 0.0
        assert cached.format(record) == stdlib.format(record)


class _Flushes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_the_writer_flushes_once_a_batch_and_other_records_at_once() -> None:
    stream = _Flushes()
    handler = BatchedStreamHandler(stream)
    root = logging.getLogger()
    level = access_log.level
    root.addHandler(handler)
    access_log.setLevel(logging.INFO)
    try:
        with access_queue():
            for number in range(500):
                access_log.info("line %d", number)
        # left (drained) or still open for a module's mock: every line comes, flushed
        deadline = time.monotonic() + 30
        # a batch's lines are written before the flush that ends it: wait for that flush too
        while (stream.getvalue().count("\n") < 500 or not stream.flushes) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.01)
        assert stream.getvalue().splitlines() == [f"line {n}" for n in range(500)]
        assert 1 <= stream.flushes < 500
        before = stream.flushes
        logging.getLogger("mock_server").warning("not an access line")  # this thread's: at once
        assert stream.flushes == before + 1
    finally:
        root.removeHandler(handler)
        access_log.setLevel(level)


@pytest.mark.slow
def test_a_line_reaches_a_running_mocks_stderr(tmp_path: os.PathLike[str]) -> None:
    """Batched, not held: the line of one request is on the pipe while the mock runs on."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mock_server", "--port", str(port), "--iam-port", "0",
            "--log-level", "info", "--data-dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")},
    )  # fmt: skip
    assert process.stderr is not None
    seen = b""
    try:
        wait_ready(process, port)
        url = f"http://127.0.0.1:{port}/v1/{DEFAULT_PROJECT_ID}/voice-training-manage/user/"
        with plain_http.client(headers={"X-Auth-Token": DEFAULT_TOKEN}) as client:
            assert client.get(url + "short-jobs/the-one-job").status_code == 400
        deadline = time.monotonic() + 30
        while b"the-one-job" not in seen and time.monotonic() < deadline:
            if select.select([process.stderr], [], [], 0.5)[0]:
                seen += os.read(process.stderr.fileno(), 65536)
        assert process.poll() is None
    finally:
        process.terminate()
        process.communicate(timeout=60)
    assert b'"GET /v1/' in seen and b"the-one-job" in seen, seen[-2000:]


class _Writes(io.RawIOBase):
    """A raw stream that keeps each write(2) it is asked for, as a pipe would get them."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes.append(bytes(data))
        return len(data)


# lines of any length (a character repeated: the volume that crosses PIPE_BUF), one or more
# bytes per character
_LINES = st.lists(
    st.builds(
        lambda length, char: char * length,
        st.integers(0, 5000),
        st.characters(blacklist_characters="\n", blacklist_categories=["Cs"]),
    ),
    max_size=80,
)


@given(_LINES)
@example(["x" * 200] * 100)  # a busy batch: 20 KB of access lines
def test_each_write_to_a_shared_stderr_is_whole_lines_of_at_most_pipe_buf(
    lines: list[str],
) -> None:
    """gunicorn's workers and arbiter share stderr: a write(2) over PIPE_BUF, or one ending
    inside a line, lets another process's line land inside one (seen: the arbiter's "Handling
    signal: term" in the middle of an access line, when the pipe was full)."""
    raw = _Writes()
    stream = line_stream(raw, "utf-8")
    for line in lines:
        stream.write(line + "\n")  # as BatchedStreamHandler writes a record
    stream.flush()  # the batch's end
    _assert_whole_lines(raw.writes, lines)


@given(st.lists(_LINES.map("\n".join), max_size=20))
def test_a_record_of_many_lines_goes_out_in_whole_lines_too(messages: list[str]) -> None:
    """A traceback is one record of many lines: the handler writes it a line at a time, so no
    write(2) ends inside a line, whatever its length."""
    raw = _Writes()
    handler = BatchedStreamHandler(line_stream(raw, "utf-8"))
    handler.setFormatter(logging.Formatter("%(message)s"))
    for message in messages:
        handler.handle(logging.makeLogRecord({"msg": message, "levelno": logging.ERROR}))
    handler.flush()
    _assert_whole_lines(raw.writes, messages)


def _assert_whole_lines(writes: list[bytes], texts: list[str]) -> None:
    """The writes carry `texts` (each ended by a newline), and each write is whole lines, at
    most PIPE_BUF bytes of them unless it is one longer line alone."""
    assert b"".join(writes) == "".join(text + "\n" for text in texts).encode()
    for write in writes:
        assert write.endswith(b"\n")
        assert len(write) <= PIPE_BUF or write.count(b"\n") == 1
