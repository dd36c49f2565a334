"""schemathesis, run over the contract against the live mock, finds nothing.

The test starts the real mock (which also validates its own responses against the spec) and runs
the schemathesis CLI over `openapi.yaml` with every phase (examples, coverage, fuzzing, stateful)
and every check, configured by `schemathesis.toml` (token auth, the project fixed so requests get
past the gateway, warnings fail the run).

This module is also the run's schemathesis hooks file (`SCHEMATHESIS_HOOKS`): loaded by
schemathesis, it registers two hooks, and nothing else happens on import.

- `after_call`: every job `create_short_job` answers gets a zip of recordings PUT to its
  `data_uploading_url` (an upload the spec cannot describe), so `commit_short_job` can succeed
  and the stateful phase walks the whole lifecycle: create, commit, show (assessed).
- `filter_failure`: MetaStudio answers "not found" and "conflict" with 400 MSS.00000003, not
  404/409 (a decision of the contract), so `positive_data_acceptance` cannot tell a refused
  schema-valid request from an unknown job or a second commit. The hook drops exactly those
  failures whose 400 is true: the job id was never answered by `create_short_job` in this run
  ("does not exist"), or it was committed with a 200 before ("already committed"). Any other 400
  to schema-valid data still fails, and so does "does not exist" for a job this run created
  (what `ensure_resource_availability` checks for APIs whose "not found" is 404).
"""

from __future__ import annotations

import atexit
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx
import pytest
from helpers import ROOT

from mock_server.core.errors import Codes
from mock_server.core.text import printable
from mock_server.faces.inprocess import running_mock
from mock_server.samples import speech_like_wav_bytes

if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from schemathesis import APIOperation, Case, HookContext, Response
    from schemathesis.core.failures import Failure

    AnyCase: TypeAlias = Case[APIOperation[Any, Any, Any, Any]]

SPEC = ROOT / "openapi.yaml"
CONFIG = ROOT / "schemathesis.toml"
SEED = 20261123
MAX_EXAMPLES = 100
PHASES = ("examples", "coverage", "fuzzing", "stateful")
TIMEOUT_SECONDS = 300
COMMIT_LABEL = "POST /v1/{project_id}/voice-training-manage/user/short-jobs/{job_id}"


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with running_mock(tmp_path / "mock-data", processing_seconds=0) as mock:
        env = {
            **os.environ,
            "SHORT_JOBS_MOCK_PROJECT_ID": mock.project_id,
            "SHORT_JOBS_MOCK_TOKEN": mock.token,
            "SCHEMATHESIS_HOOKS": str(Path(__file__).resolve()),
            # the hooks are this module, which imports the tests' helpers
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")])
            ),
        }
        command = [
            sys.executable,  # `st`, from the interpreter running the tests
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            str(SPEC),
            "--url",
            mock.url,
            "--checks",
            "all",
            # The gateway routes on method and path: a method a path does not have is no API,
            # 404 APIGW.0101 (the reference, section 5), not the 405 this check requires.
            "--exclude-checks",
            "unsupported_method",
            "--phases",
            ",".join(PHASES),
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(reports / "report.json"),
        ]
        started = time.monotonic()
        try:
            run = subprocess.run(
                command,
                cwd=tmp_path,  # where schemathesis may write, never the repository
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as timeout:
            partial = timeout.stdout or b""  # bytes, whatever `text` says
            pytest.fail(
                f"schemathesis ran over {TIMEOUT_SECONDS}s\n"
                + (partial.decode(errors="replace") if isinstance(partial, bytes) else partial)
            )
        seconds = time.monotonic() - started
    output = f"$ {' '.join(command)}\n({seconds:.1f}s)\n{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, output

    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    assert report["complete"] and report["stop_reason"] == "completed", output
    operations = report["operations"]
    assert operations["tested"] == operations["selected"] == operations["total"] == 3, output
    assert not operations["errored"] and not operations["skipped"], output
    assert {phase: report["phases"][phase]["status"] for phase in PHASES} == dict.fromkeys(
        PHASES, "success"
    ), output
    assert not report["failures"] and not report["errors"], output
    # The one warning schemathesis.toml lets pass, and only for the one-shot commit (see there).
    warnings = {kind: names for kind, names in report["warnings"].items() if names}
    assert set(warnings.pop("validation_mismatch", [])) <= {COMMIT_LABEL}, output
    assert not warnings, output
    # Every operation had schema-valid requests accepted, so each was exercised beyond the
    # gateway and validation (commit too: the hooks upload the created jobs' recordings).
    assert len(report["valid_rates"]) == 3, output
    for label, phases in report["valid_rates"].items():
        accepted = sum(rates["accepted"] for rates in phases.values())
        assert accepted > 0, f"{label}: no schema-valid request was accepted\n{output}"


# -- the hooks (loaded by schemathesis in its own process, see the module docstring) ------------

CREATE, COMMIT, SHOW = "create_short_job", "commit_short_job", "show_short_job"
# The service's 400s that state a fact about a job rather than refuse the request's shape.
_TRUE_400 = Codes.INVALID_PARAMETER
_DOES_NOT_EXIST = re.compile(rf"{_TRUE_400.message}: job (?P<job_id>.*) does not exist")
_ALREADY_COMMITTED = re.compile(
    rf"{_TRUE_400.message}: job (?P<job_id>.*) is already committed( \(state [A-Z_]+\))?"
)


class _Jobs:
    """What this run did to jobs, as the API answered it (schemathesis may use threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.created: set[str] = set()
        self.committed: set[str] = set()

    def add(self, into: set[str], job_id: str) -> None:
        with self._lock:
            into.add(job_id)

    def has(self, within: set[str], job_id: str) -> bool:
        with self._lock:
            return job_id in within


_jobs = _Jobs()


@cache
def _recordings() -> bytes:
    """A small zip of one speech-like WAV (2 s), the same bytes on every call."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("recordings/sample.wav", date_time=(1980, 1, 1, 0, 0, 0))
        zf.writestr(info, speech_like_wav_bytes(seconds=2.0))
    return buffer.getvalue()


@cache
def _http() -> httpx.Client:
    """One client for every upload of the run: `httpx.put` would build a client, and with it an
    SSL context loading the CA bundle, for each created job (most of the hooks' time)."""
    client = httpx.Client()
    atexit.register(client.close)
    return client


def _operation_id(case: AnyCase) -> str | None:
    raw = case.operation.definition.raw
    return raw.get("operationId") if isinstance(raw, dict) else None


def _job_id(case: AnyCase) -> str:
    """The job id the server saw: schemathesis keeps path parameters percent-encoded."""
    return unquote(str((case.path_parameters or {}).get("job_id")))


def _upload_after_create(context: HookContext, case: AnyCase, response: Response) -> None:
    """`after_call`: upload every created job's recordings; note every committed job."""
    if response.status_code != 200:
        return
    operation = _operation_id(case)
    if operation == CREATE:
        body = response.json()
        upload = _http().put(
            body["data_uploading_url"],
            content=_recordings(),
            headers={"Content-Type": "application/zip"},
            timeout=30,
        )
        upload.raise_for_status()
        _jobs.add(_jobs.created, body["job_id"])
    elif operation == COMMIT:
        _jobs.add(_jobs.committed, _job_id(case))


def _keep_failure(
    context: HookContext, failure: Failure, case: AnyCase, response: Response
) -> bool:
    """`filter_failure`: drop only a positive_data_acceptance failure whose 400 is true."""
    from schemathesis.openapi.checks import RejectedPositiveData

    operation = _operation_id(case)
    if not isinstance(failure, RejectedPositiveData) or operation not in (COMMIT, SHOW):
        return True
    if response.status_code != _TRUE_400.status:
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    if not isinstance(body, dict) or body.get("error_code") != _TRUE_400.code:
        return True
    job_id = _job_id(case)
    shown = printable(job_id)  # as an error message shows it: non-printables escaped
    message = str(body.get("error_msg"))
    unknown = _DOES_NOT_EXIST.fullmatch(message)
    if unknown and unknown["job_id"] == shown and not _jobs.has(_jobs.created, job_id):
        return False  # a job nobody created: MetaStudio's "not found"
    again = _ALREADY_COMMITTED.fullmatch(message)
    committed_before = operation == COMMIT and _jobs.has(_jobs.committed, job_id)
    return not (again and again["job_id"] == shown and committed_before)  # its "conflict"


def _register_hooks() -> None:
    import schemathesis

    schemathesis.hook("after_call")(_upload_after_create)
    schemathesis.hook("filter_failure")(_keep_failure)


if __name__ == "_schemathesis_hooks":  # the name schemathesis loads a hooks file under
    _register_hooks()
