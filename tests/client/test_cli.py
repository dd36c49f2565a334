"""The ``short-jobs`` command line against the live mock: every command, ``--json`` output that
parses, and failures that are one line on stderr with a non-zero exit and never a traceback.

Most runs use typer's ``CliRunner`` (in-process, fast); a few run ``python -m short_jobs.cli`` as
a real subprocess, the way a user's shell does.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, free_port
from stub_service import (
    JOB_ID,
    PROJECT,
    UNKNOWN_JOB_TYPE,
    UNKNOWN_STATE,
    WALK,
    Stub,
    job,
    running_stub,
)
from typer.testing import CliRunner, Result

from mock_server.faces.inprocess import RunningMock
from mock_server.pytest_plugin import MockHandle
from mock_server.samples import speech_like_wav
from short_jobs import ShortJobs
from short_jobs.cli import GLOBAL_OPTIONS, app
from short_jobs.retry import DEFAULT_RETRY

pytestmark = pytest.mark.usefixtures("clean_client_env")

METRICS = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")


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


def assert_one_line_failure(
    result: Result, exit_code: int, *fragments: str, stdout: bool = False
) -> str:
    """Exit ``exit_code``, nothing on stdout (unless ``stdout``), one stderr line with every
    fragment."""
    assert result.exit_code == exit_code, (result.stdout, result.stderr, result.exception)
    assert (result.stdout != "") is stdout
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


# --- every command ---------------------------------------------------------------------------


def test_assess_prints_the_metrics_table(mock: RunningMock, recordings: Path) -> None:
    result = run(mock, "assess", str(recordings))
    assert_ok(result)
    assert "SUCCEED" in result.stdout
    for label in ("speaking rate", "loudness", "signal-to-noise", "reverberation", "DNSMOS"):
        assert label in result.stdout
    for column in ("metric", "actual", "expected", "verdict"):
        assert column in result.stdout


def test_assess_json_is_the_only_stdout(mock: RunningMock, tmp_path: Path) -> None:
    speech_like_wav(tmp_path / "a.wav", seconds=2.5)  # 2.5 s: one DNSMOS window, 2 s two
    speech_like_wav(tmp_path / "b.wav", seconds=2.5, seed=3)
    result = run(mock, "assess", str(tmp_path), "--json", "--language", "en", "--timeout", "60")
    assert_ok(result)
    assert_assessed_json(result.stdout)


def test_assess_several_wav_files_with_token_and_app_user_id(
    mock: RunningMock, tmp_path: Path
) -> None:
    wavs = [speech_like_wav(tmp_path / f"{n}.wav", seconds=2.5, seed=n) for n in range(2)]
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
    assert_one_line_failure(result, 2, "error:", "project id", "--project-id")


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
    line = assert_one_line_failure(
        result, 3, "JobFailedError", "job_id=", "error_code=MSS.", stdout=True
    )
    job = json.loads(result.stdout)  # --json always prints the final job
    assert job["state"] == "FAILED" and job["job_id"] in line
    assert job["job_failed_code"].startswith("MSS.") and "broken.wav" in job["job_failed_reason"]


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
    monkeypatch.chdir(ROOT)
    assert_one_line_failure(run(mock, *args), 2, "error:", fragment)


def test_bad_endpoint(mock: RunningMock) -> None:
    result = run(mock, "--endpoint", "not an endpoint", "show", "x")
    assert_one_line_failure(result, 2, "error:", "endpoint")


def test_connection_refused(mock: RunningMock, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []  # the retries' pauses, recorded instead of slept
    monkeypatch.setattr(
        "short_jobs.cli.ShortJobs", functools.partial(ShortJobs, sleep=slept.append)
    )
    result = run(mock, "show", "x", SHORT_JOBS_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert_one_line_failure(result, 1, "NetworkError", "Connection refused")
    assert len(slept) == DEFAULT_RETRY.attempts - 1  # retried, then reported


def test_missing_credentials() -> None:
    result = CliRunner().invoke(app, ["--endpoint", "http://127.0.0.1:1", "show", "x"])
    line = assert_one_line_failure(result, 2, "error:", "project id", "--project-id")
    assert "project_id=" not in line  # CLI terms, not Python's


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


@pytest.mark.slow
def test_subprocess_assess_json(mock: RunningMock, recordings: Path) -> None:
    done = run_process(mock, "assess", str(recordings), "--json")
    assert done.returncode == 0, done.stderr
    assert_assessed_json(done.stdout)


@pytest.mark.slow
def test_subprocess_failure_is_one_line(mock: RunningMock) -> None:
    done = run_process(mock, "show", "no-such-job", "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if "Warning" not in line]
    # Only our line: third-party import-time warnings (if any) are not ours to judge.
    ours = [line for line in lines if line.startswith("short-jobs:")]
    assert len(ours) == 1 and "NotFoundError" in ours[0] and "request_id=" in ours[0]
    assert "Traceback" not in done.stderr


# --- mistakes answered at once, in the command line's terms ----------------------------------


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert_ok(result)
    assert re.fullmatch(r"short-jobs \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


COMMANDS = {
    "assess": ["recordings.zip"],
    "create": [],
    "upload": ["URL", "recordings.zip"],
    "commit": ["JOB"],
    "show": ["JOB"],
    "wait": ["JOB"],
    "conformance": [],
}


def test_every_command_is_covered_by_the_hint_tests() -> None:
    names = {c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands}
    assert set(COMMANDS) == names


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("option", GLOBAL_OPTIONS)
def test_a_global_option_after_the_command_gets_a_hint(
    mock: RunningMock, option: str, command: str
) -> None:
    result = run(mock, command, *COMMANDS[command], option, "value")
    assert result.exit_code == 2
    assert "put it before the command" in result.output
    assert f"short-jobs {option} VALUE {command}" in " ".join(result.output.split())


def test_a_command_option_before_the_command_gets_a_hint(mock: RunningMock) -> None:
    result = run(mock, "--json", "show", "JOB")
    assert result.exit_code == 2
    assert "put it after the command" in result.output and "show" in result.output


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        ([], {"HUAWEICLOUD_SDK_AK": "MOCKACCESSKEY0000000\n"}, "HUAWEICLOUD_SDK_AK"),
        (["--ak", "MOCKACCESSKEY0000000 "], {}, "--ak"),
        (["--project-id", "\u200bproject"], {}, "--project-id"),
        (["--token", "tok\r\n"], {}, "--token"),
    ],
)
def test_credentials_with_invisible_characters_are_refused_at_once(
    mock: RunningMock, args: list[str], env: dict[str, str], named: str
) -> None:
    result = run(mock, *args, "show", "x", **env)
    line = assert_one_line_failure(result, 2, "error:", named, "invisible")
    assert "NetworkError" not in line


def test_wait_on_a_job_never_committed_says_so(
    mock: RunningMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("short_jobs._base.COMMIT_GRACE", 0.0)  # the grace's length is unit-tested
    job_id = json.loads(run(mock, "create", "--json").stdout)["job_id"]
    result = run(mock, "wait", job_id)
    assert_one_line_failure(
        result, 1, "JobNotCommittedError", "never committed", f"short-jobs commit {job_id}"
    )


def test_assess_takes_several_directories(mock: RunningMock, tmp_path: Path) -> None:
    for n, folder in enumerate(("day1", "day2")):
        (tmp_path / folder).mkdir()
        speech_like_wav(tmp_path / folder / "take.wav", seconds=2.5, seed=n)
    result = run(mock, "assess", str(tmp_path / "day1"), str(tmp_path / "day2"), "--json")
    assert_ok(result)
    assert_assessed_json(result.stdout)


def test_upload_zips_a_wav_file_first(mock: RunningMock, tmp_path: Path) -> None:
    wav = speech_like_wav(tmp_path / "take.wav", seconds=2.5)
    job = json.loads(run(mock, "create", "--json").stdout)
    assert_ok(run(mock, "upload", job["data_uploading_url"], str(wav)))
    assert_ok(run(mock, "commit", job["job_id"]))
    waited = run(mock, "wait", job["job_id"], "--json", "--timeout", "60")
    assert_ok(waited)
    assert_assessed_json(waited.stdout)


def test_upload_refuses_what_is_no_recording_before_sending(
    mock: RunningMock, tmp_path: Path
) -> None:
    job = json.loads(run(mock, "create", "--json").stdout)
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio")
    result = run(mock, "upload", job["data_uploading_url"], str(notes))
    assert_one_line_failure(result, 2, "error:", "not a .wav file, a .zip or a directory")
    shown = json.loads(run(mock, "show", job["job_id"], "--json").stdout)
    assert shown["state"] == "CREATING"


def test_ctrl_c_during_wait_says_the_job_goes_on(
    mock: RunningMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("short_jobs.cli.ShortJobs.wait", interrupted)
    result = run(mock, "wait", "job-42")
    line = assert_one_line_failure(result, 130, "interrupted", "goes on in the service")
    assert "short-jobs wait job-42" in line


def test_ctrl_c_during_assess_before_the_commit_says_nothing_runs(
    mock: RunningMock, monkeypatch: pytest.MonkeyPatch, recordings: Path
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("short_jobs.cli.ShortJobs.commit", interrupted)
    result = run(mock, "assess", str(recordings))
    assert_one_line_failure(result, 130, "interrupted", "not committed", "short-jobs assess")


# --- a newer service: states and types this client does not know ----------------------------


def stub_env(stub: Stub) -> dict[str, str]:
    return {
        "SHORT_JOBS_ENDPOINT": stub.url,
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        "HUAWEICLOUD_SDK_TOKEN": "any",
    }


def test_cli_shows_and_waits_through_an_unknown_state() -> None:
    script = [job(state, UNKNOWN_JOB_TYPE) for state in WALK]
    with running_stub(script) as stub:
        first = CliRunner().invoke(app, ["show", JOB_ID, "--json"], env=stub_env(stub))
        second = CliRunner().invoke(app, ["show", JOB_ID], env=stub_env(stub))
        waited = CliRunner().invoke(app, ["wait", JOB_ID, "--json"], env=stub_env(stub))
    assert_ok(first)
    assert json.loads(first.stdout)["state"] == "WAITING"
    assert_ok(second)
    assert f"{UNKNOWN_STATE} (a state new to this client)" in second.stdout
    assert f"job type {UNKNOWN_JOB_TYPE}" in second.stdout
    assert_ok(waited)
    final = json.loads(waited.stdout)
    assert final["state"] == "SUCCEED" and final["job_type"] == UNKNOWN_JOB_TYPE
    assert final["gpu_seconds"] == 1.5  # a new field, kept
    assert stub.states_seen() == list(WALK)


def test_cli_json_emits_the_raw_unknown_state() -> None:
    with running_stub([job(UNKNOWN_STATE, UNKNOWN_JOB_TYPE)]) as stub:
        result = CliRunner().invoke(app, ["show", JOB_ID, "--json"], env=stub_env(stub))
    assert_ok(result)
    assert json.loads(result.stdout) == job(UNKNOWN_STATE, UNKNOWN_JOB_TYPE)
