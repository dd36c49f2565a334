"""When a job moves on by itself (`lifecycle.due_at`), and a show that reads no clock for a job
that cannot (issue 23): `Service.settled` answers what `settle` at the clock's now answers, over
a real SQLite store, and reads the clock only when `due_at` names a time."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.service import lifecycle
from mock_server.service.handlers import Service
from mock_server.service.store import Job, Outcome

NOW = 1_800_000_000.0

outcomes = st.one_of(
    st.none(),
    st.just(Outcome(state=lifecycle.SUCCEED, assess_result={"suggestion": "ok"})),
    st.just(Outcome(state=lifecycle.FAILED, failed_code="MSS.20000002", failed_reason="bad")),
)
jobs = st.builds(
    Job,
    job_id=st.just("j"),
    project_id=st.just("p"),
    job_type=st.just("VOICE_ASSESS"),
    language=st.just("CN"),
    app_user_id=st.none(),
    state=st.sampled_from(
        [lifecycle.CREATING, lifecycle.WAITING, lifecycle.PROCESSING, lifecycle.SUCCEED]
    ),
    create_time=st.just(int(NOW) - 100),
    lastupdate_time=st.just(int(NOW) - 100),
    progress=st.sampled_from(
        [lifecycle.TIMED, lifecycle.IMMEDIATE, lifecycle.MANUAL, "polls:2", "polls:99"]
    ),
    committed_at=st.one_of(st.none(), st.floats(NOW - 100, NOW + 100)),
    processing_seconds=st.one_of(st.none(), st.floats(0, 200)),
    outcome=outcomes,
    outcome_at=st.one_of(st.none(), st.floats(NOW - 100, NOW + 100)),
)


@given(job=jobs, now=st.floats(NOW - 300, NOW + 300))
def test_a_job_is_due_exactly_from_its_due_time_on(job: Job, now: float) -> None:
    at = lifecycle.due_at(job)
    after = lifecycle.due(job, now)
    assert (after is not None) == (at is not None and now >= at)
    if at is not None and after is not None:
        assert after.lastupdate_time == int(at)
        assert lifecycle.due(job, now + 1000) is not None  # once due, due for good


class _Counted:
    """The service's clock, frozen at NOW, counting its reads."""

    def __init__(self) -> None:
        self.reads = 0

    def now(self) -> float:
        self.reads += 1
        return NOW


@settings(max_examples=60, deadline=None)
@given(job=jobs)
def test_a_show_reads_the_clock_only_when_the_job_may_move_on(job: Job) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(Path(directory) / "jobs.sqlite3")
        try:
            service = Service(Settings(data_dir=Path(directory)), "g", database)
            store = service.store
            store.insert(job)
            made = store.get("j")
            assert made is not None
            store.transition(made, job)  # the columns insert leaves out, as drawn
            if job.outcome is not None and job.outcome_at is not None:
                store.save_outcome("j", job.outcome, job.outcome_at, replace=True)
            stored = store.get("j")
            assert stored is not None
            assert lifecycle.due_at(stored) == lifecycle.due_at(job)  # the draw is what is stored
            clock = service.clock = _Counted()  # type: ignore[assignment]
            expected = service.settle(stored, NOW)  # the oracle, given the time
            clock.reads = 0
            store.transition(store.get("j") or stored, stored)  # back as it was
            assert service.settled(stored) == expected
            assert clock.reads == (0 if lifecycle.due_at(stored) is None else 1)
        finally:
            database.close()
