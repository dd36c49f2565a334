"""Writes that land late (issue 19, item 1: assessment/reset, set_state/worker), in-process.

Two "processes" share one SQLite file, each with its own connection, `Service` and control
plane, as `--workers 2` has them. Whatever another process has in flight is modelled by what it
read before: a worker that claimed a job and writes the assessment's outcome later, a show or a
settle that read a job and applies the transition it found due later. The state machine
interleaves those late writes with creates, uploads, commits, `set_state`, `set_job_progress`
and resets, and checks after every step:

- `set_state` wins: a pinned job stays in its state with the fields the test gave, whatever a
  worker or a show that read it before writes afterwards;
- a reset leaves nothing: no job, show count or object of a job it removed comes back, whatever
  lands for it afterwards.
"""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from helpers import machine_of
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mock_server.control.handlers import Control
from mock_server.control.store import ControlStore
from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.core.errors import ApiError, Codes
from mock_server.service import lifecycle, steering
from mock_server.service.handlers import Service
from mock_server.service.store import Job, Outcome

PROPERTY = {"expected": "a", "actual": "b", "suggestion": "", "suggestion_en": "", "status": 0}
PINNED_RESULT = {
    **dict.fromkeys(("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak"), PROPERTY),
    "suggestion": "set by the test",
}
WORKER_OUTCOMES = (
    Outcome(state=lifecycle.SUCCEED, assess_result={**PINNED_RESULT, "suggestion": "worker"}),
    Outcome(state=lifecycle.FAILED, failed_code="MSS.20000002", failed_reason="by the worker"),
)
STATES = steering.job_states()
MODES = ("timed", "immediate", "manual", "polls:1")


class Process:
    """One worker process's view: its own connection to the shared file, service and control."""

    def __init__(self, data_dir: Path, name: str) -> None:
        database = Database(data_dir / "jobs.sqlite3")
        # No worker runs here (the model has the late ones): a show due to reach the outcome of a
        # job no late write assessed waits this long, then answers 500 (see `show`).
        self.settings = Settings(
            data_dir=data_dir, processing_seconds=0.0, control=True, assessment_wait_seconds=0.05
        )
        self.service = Service(self.settings, name, database)
        self.control = Control(self.service, ControlStore(database))
        self.name = name

    def create(self) -> str:
        scope: dict[str, Any] = {"headers": [(b"host", b"127.0.0.1:8000")], "scheme": "http"}
        body = {"job_type": "VOICE_ASSESS", "language": "CN"}
        return self.service.create(self.settings.project_id, body, scope)["job_id"]


@dataclass
class Model:
    job_id: str
    uploaded: bool = False
    committed: bool = False  # out of CREATING: takes no upload nor commit
    gone: bool = False
    pinned: str | None = None  # the state set_state put it in, while nothing moved it since
    pinned_code: str | None = None


@dataclass
class Late:
    """A write in flight: read `job` then, when finished, write what it found."""

    process: Process
    job: Job
    kind: str  # "outcome" (a worker's), "show" (count_show + settle) or "settle"
    outcome: Outcome | None = None
    lease: str = ""  # the worker's claim (each claim its own, as `Service.run_worker` has them)


class LateWrites(RuleBasedStateMachine):
    data_dir: Path
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.processes = (Process(self.data_dir, "a"), Process(self.data_dir, "b"))
        self.processes[0].service.store.database.reset()
        self.known: list[Model] = []
        self.late: list[Late] = []
        self.zips = 0
        self.claims = 0

    def teardown(self) -> None:
        for process in self.processes:
            process.service.store.close()

    def _process(self, which: int) -> Process:
        return self.processes[which % 2]

    def _model(self, job_id: str) -> Model:
        return next(model for model in self.known if model.job_id == job_id)

    # -- the requests ---------------------------------------------------------------------------

    @rule(target=jobs, which=st.integers(0, 1))
    def create(self, which: int) -> Model:
        model = Model(self._process(which).create())
        self.known.append(model)
        return model

    @rule(job=jobs, which=st.integers(0, 1))
    def upload(self, job: Model, which: int) -> None:
        service = self._process(which).service
        self.zips += 1
        temporary = service.uploads.incoming()
        temporary.write_bytes(_zip(self.zips))
        refusal = service.install_upload(job.job_id, temporary)
        temporary.unlink(missing_ok=True)
        assert (refusal is None) == (not job.gone and not job.committed), refusal
        job.uploaded = job.uploaded or refusal is None

    @rule(job=jobs, which=st.integers(0, 1))
    def commit(self, job: Model, which: int) -> None:
        process = self._process(which)
        try:
            asyncio.run(process.service.commit_short_job(process.settings.project_id, job.job_id))
        except ApiError:
            assert job.gone or job.committed or not job.uploaded
            return
        assert not job.gone and not job.committed and job.uploaded
        job.committed = True
        if job.pinned is not None:  # CREATING, pinned: committed it stays put where it lands
            job.pinned, job.pinned_code = lifecycle.WAITING, None

    @rule(job=jobs, which=st.integers(0, 1), state=st.sampled_from(STATES))
    def set_state(self, job: Model, which: int, state: str) -> None:
        body: dict[str, Any] = {"state": state}
        if state == lifecycle.SUCCEED:
            body["assess_result"] = PINNED_RESULT
        code = None
        if state in steering.FAILURE_STATES:
            code = body["job_failed_code"] = f"MSS.TEST{len(self.late)}"
        try:
            asyncio.run(self._process(which).control.set_job_state(job.job_id, body))
        except ApiError:
            assert job.gone
            return
        assert not job.gone
        job.pinned, job.pinned_code = state, code
        job.committed = state != lifecycle.CREATING  # CREATING takes data (and a commit) again

    @rule(job=jobs, which=st.integers(0, 1), mode=st.sampled_from(MODES))
    def set_job_progress(self, job: Model, which: int, mode: str) -> None:
        control = self._process(which).control
        try:
            asyncio.run(control.set_job_progress(job.job_id, {"mode": mode}))
        except ApiError:
            assert job.gone
            return
        if mode != lifecycle.MANUAL:
            job.pinned = None  # it moves on again (steering: until the test moves it)

    @rule(which=st.integers(0, 1))
    def reset(self, which: int) -> None:
        removed = asyncio.run(self._process(which).control.reset())["jobs_removed"]
        assert removed == sum(not model.gone for model in self.known)
        for model in self.known:
            model.gone = True

    @rule(job=jobs, which=st.integers(0, 1))
    def show(self, job: Model, which: int) -> None:
        process = self._process(which)
        try:
            asyncio.run(process.service.show(process.settings.project_id, job.job_id))
        except ApiError as error:
            if error.code is Codes.INTERNAL:  # due to reach an outcome nobody here writes
                assert not job.gone and job.committed and job.pinned is None, job
                return
            assert job.gone

    # -- what another process has in flight ------------------------------------------------------

    @precondition(lambda self: len(self.late) < 6)
    @rule(which=st.integers(0, 1), outcome=st.sampled_from(WORKER_OUTCOMES))
    def worker_claims(self, which: int, outcome: Outcome) -> None:
        process = self._process(which)
        # leases lapse at once: each claim sees every job without an outcome (two workers may
        # hold one job, as after a lapsed lease)
        self.claims += 1
        lease = f"{process.name}:{self.claims}"
        for job in process.service.store.claim_unassessed(lease, time.time(), -1.0):
            self.late.append(Late(process, job, "outcome", outcome, lease))

    @precondition(lambda self: len(self.late) < 6)
    @rule(job=jobs, which=st.integers(0, 1), kind=st.sampled_from(["show", "settle"]))
    def request_reads(self, job: Model, which: int, kind: str) -> None:
        process = self._process(which)
        read = process.service.store.get(job.job_id)
        if read is not None:  # a show that found no job has answered already
            self.late.append(Late(process, read, kind))

    @precondition(lambda self: self.late)
    @rule(index=st.integers(0, 5))
    def late_write_lands(self, index: int) -> None:
        late = self.late.pop(index % len(self.late))
        service = late.process.service
        now = service.clock.now()
        if late.kind == "outcome":
            assert late.outcome is not None
            service.assess = _answering(late.outcome)  # type: ignore[method-assign]
            # the worker's own path: the outcome is kept only while the job holds its lease
            asyncio.run(service.assess_leased(late.job, late.lease))
        elif late.kind == "show":
            store = service.store
            current = store.get(late.job.job_id)
            shows = store.database.connection.execute(
                "SELECT state, count FROM shows WHERE job_id = ?", (late.job.job_id,)
            ).fetchall()
            job, _ = steering.count_show(store, late.job, now)
            if current is None or _steering(current) != _steering(late.job):
                # stale (gone, moved or steered since its read, even back to what it read):
                # the show counts nothing
                assert [tuple(row) for row in shows] == [
                    tuple(row)
                    for row in store.database.connection.execute(
                        "SELECT state, count FROM shows WHERE job_id = ?", (late.job.job_id,)
                    )
                ]
            service.settle(job, now)
        else:
            service.settle(late.job, now)

    # -- what must hold ---------------------------------------------------------------------------

    @invariant()
    def set_state_wins(self) -> None:
        store = self.processes[0].service.store
        for model in self.known:
            if model.gone or model.pinned is None:
                continue
            job = store.get(model.job_id)
            assert job is not None
            assert (job.state, job.progress) == (model.pinned, lifecycle.MANUAL), model
            shown = job.to_api()
            if model.pinned_code is not None:
                assert shown["job_failed_code"] == model.pinned_code
            if model.pinned == lifecycle.SUCCEED:
                assert shown["assess_result"] == PINNED_RESULT
            if model.pinned == lifecycle.CREATING:
                # reopened: nothing of its earlier commit is left, whatever lands late
                assert (job.outcome, job.committed_at) == (None, None), job

    @invariant()
    def a_reset_leaves_nothing(self) -> None:
        service = self.processes[1].service
        db = service.store.database.connection
        live = {model.job_id for model in self.known if not model.gone}
        assert {row[0] for row in db.execute("SELECT job_id FROM jobs")} == live
        assert {row[0] for row in db.execute("SELECT job_id FROM shows")} <= live
        objects = {path.stem for path in service.uploads.root.glob("*.zip")}
        assert objects == {model.job_id for model in self.known if model.uploaded} & live


def _steering(job: Job) -> tuple[str, str, int]:
    """What a show's count compares with the job it read."""
    return job.state, job.progress, job.generation


def _answering(outcome: Outcome) -> Any:
    async def assess(job: Job) -> Outcome:
        return outcome

    return assess


def _zip(tag: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(f"take-{tag}.wav", b"not audio")
    return out.getvalue()


@pytest.fixture
def late_writes(tmp_path: Path) -> type[LateWrites]:
    LateWrites.data_dir = tmp_path
    return LateWrites


@pytest.mark.slow  # seconds of its own: 150 runs of 30 steps, a SQLite store per run
def test_late_writes_never_undo_set_state_or_a_reset(late_writes: type[LateWrites]) -> None:
    run_state_machine_as_test(
        late_writes,
        settings=settings(
            max_examples=150,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_a_show_in_flight_does_not_move_a_job_set_to_the_state_it_is_in(
    late_writes: type[LateWrites],
) -> None:
    """A show (or settle) read the job WAITING and found PROCESSING due; set_state(WAITING)
    pinned it meanwhile; the late transition must not land."""
    with machine_of(late_writes) as machine:
        job = cast(Model, machine.create(0))
        machine.upload(job, 0)
        machine.commit(job, 0)
        machine.request_reads(job, 1, "settle")
        machine.set_state(job, 0, "WAITING")
        machine.late_write_lands(0)
        machine.set_state_wins()


def test_a_worker_outcome_after_set_state_does_not_replace_the_tests(
    late_writes: type[LateWrites],
) -> None:
    with machine_of(late_writes) as machine:
        job = cast(Model, machine.create(0))
        machine.upload(job, 0)
        machine.commit(job, 0)
        machine.worker_claims(1, WORKER_OUTCOMES[0])
        machine.set_state(job, 0, "FAILED")
        machine.late_write_lands(0)
        machine.set_state_wins()


def test_a_show_in_flight_during_a_reset_leaves_no_count_behind(
    late_writes: type[LateWrites],
) -> None:
    with machine_of(late_writes) as machine:
        job = cast(Model, machine.create(0))
        machine.upload(job, 0)
        machine.commit(job, 0)
        machine.set_job_progress(job, 0, "polls:1")
        machine.request_reads(job, 1, "show")
        machine.reset(0)
        machine.late_write_lands(0)
        machine.a_reset_leaves_nothing()


def test_a_worker_outcome_after_a_reset_brings_nothing_back(
    late_writes: type[LateWrites],
) -> None:
    with machine_of(late_writes) as machine:
        job = cast(Model, machine.create(0))
        machine.upload(job, 1)
        machine.commit(job, 1)
        machine.worker_claims(0, WORKER_OUTCOMES[1])
        machine.reset(1)
        machine.late_write_lands(0)
        machine.a_reset_leaves_nothing()


def _committed(machine: LateWrites, mode: str) -> Model:
    """A job created, uploaded and committed through process 0, then steered to `mode`."""
    job = cast(Model, machine.create(0))
    machine.upload(job, 0)
    machine.commit(job, 0)
    machine.set_job_progress(job, 0, mode)
    return job


def _shows(machine: LateWrites, job: Model, times: int) -> list[str]:
    """`times` shows of `job`, alternating the processes; the states they answered."""
    answered = []
    for turn in range(times):
        process = machine.processes[turn % 2]
        shown = asyncio.run(process.service.show(process.settings.project_id, job.job_id))
        answered.append(shown["state"])
    return answered


def test_a_show_in_flight_across_a_set_state_counts_nothing(
    late_writes: type[LateWrites],
) -> None:
    """polls:2: a show read the job WAITING; set_state(WAITING) came before its count. After
    polls:2 again, the count starts at the set_state: two WAITING shows, then PROCESSING (the
    stale show's count would have made it one)."""
    with machine_of(late_writes) as machine:
        job = _committed(machine, "polls:2")
        machine.request_reads(job, 1, "show")
        machine.set_state(job, 0, "WAITING")
        machine.late_write_lands(0)
        machine.set_job_progress(job, 1, "polls:2")
        assert _shows(machine, job, 3) == ["WAITING", "WAITING", "PROCESSING"]


def test_a_show_in_flight_across_steering_back_to_what_it_read_counts_nothing(
    late_writes: type[LateWrites],
) -> None:
    """polls:2: a show read the job WAITING under polls:2; set_state(WAITING) and polls:2 again
    came before its count, so the job is back in the state and mode the show read. The show is
    still stale (a steering generation later): the count starts at the set_state, two WAITING
    shows, then PROCESSING."""
    with machine_of(late_writes) as machine:
        job = _committed(machine, "polls:2")
        machine.request_reads(job, 1, "show")
        machine.set_state(job, 0, "WAITING")
        machine.set_job_progress(job, 1, "polls:2")
        machine.late_write_lands(0)
        assert _shows(machine, job, 3) == ["WAITING", "WAITING", "PROCESSING"]


@pytest.mark.parametrize("steps", [("polls:2", "polls:2"), ("polls:3", "polls:2")])
def test_a_show_in_flight_across_progress_changes_back_counts_nothing(
    late_writes: type[LateWrites], steps: tuple[str, str]
) -> None:
    """polls:2, one WAITING show counted; a show read the job then; set_job_progress twice
    (the same mode, or another and back) came before its late count. It lands nothing: the
    job keeps its one counted show (set_job_progress does not restart the count), so one more
    WAITING show, then PROCESSING (the stale count would have made the next show the step)."""
    with machine_of(late_writes) as machine:
        job = _committed(machine, "polls:2")
        assert _shows(machine, job, 1) == ["WAITING"]
        machine.request_reads(job, 1, "show")
        for which, mode in enumerate(steps):
            machine.set_job_progress(job, which, mode)
        machine.late_write_lands(0)  # asserts it counted nothing
        # the one show counted before: one more WAITING, then the step
        assert _shows(machine, job, 2) == ["WAITING", "PROCESSING"]


def test_a_show_in_flight_across_another_shows_step_counts_nothing(
    late_writes: type[LateWrites],
) -> None:
    """polls:1: a show read the job WAITING; another show took the step to PROCESSING before
    its count. The stale show neither counts a WAITING show nor restarts PROCESSING's count:
    one more show takes the step to the outcome."""
    with machine_of(late_writes) as machine:
        job = cast(Model, machine.create(0))
        machine.upload(job, 0)
        machine.commit(job, 0)
        machine.worker_claims(1, WORKER_OUTCOMES[1])
        machine.late_write_lands(0)  # the assessment's outcome is in
        machine.set_job_progress(job, 0, "polls:1")
        assert _shows(machine, job, 1) == ["WAITING"]
        machine.request_reads(job, 1, "show")
        assert _shows(machine, job, 1) == ["PROCESSING"]
        machine.late_write_lands(0)
        assert _shows(machine, job, 1) == ["FAILED"]


def test_a_reopened_job_keeps_no_outcome_and_is_assessed_again(
    late_writes: type[LateWrites],
) -> None:
    """Assessed, then set_state(CREATING): the old outcome goes; re-committed, the job waits
    for a new assessment (a claim of it), and its late outcome is the one shown."""
    with machine_of(late_writes) as machine:
        job = cast(Model, machine.create(0))
        machine.upload(job, 0)
        machine.commit(job, 0)
        machine.worker_claims(0, WORKER_OUTCOMES[0])
        machine.late_write_lands(0)  # SUCCEED, by the worker
        machine.set_state(job, 1, "CREATING")
        machine.set_state_wins()
        machine.upload(job, 1)
        machine.commit(job, 1)
        machine.worker_claims(1, WORKER_OUTCOMES[1])
        assert [late.job.job_id for late in machine.late] == [job.job_id]
        machine.late_write_lands(0)  # FAILED, by the assessment of the new upload
        machine.set_job_progress(job, 0, "polls:1")
        assert _shows(machine, job, 3) == ["WAITING", "PROCESSING", "FAILED"]
