"""The access line off the request's path (issue 23): a queue and a writer thread, nothing lost.

Every request still gets exactly one line, escaped as before, written by the listener thread;
at SIGTERM (one process and gunicorn's workers alike) every line still queued is written before
the process exits.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading

import httpx
import pytest
from helpers import collection, free_port, wait_ready

from mock_server.core.config import DEFAULT_PROJECT_ID, DEFAULT_TOKEN
from mock_server.faces.inprocess import RunningMock
from mock_server.http.accesslog import access_log, access_queue

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
        with httpx.Client() as client:
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
        with httpx.Client(headers={"X-Auth-Token": DEFAULT_TOKEN}) as client:
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
