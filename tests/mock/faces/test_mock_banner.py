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
import pytest
from helpers import free_port, wait_ready

from mock_server.core.config import Settings
from mock_server.faces.banner import startup_line


def test_the_line_says_where_what_and_whether(tmp_path: Path) -> None:
    settings = Settings(port=9123, data_dir=tmp_path / "data", control=True)
    line = startup_line(settings)
    assert "\n" not in line
    assert line.startswith("short-jobs mock: http://127.0.0.1:9123 |")
    assert f"data dir {(tmp_path / 'data').resolve()}" in line
    assert f"AK {settings.ak}, project {settings.project_id}" in line
    assert "control plane on: http://127.0.0.1:9123/_mock/" in line
    assert "dashboard http://127.0.0.1:9123/_mock/ui/" in line
    assert "docs http://127.0.0.1:9123/ui/" in line
    assert settings.sk not in line and settings.token not in line


@pytest.mark.parametrize(
    ("overrides", "url"),
    [
        ({"public_url": "https://mock.example.test/base/"}, "https://mock.example.test/base"),
        ({"host": "::1", "port": 8000}, "http://[::1]:8000"),
        ({"port": 0}, "http://127.0.0.1:PORT"),
    ],
)
def test_the_url_is_where_users_reach_it(overrides: dict[str, object], url: str) -> None:
    line = startup_line(Settings().with_overrides(**overrides))
    assert line.startswith(f"short-jobs mock: {url} |")
    assert "control plane off" in line and "dashboard" not in line


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
        assert [httpx.get(url, timeout=30).status_code for url in urls] == [200, 200, 200]
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
                httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
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
