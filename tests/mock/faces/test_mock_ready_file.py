"""`--ready-file PATH`: the addresses as JSON, written once the mock answers with every worker up,
matching what the mock really answers at them, for `--port 0` and fixed ports, 1 and 2 workers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
import plain_http
import pytest
from helpers import free_port, stop
from hypothesis import given
from hypothesis import strategies as st

from mock_server.core.config import DEFAULT_IAM_PASSWORD, DEFAULT_IAM_USER, DEFAULT_REGION, Settings
from mock_server.faces.inprocess import running_mock
from mock_server.faces.ready import FORMAT, ReadyReporter, document, prepare, write_atomically
from short_jobs.version import package_version

KEYS = {
    "format",
    "version",
    "pid",
    "workers",
    "api",
    "iam",
    "contract",
    "docs",
    "control",
    "dashboard",
}
START_SECONDS = 60.0  # a bound: the wait ends when the file appears


@given(
    api=st.integers(1, 65535),
    iam=st.integers(1, 65535),
    control=st.booleans(),
    workers=st.integers(1, 4),
    pid=st.integers(1, 2**22),
)
def test_the_shape_is_small_and_stable(
    api: int, iam: int, control: bool, workers: int, pid: int
) -> None:
    content = document(Settings(port=api, iam_port=iam, control=control, workers=workers), pid)
    assert set(content) == KEYS
    assert content["format"] == FORMAT == 1 and content["version"] == package_version()
    assert (
        content["api"] == f"http://127.0.0.1:{api}" and content["iam"] == f"http://127.0.0.1:{iam}"
    )
    assert content["pid"] == pid and content["workers"] == workers
    assert (content["control"] is None) is (not control) is (content["dashboard"] is None)
    assert json.loads(json.dumps(content)) == content


def test_the_file_is_replaced_whole_and_no_temporary_is_left(tmp_path: Path) -> None:
    path = tmp_path / "ready.json"
    path.write_text("{not json from an older run")
    write_atomically(path, {"pid": 1})
    write_atomically(path, {"pid": 2})
    assert json.loads(path.read_text()) == {"pid": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["ready.json"]


def test_an_unwritable_place_is_refused_at_start_naming_the_option(tmp_path: Path) -> None:
    settings = Settings(port=8000, ready_file=tmp_path / "no-such-dir" / "ready.json")
    with pytest.raises(click.ClickException) as refused:
        prepare(settings)
    assert "--ready-file (SHORT_JOBS_MOCK_READY_FILE)" in refused.value.message


def _dead_pid() -> int:
    """A pid no process has: above the kernel's largest (Linux), else a very large one."""
    pid_max = Path("/proc/sys/kernel/pid_max")
    return int(pid_max.read_text()) + 1 if pid_max.exists() else 2**31 - 2


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_it_is_written_by_the_last_worker_to_start_and_only_then(
    tmp_path: Path, workers: int
) -> None:
    """Each serving process notes itself, then counts the live ones: the file appears when
    the count reaches --workers (a dead worker's note does not count), never before."""
    ready = tmp_path / "ready.json"
    with running_mock(tmp_path / "data", validate_responses=False) as server:
        api_port = int(server.url.rsplit(":", 1)[1])
        iam_port = int(server.iam_url.rsplit(":", 1)[1])
        settings = Settings(port=api_port, iam_port=iam_port, workers=workers, ready_file=ready)
        registry = tmp_path / "registry"
        registry.mkdir()
        (registry / str(_dead_pid())).touch()
        others = [os.getppid(), 1][: workers - 1]  # live processes, standing for other workers
        for pid in others[:-1] if others else []:
            (registry / str(pid)).touch()
        reporter = ReadyReporter(settings, owner=4242, registry=registry)
        if others:
            reporter._report()  # one worker short
            assert not ready.exists()
            (registry / str(others[-1])).touch()
        reporter._report()
        content = json.loads(ready.read_text())
        assert content == document(settings, 4242)
        assert plain_http.get(content["api"] + "/", timeout=30).status_code == 200


class Started:
    """`python -m mock_server --ready-file ...` in its own process, its stderr collected."""

    def __init__(self, tmp_path: Path, ready: Path, *options: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")}
        command = [sys.executable, "-m", "mock_server", "--data-dir", str(tmp_path / "data")]
        self.ready = ready
        self.process = subprocess.Popen(
            [*command, "--ready-file", str(ready), *options],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if self.ready.exists():
                content: dict[str, Any] = json.loads(self.ready.read_text())  # whole: renamed
                if content.get("pid") == self.process.pid:
                    return content
            assert self.process.poll() is None, self.log
            assert time.monotonic() < deadline, self.log
            time.sleep(0.02)

    def close(self) -> None:
        stop(self.process)
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


@contextmanager
def started(tmp_path: Path, ready: Path, *options: str) -> Iterator[Started]:
    mock = Started(tmp_path, ready, *options)
    try:
        yield mock
    finally:
        mock.close()


def _iam_token(iam: str) -> httpx.Response:
    user = {"name": DEFAULT_IAM_USER, "password": DEFAULT_IAM_PASSWORD, "domain": {"name": "d"}}
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"project": {"name": DEFAULT_REGION}},
        }
    }
    return plain_http.post(f"{iam}/v3/auth/tokens", json=body, timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("fixed", [False, True], ids=["port-0", "fixed-ports"])
def test_the_file_says_what_the_mock_answers(tmp_path: Path, workers: int, fixed: bool) -> None:
    ports = ["--port", "0"]
    if fixed:
        api_port, iam_port = free_port(), free_port()
        ports = ["--port", str(api_port), "--iam-port", str(iam_port)]
    ready = tmp_path / "ready.json"
    options = [*ports, "--workers", str(workers), "--control"]
    with started(tmp_path, ready, *options) as mock:
        content = mock.wait_ready()
        assert set(content) == KEYS and content["workers"] == workers
        if fixed:
            assert content["api"] == f"http://127.0.0.1:{api_port}"
            assert content["iam"] == f"http://127.0.0.1:{iam_port}"
        # the moment it exists, every address answers as the file says
        assert plain_http.get(content["api"] + "/", timeout=30).json()["status"] == "ready"
        journal = plain_http.get(content["control"] + "requests", timeout=30)
        assert journal.json()["requests"] == [], "the check it made of itself is in the journal"
        issued = _iam_token(content["iam"])
        assert issued.status_code == 201, issued.text
        for name in ("contract", "docs", "control", "dashboard"):
            if content[name] is not None:
                url = content[name] + ("requests" if name == "control" else "")
                assert plain_http.get(url, timeout=30).status_code == 200, (name, url)
        # the startup line carries the same addresses, no placeholder
        line = next(line for line in mock.lines if "short-jobs mock: " in line)
        assert "PORT" not in line
        assert f"API {content['api']} | IAM {content['iam']} " in line
        assert f"docs {content['docs']}" in line
        if workers > 1:  # every worker had started before the file was written
            before = mock.log.split("ready: wrote", 1)[0]
            assert before.count("Application startup complete") == workers, mock.log
        ready_lines = [line for line in mock.lines if "ready: wrote" in line]
        assert len(ready_lines) == 1, mock.log


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_an_old_file_is_replaced_and_the_file_goes_at_stop(tmp_path: Path, workers: int) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"format": 1, "pid": 999999999, "api": "http://127.0.0.1:1"}))
    with started(tmp_path, ready, "--port", "0", "--workers", str(workers)) as mock:
        content = mock.wait_ready()
        assert content["pid"] == mock.process.pid
        mock.process.send_signal(signal.SIGTERM)
        mock.process.wait(60)
    assert not ready.exists(), mock.log
    assert "Traceback" not in mock.log, mock.log


@pytest.mark.slow
def test_a_start_that_cannot_listen_leaves_the_running_mocks_file_alone(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    with started(tmp_path, ready, "--port", "0") as first:
        content = first.wait_ready()
        port = int(re.sub(r".*:", "", content["api"]))
        command = [sys.executable, "-m", "mock_server", "--data-dir", str(tmp_path / "other")]
        command += ["--port", str(port), "--iam-port", "0", "--ready-file", str(ready)]
        again = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 3, again.stderr
        assert json.loads(ready.read_text()) == content
