"""The emulated operations: thin handlers over the store, the state machine and the uploads.

Connexion finds the handlers by operationId on a `Service` instance and has already checked the
request against the spec, and the gateway middleware has checked the caller, before they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mock_server.core.asgi import Answer, Scope
from mock_server.core.clock import Clock
from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.core.errors import ApiError, Codes
from mock_server.core.state import state_of
from mock_server.obs.area import UploadArea
from mock_server.obs.errors import ObsCodes, ObsError, no_such_key
from mock_server.service import lifecycle, steering
from mock_server.service.store import GONE, HELD, Job, Outcome, Store

log = logging.getLogger("mock_server.service")

# A claimed assessment is someone else's for this long; a crashed worker's claim then lapses.
ASSESSMENT_LEASE_SECONDS = 120.0
# How often a worker looks for jobs committed through another worker process.
POLL_SECONDS = 0.25
# How often a running assessment checks its job still holds the lease (a reset removes it).
LEASE_CHECK_SECONDS = 0.02
# How often a show or advance waiting for an assessment's outcome reads the store.
OUTCOME_POLL_SECONDS = 0.01


def new_job_id() -> str:
    """A job id as the service issues them: a lower-case dashed UUID (the API reference's
    example is `26f06524-4f75-4b3a-a853-b649a21aaf66`). Ids of other shapes (the 32 bare hex
    characters of earlier versions of the mock) stay valid for the jobs that have them."""
    return str(uuid.uuid4())


class Service:
    """The three operations, the worker, and what they share. `progress` answers the default
    progress mode of new jobs (the control plane's setting); without it, jobs are `timed`."""

    def __init__(
        self,
        settings: Settings,
        generation: str,
        database: Database,
        progress: Callable[[], str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.generation = generation
        self.store = Store(database)
        self.clock = Clock(database)  # the mock's one clock (core.clock)
        self.uploads = UploadArea(settings.data_dir / "uploads")
        # The objects go with the jobs, in reset's transaction: under the write lock an upload's
        # install takes, so no upload lands between the jobs' removal and the files'.
        database.add_tables("uploads", (), lambda _db: self.uploads.reset())
        self._progress = progress
        self._wake: asyncio.Event | None = None

    @property
    def owner(self) -> str:
        """Who holds this process's assessment leases (the app may be built before a fork)."""
        return f"{self.generation}:{os.getpid()}"

    # -- the three operations ------------------------------------------------------------------

    async def create_short_job(
        self, project_id: str, body: dict[str, Any], scope: Scope
    ) -> dict[str, str]:
        return self.create(project_id, body, scope)

    def create(self, project_id: str, body: dict[str, Any], scope: Scope) -> dict[str, str]:
        """create_short_job once connexion (or the fast lane) has checked the request."""
        now = self.clock.now()
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of repeated headers, as validated
        user = headers.get(b"x-app-userid")
        job = Job(
            job_id=new_job_id(),
            project_id=project_id,
            job_type=body["job_type"],
            language=body["language"],
            app_user_id=None if user is None else user.decode("latin-1"),
            state=lifecycle.CREATING,
            create_time=int(now),
            lastupdate_time=int(now),
            progress=self.default_progress(),
        )
        self.store.insert(job)
        warm_assessment()  # the job's assessment is coming: its libraries load meanwhile
        state_of(scope).job_id = job.job_id  # for the journal
        expires = int(now) + self.settings.upload_url_ttl
        url = self.uploads.presigned_url(
            self._public_base(scope, headers), job.project_id, job.job_id, self.settings, expires
        )
        return {"job_id": job.job_id, "data_uploading_url": url}

    async def commit_short_job(self, project_id: str, job_id: str) -> Answer:
        # Under the write lock, as an upload's install is: the commit sees exactly the uploads
        # complete when it arrived, and none completes after it (`install_upload`).
        with self.store.database.transaction():
            job = self.find(project_id, job_id)
            if not lifecycle.takes_data(job):
                raise ApiError(
                    Codes.INVALID_PARAMETER,
                    f"job {job_id} is already committed (state {job.state})",
                )
            if not self.uploads.has(job.job_id):
                raise ApiError(
                    Codes.INVALID_PARAMETER,
                    f"job {job_id} has no uploaded data: PUT the zip to its data_uploading_url"
                    " first",
                )
            committed = lifecycle.commit(job, self.clock.now(), self.settings.processing_seconds)
            if not self.store.transition(job, committed):
                raise ApiError(Codes.INVALID_PARAMETER, f"job {job_id} is already committed")
        self.wake()
        return Answer(200)

    # -- the upload endpoint's gate (obs.endpoint.UploadGate) -----------------------------------

    def upload_refusal(self, job_id: str) -> ObsError | None:
        """Why job `job_id` takes no upload now (OBS' answer), or None."""
        return _refusal(self.store.get(job_id))

    def install_upload(self, job_id: str, temporary: Path) -> ObsError | None:
        """Make the complete upload `temporary` the job's object if the job still takes data,
        under the write lock (see `commit_short_job`); else why not (the file is left)."""
        with self.store.database.transaction():
            refusal = _refusal(self.store.get(job_id))
            if refusal is None:
                self.uploads.install(temporary, job_id)
        return refusal

    async def show_short_job(self, project_id: str, job_id: str) -> dict[str, Any]:
        return await self.show(project_id, job_id)

    async def show(self, project_id: str, job_id: str) -> dict[str, Any]:
        """show_short_job once checked. Under `polls:N` each show counts (`steering.count_show`),
        reading the job under the write lock it counts in (two shows, even through two worker
        processes, are two counts in one order); the show due to move the job to its outcome
        waits for the assessment first, then counts as a show of the job as it is then."""
        job = self.find(project_id, job_id)
        while steering.counts_shows(job):
            with self.store.atomic():
                job, needs_outcome = steering.count_show(
                    self.store, self.find(project_id, job_id), self.clock.now()
                )
            if not needs_outcome:
                break
            job = await self.outcome_of(job)
        return self.settled(job).to_api()

    # -- shared by the handlers, the worker and the control plane -------------------------------

    def find(self, project_id: str, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None or job.project_id != project_id:
            raise ApiError(Codes.INVALID_PARAMETER, f"job {job_id} does not exist")
        return job

    def settled(self, job: Job) -> Job:
        """`settle` at the clock's now, read only when a transition may be due
        (`lifecycle.due_at`): a show of a job that cannot move on by itself makes one SQL
        statement, not two."""
        if lifecycle.due_at(job) is None:
            return job
        return self.settle(job, self.clock.now())

    def settle(self, job: Job, now: float) -> Job:
        """Apply every transition that is due; if another process applied one, re-read."""
        while (after := lifecycle.due(job, now)) is not None:
            if self.store.transition(job, after):
                job = after
            else:
                current = self.store.get(job.job_id)
                if current is None:
                    break
                job = current
        return job

    async def outcome_of(self, job: Job) -> Job:
        """The job once its assessment's outcome is in the store, whichever worker process runs
        it (the store is polled, so this holds across `--workers`), or as soon as it is no
        longer where `job` was (set_state moved or reopened it, its mode changed): the caller
        goes on from there.

        Waits at most `settings.assessment_wait_seconds`; then raises `ApiError` 500
        MSS.00000004 naming the job and the setting. Raises 400 MSS.00000003 if the job is gone
        meanwhile (a reset) or was never committed (nothing would ever assess it).
        """
        if job.outcome is not None:
            return job
        if job.committed_at is None:
            raise ApiError(
                Codes.INVALID_PARAMETER,
                f"job {job.job_id} was never committed, so it has no assessment to wait for:"
                " set_state it to SUCCEED with an assess_result, or to FAILED",
            )
        wait = self.settings.assessment_wait_seconds
        deadline = time.monotonic() + wait
        self.wake()  # this process's worker looks now, not at its next poll
        while True:
            current = self.store.get(job.job_id)
            if current is None:
                raise ApiError(Codes.INVALID_PARAMETER, f"job {job.job_id} does not exist")
            if current.outcome is not None or _steered(job, current):
                return current
            if time.monotonic() >= deadline:
                raise ApiError(
                    Codes.INTERNAL,
                    f"the assessment of job {job.job_id} did not finish within {wait:g} s"
                    " (--assessment-wait-seconds); the step to its outcome waits for it",
                )
            await asyncio.sleep(OUTCOME_POLL_SECONDS)

    def default_progress(self) -> str:
        """How new jobs progress: `timed`, unless the control plane chose otherwise."""
        chosen = self._progress() if self._progress is not None else None
        return chosen or lifecycle.TIMED

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _public_base(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        """Where the caller reached us: the upload URL must work from where it called."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host = headers.get(b"host")
        if host is None:
            server_host, port = scope.get("server") or (self.settings.host, self.settings.port)
            return f"{scope['scheme']}://{server_host}:{port}"
        return f"{scope['scheme']}://{host.decode('latin-1')}"

    # -- the assessment worker ------------------------------------------------------------------

    async def run_worker(self) -> None:
        """Assess committed jobs, in this process or after a restart, until cancelled.

        Each claim is a lease of its own (`owner` and a serial number), and an outcome is kept
        only while the job still holds it (`Store.save_outcome(lease=...)`): a reset removes the
        job (its id may even come back), and the assessment running for it is abandoned within
        `LEASE_CHECK_SECONDS`, its outcome never written. Cancelling the worker (shutdown)
        abandons the running assessment at once: it runs on a daemon thread nobody joins.
        """
        self._wake = asyncio.Event()
        self.store.release_leases(self.generation)
        claims = itertools.count(1)
        while True:
            # leases are about live processes: the wall clock, not the one a test moves
            lease = f"{self.owner}:{next(claims)}"
            claimed = self.store.claim_unassessed(lease, time.time(), ASSESSMENT_LEASE_SECONDS)
            for job in claimed:
                await self.assess_leased(job, lease)
            if claimed:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def assess_leased(self, job: Job, lease: str) -> None:
        """Assess a claimed job and keep the outcome, unless the claim was lost meanwhile (a
        reset removed the job, another worker kept an outcome, set_state reopened it, the lease
        lapsed): then the assessment is abandoned as soon as that is seen, its outcome
        discarded, and one debug line says why (`_abandoned`)."""
        if not self._still_held(job, lease):
            return  # removed (or settled) between the claim and its turn
        running = asyncio.ensure_future(self.assess(job))
        try:
            while not running.done():
                await asyncio.wait({running}, timeout=LEASE_CHECK_SECONDS)
                if not running.done() and not self._still_held(job, lease):
                    return
        finally:
            running.cancel()  # a no-op once done; else its thread ends alone, its outcome dropped
        kept = self.store.save_outcome(
            job.job_id, running.result(), self.clock.now(), replace=False, lease=lease
        )
        if not kept:
            self._still_held(job, lease)  # lost between the last look and the save: say why

    def _still_held(self, job: Job, lease: str) -> bool:
        """Whether the claim `lease` on `job` still holds; if not, one debug line says why."""
        status = self.store.lease_status(job.job_id, lease)
        if status == GONE:
            log.debug("assessment of job %s ended by a reset", job.job_id)
        elif status != HELD:
            log.debug("assessment of job %s ended: its claim was lost", job.job_id)
        return status == HELD

    async def assess(self, job: Job) -> Outcome:
        """The outcome of assessing job's upload, computed on a daemon thread (`off_loop`):
        cancelling the await abandons the computation, and shutdown never waits for it."""
        return await off_loop(
            assess_upload, self.uploads.path(job.job_id), job.job_id, job.language
        )


def assess_upload(path: Path, job_id: str, language: str) -> Outcome:
    """The outcome of assessing the zip at `path`: SUCCEED with the assessment, or FAILED with
    the assessment's code (`AssessmentFailed`), or MSS.20000099 when it crashed (logged). Runs
    off the event loop: the first call may import the assessment's libraries (seconds)."""
    from mock_server.assessment import AssessmentFailed, assess_zip

    try:
        assessment = assess_zip(path, language)
    except AssessmentFailed as failure:
        return Outcome(
            state=lifecycle.FAILED, failed_code=failure.code, failed_reason=failure.reason
        )
    except Exception:
        log.exception("assessment of job %s crashed", job_id)
        return Outcome(
            state=lifecycle.FAILED,
            failed_code="MSS.20000099",
            failed_reason="internal error while assessing the recordings",
        )
    return Outcome(state=lifecycle.SUCCEED, assess_result=assessment.to_json())


_warmed = False  # whether this process started `warm_assessment`'s thread
_warming = threading.Lock()


def _forked() -> None:
    """In a forked child: the parent's flag, not its thread (nor a lock another thread held)."""
    global _warmed, _warming
    _warmed, _warming = False, threading.Lock()


if hasattr(os, "register_at_fork"):  # no fork() without it (Windows)
    os.register_at_fork(after_in_child=_forked)


def warm_assessment() -> None:
    """Import the assessment and load DNSMOS on a daemon thread, once per process: what the
    first assessment would do first (about a second of CPU, most of it importing scipy.signal),
    done while the job that needs it is uploaded. The first job's creation calls it, so a mock
    that never assesses (a user's tests of errors, a worker process that only answers) never
    pays it; an assessment that starts meanwhile waits for the same import and load. Every
    later call reads one flag (no system call on a create's path)."""
    global _warmed
    if _warmed:
        return
    with _warming:
        if _warmed:
            return
        _warmed = True
    threading.Thread(target=_preload_assessment, name="assessment-preload", daemon=True).start()


def _preload_assessment() -> None:
    """`assessment.preload` (a daemon thread: shutdown never waits for it). A failure here is
    left for the first assessment to report as the job's outcome."""
    try:
        from mock_server.assessment import preload

        preload()
    except Exception:  # the first assessment meets it again and fails that job, logged there
        log.debug("preloading the assessment failed", exc_info=True)


T = TypeVar("T")


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on a daemon thread of its own, awaited without blocking the loop.

    Not `asyncio.to_thread`: the loop's default executor is joined when the loop closes
    (`asyncio.run` waits for it), so a server shutting down would wait seconds for an
    assessment nobody reads. A daemon thread is never joined; cancelling the await drops its
    result.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(outcome: Callable[[], None]) -> None:
        if not future.done():  # cancelled meanwhile: nobody reads it
            outcome()

    def run() -> None:
        try:
            result = function(*args)
        except BaseException as error:  # handed to the awaiting task, as to_thread does
            report: Callable[[], None] = functools.partial(future.set_exception, error)
        else:
            report = functools.partial(future.set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is gone
            loop.call_soon_threadsafe(deliver, report)

    threading.Thread(target=run, name="assessment", daemon=True).start()
    return await future


def _steered(read: Job, current: Job) -> bool:
    """Whether the job moved away from where `read` found it, other than by its outcome."""
    return (current.state, current.progress, current.committed_at) != (
        read.state,
        read.progress,
        read.committed_at,
    )


def _refusal(job: Job | None) -> ObsError | None:
    if job is None:
        return no_such_key()
    if not lifecycle.takes_data(job):
        return ObsError(
            ObsCodes.ACCESS_DENIED,
            f"job {job.job_id} is committed (state {job.state}); its upload is closed",
        )
    return None
