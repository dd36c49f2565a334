"""Every path and option is checked before the first request; nothing measured is lost to a
late check (issue 19, item 8).

A bad path given to any command of ``short-jobs`` (an output file of ``conformance``, its
``--spec``, the recordings of ``assess`` and ``upload``) is a usage error: exit 2, one stderr
line, and not one request reaches the mock. An output that fails to be written after the run
(``/dev/full`` answers every write with ENOSPC) costs its file only: the report is on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli_env
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from mock_server.faces.inprocess import RunningMock
from mock_server.pytest_plugin import MockHandle
from mock_server.samples import speech_like_wav
from short_jobs.cli import app

pytestmark = pytest.mark.usefixtures("clean_client_env")


def assert_usage_error_before_any_request(result: Result, handle: MockHandle, *words: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert handle.requests() == [], "a request went out before the check"


def test_the_named_record_path_is_refused_before_the_first_request(
    short_jobs_mock: MockHandle,
) -> None:
    result = CliRunner().invoke(
        app,
        ["conformance", "--record", "/nonexistent-dir/run.har"],
        env=cli_env(short_jobs_mock.server),
    )
    assert_usage_error_before_any_request(
        result, short_jobs_mock, "--record", "/nonexistent-dir", "does not exist"
    )


def bad_output(tmp: Path, kind: str) -> Path:
    """An output path that cannot be written, of the given kind."""
    if kind == "missing-directory":
        return tmp / "no-such-dir" / "deeper" / "out.file"
    if kind == "a-directory":
        (tmp / "a-dir").mkdir(exist_ok=True)
        return tmp / "a-dir"
    if kind == "under-a-file":
        (tmp / "plain-file").write_text("x")
        return tmp / "plain-file" / "out.file"
    # Refused only when the file is created: os.access says yes to root (the tests run as root).
    if kind == "in-proc":
        return Path("/proc/run.har")
    if kind == "in-sys":
        return Path("/sys/run.har")
    if kind == "dangling-symlink":
        link = tmp / "dangling.har"
        link.symlink_to("/nonexistent/dir/x.har")
        return link
    if kind == "name-too-long":
        return tmp / ("a" * 300 + ".har")
    raise AssertionError(kind)


OUTPUT_KINDS = [
    "missing-directory",
    "a-directory",
    "under-a-file",
    "in-proc",
    "in-sys",
    "dangling-symlink",
    "name-too-long",
]


@pytest.mark.parametrize("kind", OUTPUT_KINDS[3:])
def test_a_path_refused_only_at_write_time_is_refused_before_the_first_request(
    short_jobs_mock: MockHandle, tmp_path: Path, kind: str
) -> None:
    path = bad_output(tmp_path, kind)
    result = CliRunner().invoke(
        app, ["conformance", "--record", str(path)], env=cli_env(short_jobs_mock.server)
    )
    assert_usage_error_before_any_request(result, short_jobs_mock, "--record", "cannot be written")


@pytest.mark.parametrize("option", ["--record", "--junit-xml"])
def test_a_file_the_check_created_is_removed_when_nothing_is_written(
    short_jobs_mock: MockHandle, tmp_path: Path, option: str
) -> None:
    out = tmp_path / "out.file"
    result = CliRunner().invoke(
        app,
        ["conformance", option, str(out), "--spec", str(tmp_path / "missing.yaml")],
        env=cli_env(short_jobs_mock.server),
    )
    assert_usage_error_before_any_request(result, short_jobs_mock, "--spec")
    assert not out.exists()


def test_an_existing_output_is_untouched_until_the_run_writes_it(
    short_jobs_mock: MockHandle, tmp_path: Path
) -> None:
    out = tmp_path / "kept.xml"
    out.write_text("yesterday's report")
    result = CliRunner().invoke(
        app,
        ["conformance", "--junit-xml", str(out), "--spec", str(tmp_path / "missing.yaml")],
        env=cli_env(short_jobs_mock.server),
    )
    assert result.exit_code == 2
    assert out.read_text() == "yesterday's report"


def test_a_symlink_to_a_new_file_is_written_through(mock: RunningMock, tmp_path: Path) -> None:
    link = tmp_path / "link.xml"
    link.symlink_to(tmp_path / "target.xml")
    result = CliRunner().invoke(
        app, ["conformance", "--max-jobs", "0", "--junit-xml", str(link)], env=cli_env(mock)
    )
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and (tmp_path / "target.xml").read_text().startswith("<?xml")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(
    option=st.sampled_from(["--record", "--junit-xml"]),
    kind=st.sampled_from(OUTPUT_KINDS),
    other=st.sampled_from(["--json", "--max-jobs=1", "--timeout=5"]),
)
@example(option="--junit-xml", kind="missing-directory", other="--json")
@example(option="--record", kind="dangling-symlink", other="--timeout=5")
def test_every_unwritable_output_is_a_usage_error_before_the_first_request(
    short_jobs_mock: MockHandle,
    tmp_path_factory: pytest.TempPathFactory,
    option: str,
    kind: str,
    other: str,
) -> None:
    short_jobs_mock.clear_requests()
    path = bad_output(tmp_path_factory.mktemp("out"), kind)
    result = CliRunner().invoke(
        app, ["conformance", other, option, str(path)], env=cli_env(short_jobs_mock.server)
    )
    assert_usage_error_before_any_request(result, short_jobs_mock, option)


def test_a_link_to_the_other_output_is_the_same_file(
    short_jobs_mock: MockHandle, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (tmp_path / "link").symlink_to(out)
    result = CliRunner().invoke(
        app,
        ["conformance", "--record", str(out), "--junit-xml", str(tmp_path / "link")],
        env=cli_env(short_jobs_mock.server),
    )
    assert_usage_error_before_any_request(result, short_jobs_mock, "same file")
    assert not out.exists()


def test_the_same_file_for_both_outputs_is_refused(
    short_jobs_mock: MockHandle, tmp_path: Path
) -> None:
    out = str(tmp_path / "out")
    result = CliRunner().invoke(
        app,
        ["conformance", "--record", out, "--junit-xml", out],
        env=cli_env(short_jobs_mock.server),
    )
    assert_usage_error_before_any_request(result, short_jobs_mock, "same file")


@pytest.mark.parametrize("content", [None, "paths: [unclosed", "just a string", b"\xff\xfe"])
def test_a_spec_that_cannot_be_read_is_a_usage_error(
    short_jobs_mock: MockHandle, tmp_path: Path, content: str | bytes | None
) -> None:
    spec = tmp_path / "openapi.yaml"
    if isinstance(content, str):
        spec.write_text(content)
    elif isinstance(content, bytes):
        spec.write_bytes(content)
    result = CliRunner().invoke(
        app, ["conformance", "--spec", str(spec)], env=cli_env(short_jobs_mock.server)
    )
    assert_usage_error_before_any_request(result, short_jobs_mock, "--spec")


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: tmp / "missing.wav",
        lambda tmp: tmp / "missing-dir",
        lambda tmp: (tmp / "empty-dir").mkdir() or tmp / "empty-dir",
        lambda tmp: (tmp / "fake.zip").write_text("not a zip") and tmp / "fake.zip",
        lambda tmp: (tmp / "notes.txt").write_text("text") and tmp / "notes.txt",
    ],
    ids=["missing-file", "missing-dir", "dir-without-wavs", "not-a-zip", "not-a-wav"],
)
@pytest.mark.parametrize("command", ["assess", "upload"])
def test_bad_recordings_are_a_usage_error_before_the_first_request(
    short_jobs_mock: MockHandle, tmp_path: Path, make: object, command: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    good = speech_like_wav(tmp_path / "good.wav", seconds=1.0)
    url = f"{short_jobs_mock.server.url}/bucket/never.zip?Signature=x"
    args = [command] + ([url] if command == "upload" else []) + [str(good), str(path)]
    result = CliRunner().invoke(app, args, env=cli_env(short_jobs_mock.server))
    assert_usage_error_before_any_request(result, short_jobs_mock)


# --- a failure to write loses nothing measured ------------------------------------------------


@pytest.mark.parametrize("option", ["--junit-xml", "--record"])
@pytest.mark.parametrize("as_json", [False, True])
def test_an_output_that_fails_to_write_keeps_the_report_on_stdout(
    mock: RunningMock, option: str, as_json: bool
) -> None:
    args = ["conformance", "--max-jobs", "1", option, "/dev/full"] + (["--json"] if as_json else [])
    result = CliRunner().invoke(app, args, env=cli_env(mock))
    assert result.exit_code == 1, (result.stdout, result.stderr)
    if as_json:
        assert json.loads(result.stdout)["summary"]["drifted"] == 0
    else:
        assert result.stdout.splitlines()[-1].endswith("requests)")  # the summary line
    error = result.stderr.splitlines()[-1]
    assert option in error and "/dev/full" in error
