"""The job state machine of a VOICE_ASSESS job, as pure functions of a `Job` and the time.

    create -> CREATING --commit--> WAITING --> PROCESSING --> SUCCEED | FAILED

How a committed job moves on is its `progress` mode:
- `timed`: PROCESSING a quarter of `processing_seconds` after the commit, then the assessment's
  outcome once `processing_seconds` have passed and the assessment has run;
- `immediate`: the same with no delay (as soon as the assessment has run);
- `manual`: only when the control plane advances it, one step at a time.

Transition times are computed from the commit time, not from when somebody looks, so
`lastupdate_time` is the same whichever process or request applies a transition.
"""

from __future__ import annotations

from dataclasses import replace

from mock_server.service.store import Job

CREATING = "CREATING"
WAITING = "WAITING"
PROCESSING = "PROCESSING"
SUCCEED = "SUCCEED"
FAILED = "FAILED"

TIMED = "timed"
IMMEDIATE = "immediate"
MANUAL = "manual"
# The store's setting that holds the default mode of new jobs (changed by the control plane).
PROGRESS_SETTING = "progress"

# Share of `processing_seconds` spent WAITING before PROCESSING.
_WAITING_SHARE = 0.25


def takes_data(job: Job) -> bool:
    """Whether the job still takes an upload, and a commit: only until it is committed (the
    reference: the recordings are uploaded before CommitShortJob)."""
    return job.state == CREATING


def commit(job: Job, now: float, processing_seconds: float) -> Job:
    return replace(
        job,
        state=WAITING,
        lastupdate_time=int(now),
        committed_at=now,
        processing_seconds=0.0 if job.progress == IMMEDIATE else processing_seconds,
    )


def due_at(job: Job) -> float | None:
    """When the job's next automatic state is due (Unix seconds; a time past is due at once), or
    None if none will come by itself: not committed, steered by hand or by polls, waiting for
    its assessment, or finished. Needs no clock: a show of such a job reads none."""
    if job.progress not in (TIMED, IMMEDIATE) or job.committed_at is None:  # manual, polls:N
        return None
    seconds = job.processing_seconds or 0.0
    if job.state == WAITING:
        return job.committed_at + seconds * _WAITING_SHARE
    if job.state == PROCESSING and job.outcome is not None and job.outcome_at is not None:
        return max(job.committed_at + seconds, job.outcome_at)
    return None


def due(job: Job, now: float) -> Job | None:
    """The next automatic state if its time (`due_at`) has come, else None."""
    at = due_at(job)
    if at is None or now < at:
        return None
    if job.state == WAITING:
        return replace(job, state=PROCESSING, lastupdate_time=int(at))
    assert job.outcome is not None  # due_at: a PROCESSING job is due only with its outcome
    return replace(job, state=job.outcome.state, lastupdate_time=int(at))


def step(job: Job, now: float) -> Job | None:
    """One manual step (the control plane's `advance`), or None if there is none to take."""
    if job.state == WAITING:
        return replace(job, state=PROCESSING, lastupdate_time=int(now))
    if job.state == PROCESSING and job.outcome is not None:
        return replace(job, state=job.outcome.state, lastupdate_time=int(now))
    return None
