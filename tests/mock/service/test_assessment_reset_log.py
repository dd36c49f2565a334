"""A reset that lands while an assessment runs (issue 19, item 1: assessment/reset): the
assessment ends, its outcome is dropped, and the mock's log says so in exactly one debug line,
"assessment of job JOB ended by a reset", whenever the reset came: before the claimed job's
turn, while the assessment runs, or as it ends (between the worker's last look and its save).
A claim lost otherwise (another worker kept an outcome) is not called a reset."""

from __future__ import annotations

import asyncio
import io
import logging
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.service import lifecycle
from mock_server.service.handlers import Service
from mock_server.service.store import Job, Outcome

OUTCOME = Outcome(state=lifecycle.FAILED, failed_code="MSS.20000002", failed_reason="x")
LOGGER = "mock_server.service"


def _service(tmp_path: Path) -> Service:
    settings = Settings(data_dir=tmp_path, processing_seconds=0.0, control=True)
    return Service(settings, "gen", Database(tmp_path / "jobs.sqlite3"))


def _claimed(service: Service) -> tuple[Job, str]:
    """A committed job, claimed by lease "gen:1" as the worker claims it."""
    scope: dict[str, Any] = {"headers": [(b"host", b"127.0.0.1:8000")], "scheme": "http"}
    body = {"job_type": "VOICE_ASSESS", "language": "CN"}
    job_id = service.create(service.settings.project_id, body, scope)["job_id"]
    temporary = service.uploads.incoming()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("take.wav", b"not audio")
    temporary.write_bytes(out.getvalue())
    assert service.install_upload(job_id, temporary) is None
    asyncio.run(service.commit_short_job(service.settings.project_id, job_id))
    lease = "gen:1"
    claimed = service.store.claim_unassessed(lease, time.time(), 120.0)
    assert [job.job_id for job in claimed] == [job_id]
    return claimed[0], lease


def _reset_lines(caplog: pytest.LogCaptureFixture, job_id: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER
        and record.levelno == logging.DEBUG
        and job_id in record.getMessage()
        and "ended by a reset" in record.getMessage()
    ]


def _assess_for(moment: str, service: Service) -> Any:
    """The assessment (`Service.assess`'s stand-in), with the reset landing at `moment`."""
    never = asyncio.Event()

    async def while_running(job: Job) -> Outcome:
        service.store.database.reset()  # the reset lands; the assessment goes on (never ends)
        await never.wait()
        return OUTCOME

    async def as_it_ends(job: Job) -> Outcome:
        service.store.database.reset()  # lands just before the assessment hands its outcome
        return OUTCOME

    async def untouched(job: Job) -> Outcome:
        return OUTCOME

    return {"while running": while_running, "as it ends": as_it_ends}.get(moment, untouched)


@pytest.mark.parametrize("moment", ["before its turn", "while running", "as it ends"])
def test_a_reset_during_an_assessment_is_one_debug_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, moment: str
) -> None:
    service = _service(tmp_path)
    job, lease = _claimed(service)
    if moment == "before its turn":
        service.store.database.reset()
    service.assess = _assess_for(moment, service)  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        asyncio.run(service.assess_leased(job, lease))
    assert _reset_lines(caplog, job.job_id) == [f"assessment of job {job.job_id} ended by a reset"]
    assert service.store.get(job.job_id) is None  # and nothing came back
    service.store.close()


def test_no_reset_no_reset_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An assessment that keeps its outcome, and one whose claim another worker's outcome
    ended: neither is said to be ended by a reset."""
    service = _service(tmp_path)
    job, lease = _claimed(service)
    service.assess = _assess_for("untouched", service)  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        asyncio.run(service.assess_leased(job, lease))
        kept = service.store.get(job.job_id)
        assert kept is not None and kept.outcome == OUTCOME
        again, other = _claimed(service)
        service.store.save_outcome(again.job_id, OUTCOME, 0.0, replace=True)  # another's
        asyncio.run(service.assess_leased(again, other))
    assert _reset_lines(caplog, job.job_id) == []
    assert _reset_lines(caplog, again.job_id) == []
    service.store.close()
