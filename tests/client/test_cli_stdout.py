"""A stdout that refuses the results loses nothing else (issue 19, item 8).

Real processes, a real ``/dev/full`` (every write: ENOSPC) and a real closed pipe (EPIPE): the
output files are written whatever stdout does; a full stdout is one stderr line naming what was
not written (and the job, for the commands that make one), exit 1, never a traceback; a closed
pipe (``| head``) stays quiet and exits 1, as click does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from helpers import cli_env

from mock_server.faces.inprocess import RunningMock
from mock_server.samples import speech_like_wav

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clean_client_env")]

STDOUTS = ["full", "closed-pipe"]


@contextmanager
def refusing_stdout(kind: str) -> Iterator[IO[bytes] | int]:
    """A stdout every write to which fails: ``/dev/full``, or a pipe whose reader is gone."""
    if kind == "full":
        with open("/dev/full", "wb") as full:
            yield full
        return
    read, write = os.pipe()
    os.close(read)
    try:
        yield write
    finally:
        os.close(write)


def run(
    kind: str, args: list[str], env: dict[str, str], module: str = "short_jobs.cli"
) -> subprocess.CompletedProcess[str]:
    with refusing_stdout(kind) as stdout:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            env={**os.environ, **env},
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )


def assert_said(done: subprocess.CompletedProcess[str], kind: str, *words: str) -> str:
    """Exit 1 and no traceback; with a full stdout one line of ours (returned), with a closed
    pipe none."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    ours = [line for line in done.stderr.splitlines() if "could not write" in line]
    if kind == "closed-pipe":
        assert ours == [], done.stderr
        return ""
    assert len(ours) == 1, done.stderr
    for word in words:
        assert word in ours[0], ours[0]
    return ours[0]


@pytest.mark.parametrize("kind", STDOUTS)
@pytest.mark.parametrize("as_json", [False, True])
def test_conformance_writes_its_files_whatever_stdout_does(
    mock: RunningMock, tmp_path: Path, kind: str, as_json: bool
) -> None:
    har, junit = tmp_path / "r.har", tmp_path / "j.xml"
    args = ["conformance", "--max-jobs", "0", "--record", str(har), "--junit-xml", str(junit)]
    done = run(kind, args + (["--json"] if as_json else []), cli_env(mock))
    assert_said(done, kind, "the conformance report", "No space left on device")
    assert json.loads(har.read_text())["log"]["entries"]
    assert ET.parse(junit).getroot().tag in {"testsuites", "testsuite"}


@pytest.mark.parametrize("kind", STDOUTS)
@pytest.mark.parametrize("as_json", [False, True])
def test_assess_names_its_job_when_stdout_refuses_the_report(
    mock: RunningMock, tmp_path: Path, kind: str, as_json: bool
) -> None:
    wav = speech_like_wav(tmp_path / "take.wav", seconds=1.0)
    done = run(
        kind, ["assess", str(wav), "--timeout", "60"] + (["--json"] * as_json), cli_env(mock)
    )
    line = assert_said(done, kind, "the job", "job_id=")
    if line:
        job_id = line.rsplit("job_id=", 1)[1]
        shown = run("full", ["show", job_id], cli_env(mock))  # the job is there to show again
        assert job_id in shown.stderr


@pytest.mark.parametrize("kind", STDOUTS)
@pytest.mark.parametrize("command", [["create"], ["create", "--json"], ["show", "nope", "--json"]])
def test_the_other_commands_say_what_stdout_lost(
    mock: RunningMock, kind: str, command: list[str]
) -> None:
    done = run(kind, command, cli_env(mock))
    if command[0] == "show":  # a failure: its own line, nothing to print on stdout
        assert done.returncode == 1 and "NotFoundError" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        return
    assert_said(done, kind, "the created job", "job_id=")


@pytest.mark.parametrize("kind", STDOUTS)
@pytest.mark.parametrize("as_json", [False, True])
def test_the_mocks_assess_says_what_stdout_lost(tmp_path: Path, kind: str, as_json: bool) -> None:
    wav = speech_like_wav(tmp_path / "good.wav", seconds=1.0)
    args = ["assess", str(wav)] + (["--json"] if as_json else [])
    done = run(kind, args, {}, module="mock_server")
    line = assert_said(done, kind, "the assessment")
    assert not line or line.startswith("short-jobs-mock assess: error:")
