"""The README's "Signing in through IAM" shell example runs, as a user would run it.

It is run against a mock started as it says, with the sample recordings it assesses. (The
section's Python example, `test_sign_in.py`, is a test file: tests/test_readme_example.py runs
it with README's other test files.)
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import mock_process

from mock_server.samples import speech_like_wav

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(language: str, first_line: str) -> str:
    section = (
        README.read_text("utf-8").split("### Signing in through IAM\n", 1)[1].split("\n### ")[0]
    )
    blocks = re.findall(rf"```{language}\n(.*?)```", section, re.S)
    matching = [block for block in blocks if block.startswith(first_line)]
    assert len(matching) == 1, f"README.md's IAM section has no (or several) {first_line!r} blocks"
    return str(matching[0])


def _free_port_pair() -> int:
    """A port p with p and p + 1 both free (the README's mock listens on both)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two adjacent free ports")


@pytest.fixture
def readme_mock(tmp_path: Path) -> Iterator[int]:
    """`short-jobs-mock` with its defaults but a free port (IAM on the next), as in the README."""
    port = _free_port_pair()
    with mock_process(port, "--processing-seconds", "0", cwd=tmp_path):
        yield port


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example uses curl")
def test_the_shell_example_assesses_with_an_issued_token(readme_mock: int, tmp_path: Path) -> None:
    script = readme_block("sh", "short-jobs-mock &")
    lines = script.splitlines()[1:]  # the mock is already running (readme_mock)
    text = "\n".join(lines).replace("127.0.0.1:8001", f"127.0.0.1:{readme_mock + 1}")
    text = text.replace("127.0.0.1:8000", f"127.0.0.1:{readme_mock}")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    speech_like_wav(recordings / "a.wav", seconds=2)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", text],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "SUCCEED" in done.stdout
