"""The assessment's libraries (scipy.signal, onnxruntime and its network; about a second of CPU)
load in a mock process when its first job is created, not as it starts: a mock that never
assesses never pays them (`service.handlers.warm_assessment`). Observed from outside, in the
libraries the process maps (/proc/PID/maps)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import plain_http
import pytest
from helpers import collection, create, free_port, mock_process, token_client

from mock_server.core.config import Settings
from mock_server.faces.inprocess import RunningMock

# A shared object of each library the warm-up loads: scipy.signal's and onnxruntime's.
LIBRARIES = ("_sigtools", "onnxruntime_pybind11_state")


def _mapped(pid: int) -> set[str]:
    text = Path(f"/proc/{pid}/maps").read_text()
    return {library for library in LIBRARIES if library in text}


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (stat(5) fields 14, 15)


def _settle(process: subprocess.Popen[bytes], quiet_seconds: float = 1.0) -> None:
    """Until the process has used no CPU for `quiet_seconds` (a warm-up started at its start
    would still be running): fails after 60 s."""
    deadline = time.monotonic() + 60
    last, since = _cpu_ticks(process.pid), time.monotonic()
    while time.monotonic() - since < quiet_seconds:
        assert time.monotonic() < deadline, "the mock never went idle"
        time.sleep(0.1)
        now = _cpu_ticks(process.pid)
        if now != last:
            last, since = now, time.monotonic()


def _until_mapped(process: subprocess.Popen[bytes]) -> set[str]:
    deadline = time.monotonic() + 60
    while (found := _mapped(process.pid)) != set(LIBRARIES) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.mark.slow
def test_a_mock_loads_the_assessment_at_its_first_job_and_not_before(tmp_path: Path) -> None:
    port = free_port()
    options = ("--iam-port", "0", "--data-dir", str(tmp_path / "data"))
    with mock_process(port, *options, record=False) as process:
        server = RunningMock(
            url=f"http://127.0.0.1:{port}",
            settings=Settings(port=port, data_dir=tmp_path / "data"),
            app=None,  # type: ignore[arg-type]
        )
        missing = plain_http.get(server.url + collection(server) + "/no-such-job", timeout=10)
        assert missing.status_code == 401  # unsigned: the gateway answers, no job is made
        _settle(process)
        assert _mapped(process.pid) == set(), "loaded before any job was created"

        with token_client(server) as client:
            create(client, server, language="CN")
        assert _until_mapped(process) == set(LIBRARIES)
