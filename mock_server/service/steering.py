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
the dashboard look without counting.
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
    """Store `plan_state`'s answer: the outcome first (if any), then the pinned state."""
    pinned, outcome = plan_state(job, state, body, now)
    if outcome is not None:
        store.force(job, outcome, now)
        store.set_progress(job.job_id, lifecycle.MANUAL)
        return
    store.set_progress(job.job_id, lifecycle.MANUAL)
    current = store.get(job.job_id) or job
    while not store.transition(current, pinned):
        # another request moved it meanwhile (a worker's settle): set it from where it is now
        latest = store.get(job.job_id)
        if latest is None:
            raise ApiError(Codes.INVALID_PARAMETER, f"job {job.job_id} does not exist")
        current = latest


# -- polls:N --------------------------------------------------------------------------------------

POLLS = re.compile(r"^polls:([1-9][0-9]{0,5})$")


def polls_every(progress: str) -> int | None:
    """N of a `polls:N` progress mode, else None."""
    match = POLLS.match(progress)
    return int(match.group(1)) if match else None


def count_show(store: Store, job: Job, now: float) -> tuple[Job, bool]:
    """Count a `show_short_job` of a `polls:N` job and apply the step it makes due.

    Answers the job and whether this show is the one due to move it from PROCESSING to its
    outcome while the assessment has not delivered one yet: then the caller waits for the
    outcome (`Service.outcome_of`) and takes that step (`lifecycle.step`), so that the
    sequence is exactly N WAITING, N PROCESSING, then the outcome, however long the
    assessment takes.
    """
    every = polls_every(job.progress)
    if every is None or job.committed_at is None:
        return job, False
    while store.count_show(job.job_id, job.state) > every:
        after = lifecycle.step(job, now)
        if after is None:
            return job, job.state == lifecycle.PROCESSING and job.outcome is None
        if not store.transition(job, after):
            return store.get(job.job_id) or job, False  # another show moved it first
        job = after  # this show is the first in the new state: counted on the next turn
    return job, False
