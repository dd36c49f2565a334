"""The ``short-jobs`` command line against the live mock: every command, ``--json`` output that
parses, and failures that are one line on stderr with a non-zero exit and never a traceback.

Most runs use typer's ``CliRunner`` (in-process, fast); a few run ``python -m short_jobs.cli`` as
a real subprocess, the way a user's shell does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mock_server.pytest_plugin import MockHandle
from mock_server.samples import speech_like_wav
from mock_server.testing import RunningMock
from short_jobs.cli import app

METRICS = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")
CLEARED = (
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_PROJECT_ID",
    "HUAWEICLOUD_SDK_TOKEN",
    "SHORT_JOBS_ENDPOINT",
    "SHORT_JOBS_APP_USER_ID",
    "SHORT_JOBS_DEBUG",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)


def env_for(server: RunningMock, **extra: str) -> dict[str, str]:
    """The variables a user would export: endpoint and the official SDK's credentials."""
    return {
        "SHORT_JOBS_ENDPOINT": server.url,
        "HUAWEICLOUD_SDK_AK": server.ak,
        "HUAWEICLOUD_SDK_SK": server.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": server.project_id,
        **extra,
    }


def run(server: RunningMock, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env_for(server, **env))


def assert_ok(result: Result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)


def assert_one_line_failure(result: Result, exit_code: int, *fragments: str) -> str:
    """Exit ``exit_code``, nothing on stdout, one stderr line holding every fragment."""
    assert result.exit_code == exit_code, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not an escaped exception
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_assessed_json(text: str) -> dict[str, object]:
    job = json.loads(text)
    assert job["state"] == "SUCCEED"
    assert set(METRICS) <= job["assess_result"].keys()
    return dict(job)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- every command ---------------------------------------------------------------------------


def test_assess_prints_the_metrics_table(mock: RunningMock, recordings: Path) -> None:
    result = run(mock, "assess", str(recordings))
    assert_ok(result)
    assert "SUCCEED" in result.stdout
    for label in ("speaking rate", "loudness", "signal-to-noise", "reverberation", "DNSMOS"):
        assert label in result.stdout
    for column in ("expected", "actual", "status", "suggestion"):
        assert column in result.stdout


def test_assess_json_is_the_only_stdout(mock: RunningMock, tmp_path: Path) -> None:
    speech_like_wav(tmp_path / "a.wav", seconds=2.0)
    speech_like_wav(tmp_path / "b.wav", seconds=2.0, seed=3)
    result = run(mock, "assess", str(tmp_path), "--json", "--language", "en", "--timeout", "60")
    assert_ok(result)
    assert_assessed_json(result.stdout)


def test_assess_several_wav_files_with_token_and_app_user_id(
    mock: RunningMock, tmp_path: Path
) -> None:
    wavs = [speech_like_wav(tmp_path / f"{n}.wav", seconds=2.0, seed=n) for n in range(2)]
    result = CliRunner().invoke(
        app,
        [
            "--endpoint",
            mock.url,
            "--project-id",
            mock.project_id,
            "--token",
            mock.token,
            "--app-user-id",
            "user-001",
            "assess",
            *map(str, wavs),
            "--json",
        ],
    )
    assert_ok(result)
    assert_assessed_json(result.stdout)


def test_create_upload_commit_wait_show(mock: RunningMock, recordings: Path) -> None:
    created = run(mock, "create", "--json")
    assert_ok(created)
    job = json.loads(created.stdout)
    job_id, url = job["job_id"], job["data_uploading_url"]

    uploaded = run(mock, "upload", url, str(recordings))
    assert_ok(uploaded)
    assert f"uploaded {recordings.stat().st_size} bytes" in uploaded.stdout

    committed = run(mock, "commit", job_id)
    assert_ok(committed)
    assert job_id in committed.stdout

    waited = run(mock, "wait", job_id, "--json", "--timeout", "60")
    assert_ok(waited)
    assert assert_assessed_json(waited.stdout)["job_id"] == job_id

    shown = run(mock, "show", job_id, "--json")
    assert_ok(shown)
    assert assert_assessed_json(shown.stdout)["job_id"] == job_id

    table = run(mock, "show", job_id)
    assert_ok(table)
    assert "SUCCEED" in table.stdout and "DNSMOS overall" in table.stdout


def test_create_plain_output(mock: RunningMock) -> None:
    result = run(mock, "create", "--language", "EN")
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("job_id: ")
    assert lines[1].startswith(f"data_uploading_url: {mock.url}/")


def test_region_endpoint_is_accepted() -> None:
    # The endpoint is checked before the credentials: getting to "no project id" proves the
    # region name resolved, without contacting the real cloud.
    result = CliRunner().invoke(app, ["--endpoint", "cn-north-4", "show", "x"])
    assert_one_line_failure(result, 1, "error:", "project id")


# --- failures: one line, no traceback --------------------------------------------------------


def test_unknown_job(mock: RunningMock) -> None:
    result = run(mock, "show", "no-such-job")
    assert_one_line_failure(
        result,
        1,
        "NotFoundError",
        "status=400",
        "error_code=MSS.00000003",
        'error_msg="',
        "does not exist",
        "request_id=",
    )


def test_wrong_secret_key(mock: RunningMock) -> None:
    result = run(mock, "create", HUAWEICLOUD_SDK_SK="wrong")
    assert_one_line_failure(
        result, 1, "AuthError", "status=401", "error_code=APIGW.0301", "request_id="
    )


def test_commit_before_upload(mock: RunningMock) -> None:
    job_id = json.loads(run(mock, "create", "--json").stdout)["job_id"]
    result = run(mock, "commit", job_id)
    assert_one_line_failure(result, 1, "InvalidRequestError", "status=400")


def test_tampered_upload_url(mock: RunningMock, recordings: Path) -> None:
    url = json.loads(run(mock, "create", "--json").stdout)["data_uploading_url"]
    result = run(mock, "upload", url.replace("Signature=", "Signature=x"), str(recordings))
    assert_one_line_failure(
        result, 1, "UploadError", "status=403", "error_code=SignatureDoesNotMatch"
    )


def test_broken_recordings_fail_the_job_with_exit_3(mock: RunningMock, broken_zip: Path) -> None:
    result = run(mock, "assess", str(broken_zip), "--json")
    assert_one_line_failure(result, 3, "JobFailedError", "job_id=", "error_code=MSS.")


def test_wait_timeout_exits_4(short_jobs_mock: MockHandle, recordings: Path) -> None:
    short_jobs_mock.set_progress("manual")  # the job never ends by itself
    result = run(short_jobs_mock.server, "assess", str(recordings), "--timeout", "0.5")
    assert_one_line_failure(result, 4, "WaitTimeoutError", "job_id=")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["assess", "missing.zip"], "no such file"),
        (["assess", "short_jobs"], "no .wav files"),  # not ".": .venv holds WAVs (scipy tests)
        (["upload", "http://127.0.0.1:1/x", "missing.zip"], "missing.zip"),
        (["upload", "not-a-url", "pyproject.toml"], "not an upload URL"),
    ],
)
def test_local_problems(
    mock: RunningMock, args: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent.parent)
    assert_one_line_failure(run(mock, *args), 1, "error:", fragment)


def test_bad_endpoint(mock: RunningMock) -> None:
    result = run(mock, "--endpoint", "not an endpoint", "show", "x")
    assert_one_line_failure(result, 1, "error:", "endpoint")


def test_connection_refused(mock: RunningMock) -> None:
    result = run(mock, "show", "x", SHORT_JOBS_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert_one_line_failure(result, 1, "NetworkError", "Connection refused")


def test_missing_credentials() -> None:
    result = CliRunner().invoke(app, ["--endpoint", "http://127.0.0.1:1", "show", "x"])
    assert_one_line_failure(result, 1, "error:", "project id")


def test_usage_error_exits_2(mock: RunningMock) -> None:
    result = run(mock, "show")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- a real subprocess -----------------------------------------------------------------------


def run_process(server: RunningMock, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_for(server)}
    return subprocess.run(
        [sys.executable, "-m", "short_jobs.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subprocess_assess_json(mock: RunningMock, recordings: Path) -> None:
    done = run_process(mock, "assess", str(recordings), "--json")
    assert done.returncode == 0, done.stderr
    assert_assessed_json(done.stdout)


def test_subprocess_failure_is_one_line(mock: RunningMock) -> None:
    done = run_process(mock, "show", "no-such-job", "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if "Warning" not in line]
    # Only our line: third-party import-time warnings (if any) are not ours to judge.
    ours = [line for line in lines if line.startswith("short-jobs:")]
    assert len(ours) == 1 and "NotFoundError" in ours[0] and "request_id=" in ours[0]
    assert "Traceback" not in done.stderr
