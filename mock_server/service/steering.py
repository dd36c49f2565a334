"""Steering a job for tests: put it in any `JobState`, or move it on every N shows (`polls:N`).

The service has 16 job states (the spec's `JobState`, from the official SDK's enum); a VOICE_ASSESS
job only ever passes through CREATING, WAITING, PROCESSING and SUCCEED or FAILED, but a client
must cope with all of them. `fields_in` says what `show_short_job` answers beside the state in each:

- a failure state (FAILED, SPLIT_FAILED, AUDIT_FAILED, USER_REVIEW_REJECT) shows
  `job_failed_code` and `job_failed_reason` (the reference: "present when the job failed");
- SUCCEED shows `assess_result`;
- every other state shows neither.

`set_state` stores that (the failure's code and reason, or the result) as the job's outcome, and
pins the job: its progress becomes `manual`, so it stays in the state until the test moves it
(`advance`, another `set_state`, `set_job_progress`).

`polls:N` is moto's "manual progression, N times" (`count_show`): each state a
committed job passes through is shown N times; the next show moves it one step (WAITING ->
PROCESSING -> the assessment's outcome). The show due to take the step to the outcome waits for
the assessment (in whichever worker process runs it, up to `--assessment-wait-seconds`), so
the sequence is the same on every machine. Only `show_short_job` counts; the control plane and
the dashboard look without counting. `set_state` starts the count afresh: after it (and a
`set_job_progress` to `polls:N`), N shows in the state it set, then the step. A show counts only
in the state and mode it read, so one that was in flight across a `set_state` or a reset leaves
no count behind, even when steering brought the job back to the state and mode it read (each
`set_state` and `set_job_progress` is a new steering generation, `Job.generation`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from mock_server.core.errors import ApiError, Codes
from mock_server.core.spec import spec_document
from mock_server.service import lifecycle
from mock_server.service.store import Job, Outcome, Store

# What a forced failure shows when the test does not say (a code no real failure uses).
DEFAULT_FAILED_CODE = "MSS.29999999"


@dataclass(frozen=True)
class StateFields:
    """What `show_short_job` answers beside `state`, in one state."""

    failure: bool = False  # job_failed_code and job_failed_reason
    result: bool = False  # assess_result


FAILURE_STATES = frozenset({"FAILED", "SPLIT_FAILED", "AUDIT_FAILED", "USER_REVIEW_REJECT"})
RESULT_STATES = frozenset({"SUCCEED"})


@cache
def job_states() -> tuple[str, ...]:
    """The spec's `JobState` enum, in its order (a state the spec gains shows neither field)."""
    states: list[str] = spec_document()["components"]["schemas"]["JobState"]["enum"]
    return tuple(states)


def fields_in(state: str) -> StateFields | None:
    """What a job in `state` shows beside it; None if `state` is no JobState of the spec."""
    if state not in job_states():
        return None
    return StateFields(failure=state in FAILURE_STATES, result=state in RESULT_STATES)


def check_fields(state: str, body: dict[str, Any]) -> StateFields:
    """`state`'s fields; raises `ApiError` 400 MSS.00000002 if `body` gives one it does not show."""
    fields = fields_in(state)
    if fields is None:
        raise ApiError(
            Codes.INVALID_BODY,
            f"state {state!r} is not a JobState: one of {', '.join(job_states())}",
        )
    given_failure = {k for k in ("job_failed_code", "job_failed_reason") if k in body}
    if given_failure and not fields.failure:
        raise ApiError(Codes.INVALID_BODY, f"{state} shows no {', '.join(sorted(given_failure))}")
    if "assess_result" in body and not fields.result:
        raise ApiError(Codes.INVALID_BODY, f"{state} shows no assess_result")
    return fields


def plan_state(
    job: Job, state: str, body: dict[str, Any], now: float
) -> tuple[Job, Outcome | None]:
    """The job in `state` (pinned: progress `manual`) and the outcome to store with it, if any.

    `body` may hold `job_failed_code`, `job_failed_reason` (failure states only; defaults
    `DEFAULT_FAILED_CODE` and "set to STATE by the mock's control plane") and `assess_result`
    (SUCCEED only; checked by the caller). Raises `ApiError` 400 MSS.00000002 for a field the
    state does not show, MSS.00000003 for SUCCEED without a result.
    """
    fields = check_fields(state, body)
    pinned = replace(job, state=state, lastupdate_time=int(now), progress=lifecycle.MANUAL)
    if fields.failure:
        return pinned, failure_outcome(state, body)
    if fields.result:
        if body.get("assess_result") is None:
            raise ApiError(Codes.INVALID_PARAMETER, "SUCCEED needs an assess_result")
        return pinned, Outcome(state=state, assess_result=body["assess_result"])
    return pinned, None


def failure_outcome(state: str, body: dict[str, Any]) -> Outcome:
    """A forced failure in `state`: `body`'s `job_failed_code` and `job_failed_reason`, or the
    defaults (`DEFAULT_FAILED_CODE`, "set to STATE by the mock's control plane")."""
    return Outcome(
        state=state,
        failed_code=body.get("job_failed_code", DEFAULT_FAILED_CODE),
        failed_reason=body.get("job_failed_reason", f"set to {state} by the mock's control plane"),
    )


def set_state(store: Store, job: Job, state: str, body: dict[str, Any], now: float) -> None:
    """Store `plan_state`'s answer in one transaction (`Store.pin`): the outcome (if any), the
    pinned state, a fresh show count; CREATING reopens the job, its old outcome gone. Raises
    `ApiError` 400 MSS.00000003 if the job is gone (a reset came first)."""
    pinned, outcome = plan_state(job, state, body, now)
    reopen = state == lifecycle.CREATING
    if not store.pin(job.job_id, state, pinned.progress, now, outcome, reopen=reopen):
        raise ApiError(Codes.INVALID_PARAMETER, f"job {job.job_id} does not exist")


# -- polls:N --------------------------------------------------------------------------------------

POLLS = re.compile(r"^polls:([1-9][0-9]{0,5})$")


def polls_every(progress: str) -> int | None:
    """N of a `polls:N` progress mode, else None."""
    match = POLLS.match(progress)
    return int(match.group(1)) if match else None


def counts_shows(job: Job) -> bool:
    """Whether a show of `job` (as read) counts: a committed job in a `polls:N` mode."""
    return polls_every(job.progress) is not None and job.committed_at is not None


def count_show(store: Store, job: Job, now: float) -> tuple[Job, bool]:
    """Count a `show_short_job` of a `polls:N` job the show read as `job`, and apply the step
    it makes due, in one transaction (the caller's, if it holds one: `Service.show` reads the
    job inside it, so two shows never count as one).

    Answers the job and whether this show is the one due to move it from PROCESSING to its
    outcome while the assessment has not delivered one yet: then nothing is counted, the
    caller waits for the outcome (`Service.outcome_of`) and shows again, so that the sequence
    is exactly N WAITING, N PROCESSING, then the outcome, however long the assessment takes.

    A stale show (the job is no longer in the state, progress mode and steering generation it
    read: a `set_state` or `set_job_progress`, a reset, another show's step came between)
    counts nothing and answers the job as it is now (`Store.count_show`).
    """
    every = polls_every(job.progress)
    if every is None or job.committed_at is None:
        return job, False
    with store.atomic():
        while True:
            if (
                job.state == lifecycle.PROCESSING
                and job.outcome is None
                and store.show_count(job.job_id, job.state) >= every
            ):
                return job, True
            counted = store.count_show(job)
            if counted == 0:
                return store.get(job.job_id) or job, False  # stale: nothing lands
            after = lifecycle.step(job, now) if counted > every else None
            if after is None:
                return job, False
            if not store.transition(job, after):  # only outside a transaction: moved meanwhile
                return store.get(job.job_id) or job, False
            job = after  # this show is the first in the new state: counted on the next turn
