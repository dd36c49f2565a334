"""The mock's startup line: URL, data dir, AK and project, control plane, docs - and no secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import plain_http
import pytest
from helpers import free_port, wait_ready
from hypothesis import given
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.faces.banner import startup_line
from mock_server.faces.banner import urls as addresses_of


def test_the_line_says_where_what_and_whether(tmp_path: Path) -> None:
    settings = Settings(port=9123, data_dir=tmp_path / "data", control=True)
    line = startup_line(settings)
    assert "\n" not in line
    assert line.startswith("short-jobs mock: API http://127.0.0.1:9123 | IAM http://127.0.0.1:9124")
    assert f"data dir {(tmp_path / 'data').resolve()}" in line
    assert f"AK {settings.ak}, project {settings.project_id}" in line
    assert "control plane on: http://127.0.0.1:9123/_mock/" in line
    assert "dashboard http://127.0.0.1:9123/_mock/ui/" in line
    assert "docs http://127.0.0.1:9123/ui/" in line
    assert settings.sk not in line and settings.token not in line


@pytest.mark.parametrize(
    ("overrides", "api", "iam"),
    [
        (
            {"public_url": "https://mock.example.test/base/"},
            "https://mock.example.test/base",
            "http://127.0.0.1:8001",
        ),
        ({"host": "::1", "port": 8000}, "http://[::1]:8000", "http://[::1]:8001"),
        ({"host": "0.0.0.0", "iam_port": 9100}, "http://127.0.0.1:8000", "http://127.0.0.1:9100"),
        ({"host": "::", "port": 41234}, "http://[::1]:41234", "http://[::1]:41235"),
    ],
)
def test_the_urls_are_where_users_reach_it(
    overrides: dict[str, object], api: str, iam: str
) -> None:
    line = startup_line(Settings().with_overrides(**overrides))
    assert line.startswith(f"short-jobs mock: API {api} | IAM {iam} ")
    assert "control plane off" in line and "dashboard" not in line


@pytest.mark.parametrize("overrides", [{"port": 0}, {"port": 8000, "iam_port": 0}])
def test_a_port_not_bound_yet_has_no_address(overrides: dict[str, int]) -> None:
    """No placeholder: the line is made once the ports are bound (listen.py), or not at all."""
    with pytest.raises(ValueError, match="bound"):
        startup_line(Settings().with_overrides(**overrides))


@given(
    api=st.integers(1, 65535),
    iam=st.integers(1, 65535),
    host=st.sampled_from(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::", "10.1.2.3"]),
    control=st.booleans(),
)
def test_every_address_in_the_line_is_a_bound_port_and_says_whose(
    api: int, iam: int, host: str, control: bool
) -> None:
    settings = Settings(host=host, port=api, iam_port=iam, control=control)
    line = startup_line(settings)
    assert "PORT" not in line and "\n" not in line
    found = addresses_of(settings)
    assert f"API {found.api} " in line and f"IAM {found.iam} " in line
    ports = {int(port) for port in re.findall(r"://(?:\[[^]]+\]|[^/:|\s]+):(\d+)", line)}
    assert ports == {api, iam}


@pytest.mark.slow
def test_the_running_mock_prints_it_and_its_urls_answer(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "mock_server", "--port", str(port), "--iam-port", "0"]
    command.append("--control")
    command += ["--data-dir", str(tmp_path / "data")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "short-jobs mock: " in line, line
        urls = re.findall(r"(?:docs|dashboard|contract) (http://\S+?)(?=[,| \n]|$)", line)
        assert len(urls) == 3, line
        wait_ready(process, port)
        assert [plain_http.get(url, timeout=30).status_code for url in urls] == [200, 200, 200]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.slow
def test_with_workers_the_line_is_printed_once(tmp_path: Path) -> None:
    """The supervisor prints it, then forks the workers: they do not print their own."""
    port = free_port()
    command = [sys.executable, "-m", "mock_server", "--port", str(port), "--iam-port", "0"]
    command += ["--workers", "2"]
    command += ["--data-dir", str(tmp_path / "data"), "--no-log-requests"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while True:  # until it answers and both workers have booted (bounded)
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            try:
                plain_http.get(f"http://127.0.0.1:{port}/", timeout=5)
                if sum("Booting worker" in line for line in list(lines)) >= 2:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=60)
        reader.join(timeout=10)
        process.stderr.close()
    assert sum("short-jobs mock: " in line for line in lines) == 1, "".join(lines)
