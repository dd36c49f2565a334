"""Deterministic lifecycles (issue 20, items 1 and 2), on the service over real SQLite.

- `polls:N` answers exactly N WAITING, N PROCESSING, then the outcome, however long the
  assessment takes and whichever process runs it: the show due to take the last step waits for
  the outcome on the store (two `Service`s on one database file are two `--workers` processes);
- `manual` + `advance` waits the same way;
- a reset abandons the running assessment at once, and its outcome never lands, not even on a
  job that re-uses the id; the worker moves on to the next job without waiting for it;
- the wait is bounded: after `assessment_wait_seconds`, 500 MSS.00000004 naming the setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.core.errors import ApiError
from mock_server.service import lifecycle
from mock_server.service.handlers import Service
from mock_server.service.store import Job, Outcome

PROJECT = "p"
SUCCEEDED = Outcome(state=lifecycle.SUCCEED, assess_result={"suggestion": "ok"})
FAILED = Outcome(state=lifecycle.FAILED, failed_code="MSS.20000002", failed_reason="bad")


class Assessor:
    """Stands in for the assessment: each call blocks (on its thread, as the real one runs)
    until the test releases it, or for `delay` seconds, and answers `outcome`."""

    def __init__(self, outcome: Outcome, delay: float | None = None) -> None:
        self.outcome = outcome
        self.delay = delay
        self.started: list[str] = []
        self.release = threading.Event()
        self.entered = threading.Event()

    def blocking(self, job_id: str) -> Outcome:
        self.started.append(job_id)
        self.entered.set()
        self.release.wait(self.delay)
        return self.outcome


def _service(
    database: Database, data_dir: Path, name: str, assessor: Assessor, **s: Any
) -> Service:
    service = Service(Settings(data_dir=data_dir, processing_seconds=0.0, **s), name, database)

    async def assess(job: Job) -> Outcome:
        from mock_server.service.handlers import off_loop

        return await off_loop(assessor.blocking, job.job_id)

    service.assess = assess  # type: ignore[method-assign]
    return service


def _committed(service: Service, progress: str, job_id: str = "") -> str:
    """A job created and committed straight in the store (its upload is not what is tested)."""
    now = service.clock.now()
    job = Job(
        job_id=job_id or f"job-{now}-{id(service)}",
        project_id=PROJECT,
        job_type="VOICE_ASSESS",
        language="CN",
        app_user_id=None,
        state=lifecycle.CREATING,
        create_time=int(now),
        lastupdate_time=int(now),
        progress=progress,
    )
    service.store.insert(job)
    assert service.store.transition(job, lifecycle.commit(job, now, 0.0))
    service.wake()
    return job.job_id


@contextlib.asynccontextmanager
async def _working(service: Service) -> AsyncIterator[None]:
    worker = asyncio.create_task(service.run_worker())
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def _run(tmp_path: Path, body: Callable[[Path, Database], Any]) -> Any:
    database = Database(tmp_path / "jobs.sqlite3")
    try:
        return asyncio.run(body(tmp_path, database))
    finally:
        database.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    every=st.integers(1, 4),
    delay=st.sampled_from([0.0, 0.01, 0.05, 0.2]),
    outcome=st.sampled_from([SUCCEEDED, FAILED]),
    other_process=st.booleans(),
    extra_shows=st.integers(0, 4),
)
@example(every=2, delay=0.2, outcome=SUCCEEDED, other_process=False, extra_shows=0)
@example(every=2, delay=0.2, outcome=SUCCEEDED, other_process=True, extra_shows=3)
def test_polls_gives_the_documented_sequence_however_long_the_assessment_takes(
    tmp_path_factory: pytest.TempPathFactory,
    every: int,
    delay: float,
    outcome: Outcome,
    other_process: bool,
    extra_shows: int,
) -> None:
    """Back-to-back shows (no pause between them) see N WAITING, N PROCESSING, then the
    outcome, whether the assessment runs in the process that answers the shows or another."""

    async def body(data_dir: Path, database: Database) -> list[str]:
        assessor = Assessor(outcome, delay)
        shows = _service(database, data_dir, "a", assessor)
        # with other_process, the shows' process runs no worker: the other one assesses
        worker = (
            _service(Database(database.path), data_dir, "b", assessor) if other_process else shows
        )
        async with _working(worker):
            job_id = _committed(shows, f"polls:{every}")
            return [
                (await shows.show(PROJECT, job_id))["state"]
                for _ in range(2 * every + 1 + extra_shows)
            ]

    seen = _run(tmp_path_factory.mktemp("polls"), body)
    expected = [lifecycle.WAITING] * every + [lifecycle.PROCESSING] * every
    assert seen == expected + [outcome.state] * (1 + extra_shows)


def test_manual_advance_waits_for_the_assessment_of_another_process(tmp_path: Path) -> None:
    from mock_server.control.handlers import Control
    from mock_server.control.store import ControlStore

    async def body(data_dir: Path, database: Database) -> list[str]:
        assessor = Assessor(SUCCEEDED, delay=0.2)
        here = _service(database, data_dir, "a", assessor)
        there = _service(Database(database.path), data_dir, "b", assessor)
        control = Control(here, ControlStore(database))
        async with _working(there):
            job_id = _committed(here, lifecycle.MANUAL)
            states = [(await here.show(PROJECT, job_id))["state"]]
            states.append((await control.advance_job(job_id))["state"])
            states.append((await control.advance_job(job_id))["state"])
            states.append((await here.show(PROJECT, job_id))["state"])
        return states

    assert _run(tmp_path, body) == ["WAITING", "PROCESSING", "SUCCEED", "SUCCEED"]


def test_a_reset_abandons_the_running_assessment_and_its_outcome_never_lands(
    tmp_path: Path,
) -> None:
    """The issue's race: an assessment still running when the fixture resets. The worker drops
    it at once (the next job is assessed while the first is still blocked), and when it ends
    nothing is written, even to a new job that has the same id."""

    async def body(data_dir: Path, database: Database) -> tuple[Job | None, list[str]]:
        stale = Assessor(SUCCEEDED)  # blocked until released
        service = _service(database, data_dir, "a", stale)
        async with _working(service):
            job_id = _committed(service, lifecycle.MANUAL, "re-used-id")
            await asyncio.to_thread(stale.entered.wait, 10)
            database.reset()
            fresh = Assessor(FAILED, delay=0)
            service.assess = _service(database, data_dir, "x", fresh).assess  # type: ignore[method-assign]
            _committed(service, lifecycle.MANUAL, job_id)  # the same id, made again
            again = await service.outcome_of(service.store.get(job_id))  # type: ignore[arg-type]
            assert not stale.release.is_set()  # the first assessment is still running
            stale.release.set()
            await asyncio.to_thread(lambda: None)
            for _ in range(50):  # let the released thread deliver, if it would
                await asyncio.sleep(0)
            return service.store.get(job_id), [again.outcome.state if again.outcome else ""]

    job, seen = _run(tmp_path, body)
    assert seen == ["FAILED"]  # the new job's own assessment
    assert job is not None and job.outcome == FAILED  # the stale SUCCEED never overwrote it


def test_the_wait_is_bounded_and_says_why(tmp_path: Path) -> None:
    async def body(data_dir: Path, database: Database) -> ApiError:
        blocked = Assessor(SUCCEEDED)
        service = _service(database, data_dir, "a", blocked, assessment_wait_seconds=0.0)
        async with _working(service):
            job_id = _committed(service, "polls:1")
            assert (await service.show(PROJECT, job_id))["state"] == "WAITING"
            assert (await service.show(PROJECT, job_id))["state"] == "PROCESSING"
            with pytest.raises(ApiError) as timed_out:
                await service.show(PROJECT, job_id)
            blocked.release.set()
        return timed_out.value

    error = _run(tmp_path, body)
    assert (error.code.status, error.code.code) == (500, "MSS.00000004")
    assert "did not finish within 0 s (--assessment-wait-seconds)" in error.message


def test_advance_of_a_job_never_committed_says_there_is_nothing_to_wait_for(tmp_path: Path) -> None:
    from mock_server.control.handlers import Control
    from mock_server.control.store import ControlStore

    async def body(data_dir: Path, database: Database) -> ApiError:
        service = _service(database, data_dir, "a", Assessor(SUCCEEDED, delay=0))
        control = Control(service, ControlStore(database))
        job_id = _committed(service, lifecycle.MANUAL)
        await control.set_job_state(job_id, {"state": "WAITING"})
        job = service.store.get(job_id)
        assert job is not None
        service.store.transition(job, replace(job, committed_at=None))
        await control.advance_job(job_id)  # WAITING -> PROCESSING
        with pytest.raises(ApiError) as refused:
            await control.advance_job(job_id)
        return refused.value

    error = _run(tmp_path, body)
    assert error.code.code == "MSS.00000003" and "never committed" in error.message
