"""`short-jobs-mock assess`: the mock's answer for local recordings, before paying for a job."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT
from typer.testing import CliRunner

from mock_server.faces.assess_cli import EXIT_FAILED, EXIT_OUT_OF_RANGE, app
from mock_server.pytest_plugin import MockHandle
from mock_server.samples import make_zip, speech_like_wav, speech_like_wav_bytes
from short_jobs_client.models import AssessResult

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recordings")
    # 2.5 s takes: one DNSMOS window each, 2 s ones two (see tests/conftest.py, `recordings`)
    speech_like_wav(root / "a.wav", seconds=2.5, seed=1)
    (root / "takes").mkdir()
    speech_like_wav(root / "takes" / "b.wav", seconds=2.5, seed=2, noise_db=-30.0)
    return root


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_folder_gives_the_job_and_each_file(folder: Path) -> None:
    code, answer = run_json(str(folder), "--language", "EN")
    assert code == 0
    assert answer["state"] == "SUCCEED"
    result = answer["assess_result"]
    assert isinstance(result, dict) and "2 file(s), 5.0 s" in result["suggestion"]
    files = answer["files"]
    assert isinstance(files, list)
    assert [f["name"] for f in files] == ["a.wav", "takes/b.wav"]
    noisy = files[1]["assess_result"]
    assert noisy["snr"]["status"] == 1 and files[0]["assess_result"]["snr"]["status"] == 0


def test_strict_fails_when_a_metric_is_out_of_range(folder: Path) -> None:
    result = runner.invoke(app, [str(folder / "takes" / "b.wav"), "--strict"])
    assert result.exit_code == EXIT_OUT_OF_RANGE
    assert "out of range" in result.stdout
    assert "takes/b.wav" not in result.stdout and "b.wav" in result.stdout


def test_a_job_that_would_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not audio")
    code, answer = run_json(str(bad))
    assert code == EXIT_FAILED
    assert answer == {
        "state": "FAILED",
        "job_failed_code": "MSS.20000002",
        "job_failed_reason": "bad.wav: not a RIFF/WAVE file",
    }
    plain = runner.invoke(app, [str(bad)])
    assert plain.exit_code == EXIT_FAILED
    assert "FAILED: MSS.20000002: bad.wav: not a RIFF/WAVE file" in plain.stdout


def test_a_zip_is_assessed_as_uploaded(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "u.zip", {"x/one.wav": speech_like_wav_bytes(2.0)})
    code, answer = run_json(str(path))
    assert code == 0
    assert [f["name"] for f in answer["files"]] == ["x/one.wav"]
    unsafe = make_zip(tmp_path / "evil.zip", {"../one.wav": speech_like_wav_bytes(2.0)})
    code, answer = run_json(str(unsafe))
    assert code == EXIT_FAILED and answer["job_failed_code"] == "MSS.20000003"


def test_paths_that_cannot_be_zipped_are_usage_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, [str(tmp_path / "missing.wav")]).exit_code == 2
    (tmp_path / "notes.txt").write_text("x")
    assert runner.invoke(app, [str(tmp_path)]).exit_code == 2  # no WAV in the folder
    assert runner.invoke(app, [str(tmp_path), "--language", "FR"]).exit_code == 2


def test_the_answer_is_what_the_mock_answers(short_jobs_mock: MockHandle, folder: Path) -> None:
    _, answer = run_json(str(folder))
    job = short_jobs_mock.client.assess(folder, timeout=60)
    assert isinstance(job.assess_result, AssessResult)
    assert job.assess_result.to_dict() == answer["assess_result"]


@pytest.mark.slow
def test_the_installed_command(folder: Path) -> None:
    """`short-jobs-mock assess` reaches this command; the server's options are untouched."""
    script = Path(sys.executable).parent / "short-jobs-mock"
    done = subprocess.run(
        [str(script), "assess", str(folder / "a.wav"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "SUCCEED"
    helped = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--port" in helped.stdout


def readme_commands() -> list[str]:
    """The `short-jobs-mock assess` lines of docs/assessment.md's example, comments dropped."""
    readme = (ROOT / "docs" / "assessment.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(\.venv/bin/short-jobs-mock assess .*?)```", readme, re.S)
    assert len(blocks) == 1, (
        "docs/assessment.md has no (or several) short-jobs-mock assess examples"
    )
    return [line.split("#")[0].strip() for line in blocks[0].splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_example(tmp_path: Path) -> None:
    """Run as written, in a folder holding the files it names."""
    (tmp_path / "my-recordings").mkdir()  # 2.5 s takes: one DNSMOS window each, as above
    speech_like_wav(tmp_path / "my-recordings" / "take1.wav", seconds=2.5, seed=1)
    speech_like_wav(tmp_path / "a.wav", seconds=2.5, seed=2)
    speech_like_wav(tmp_path / "b.wav", seconds=2.5, seed=3)
    make_zip(tmp_path / "recordings.zip", {"r/c.wav": speech_like_wav_bytes(2.5, seed=4)})
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    codes = []
    for command in readme_commands():
        done = subprocess.run(
            shlex.split(command), cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        codes.append(done.returncode)
        if "--json" in command:
            assert json.loads(done.stdout)["state"] == "SUCCEED"
    # the generated recordings are not speech: DNSMOS OVRL is out of range, so --strict says so
    assert codes == [0, 0, EXIT_OUT_OF_RANGE]


def test_the_local_report_reads_like_short_jobs_show(folder: Path) -> None:
    """Same verdicts and widths as the client's report: an unmeasured metric is `not measured`
    (never `ok`), advice in the language asked for, and in a pipe no line is wrapped."""
    from rich.console import Console

    from mock_server.faces.assess_cli import _print, evaluate

    answer = evaluate([folder], "EN")
    answer["assess_result"]["reverb"].update(actual="n/a", status=0)
    answer["files"][0]["assess_result"]["reverb"].update(actual="n/a", status=0)
    console = Console(width=10_000, soft_wrap=True, color_system=None)
    with console.capture() as captured:
        _print(answer, console, "EN")
    text = captured.get()
    [reverb] = [line for line in text.splitlines() if line.startswith("reverberation")]
    assert reverb.split()[-2:] == ["not", "measured"], reverb
    assert re.search(r"^a\.wav\n(?:  .*\n)*?  reverb +n/a  \(not measured\)$", text, re.M), text
    assert not re.search(r"[\u4e00-\u9fff]", text.split("overall:")[0]), text  # EN advice
    piped = runner.invoke(app, [str(folder), "--language", "EN"])
    assert piped.exit_code == 0, piped.output
    assert any(len(line) > 80 for line in piped.stdout.splitlines()), "wrapped in a pipe"
