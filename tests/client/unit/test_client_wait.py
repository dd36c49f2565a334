"""Client unit tests (respx, no server, fake time): wait."""

from __future__ import annotations

import httpx
import pytest
import respx

from short_jobs import (
    InvalidRequestError,
    JobFailedError,
    NotFoundError,
    ShortJobsError,
    WaitTimeoutError,
)
from short_jobs.client import COMMIT_GRACE
from short_jobs.errors import (
    JobNotCommittedError,
)
from short_jobs_client.models import JobState

from .client_fakes import (
    BASE,
    ITEM,
    JOB,
    PROJECT,
    TOKEN,
    FakeTime,
    Make,
    Surface,
    error_body,
    job_body,
)

pytestmark = pytest.mark.usefixtures("clean_client_env")


def test_wait_polls_with_growing_capped_intervals(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    states = ["WAITING"] * 3 + ["PROCESSING"] * 6 + ["SUCCEED"]
    route = mock.get(ITEM).mock(side_effect=[httpx.Response(200, json=job_body(s)) for s in states])
    seen: list[JobState] = []
    detail = sj.wait(JOB, timeout=600, on_poll=lambda d: seen.append(d.state))
    assert detail.state is JobState.SUCCEED
    assert route.call_count == len(states)
    assert [s.value for s in seen] == states
    assert fake_time.sleeps[0] == 0.2
    assert fake_time.sleeps == sorted(fake_time.sleeps)
    assert max(fake_time.sleeps) == 5.0


def test_wait_raises_job_failed_with_the_job(sj: Surface, mock: respx.MockRouter) -> None:
    failed = job_body(
        "FAILED", job_failed_code="MSS.20000002", job_failed_reason="a.wav: not a RIFF/WAVE file"
    )
    mock.get(ITEM).mock(
        side_effect=[
            httpx.Response(200, json=job_body("PROCESSING")),
            httpx.Response(200, json=failed, headers={"X-Request-Id": "rid"}),
        ]
    )
    with pytest.raises(JobFailedError) as caught:
        sj.wait(JOB)
    error = caught.value
    assert error.job_failed_code == "MSS.20000002"
    assert error.job_failed_reason == "a.wav: not a RIFF/WAVE file"
    assert error.job.to_dict() == failed
    assert (error.job_id, error.request_id, error.error_code) == (JOB, "rid", "MSS.20000002")


def test_wait_times_out(sj: Surface, mock: respx.MockRouter, fake_time: FakeTime) -> None:
    mock.get(ITEM).respond(200, json=job_body("PROCESSING"))
    start = fake_time.now
    with pytest.raises(WaitTimeoutError) as caught:
        sj.wait(JOB, timeout=3)
    error = caught.value
    assert isinstance(error, TimeoutError) and isinstance(error, ShortJobsError)
    assert fake_time.now - start == pytest.approx(3.0)  # the last poll is at the deadline
    assert error.last is not None and error.last.state is JobState.PROCESSING
    assert (error.job_id, error.timeout) == (JOB, 3)


def test_wait_raises_the_real_error(sj: Surface, mock: respx.MockRouter) -> None:
    mock.get(ITEM).respond(400, json=error_body("MSS.00000003", "job job-1 does not exist"))
    with pytest.raises(NotFoundError):
        sj.wait(JOB)


def test_wait_keeps_polling_through_a_state_it_does_not_know(
    sj: Surface, mock: respx.MockRouter
) -> None:
    states = ["WAITING", "QUEUED_FOR_GPU", "PROCESSING", "SUCCEED"]
    bodies = [job_body(s, job_type="VOICE_CLONE", gpu=1) for s in states]
    mock.get(ITEM).mock(side_effect=[httpx.Response(200, json=b) for b in bodies])
    seen: list[JobState] = []
    detail = sj.wait(JOB, on_poll=lambda d: seen.append(d.state))
    assert [s.value for s in seen] == states
    assert [s.is_known for s in seen] == [True, False, True, True]
    assert detail.state is JobState.SUCCEED
    assert detail.job_type == "VOICE_CLONE" and detail.additional_properties == {"gpu": 1}


def test_an_unknown_state_times_out_like_any_unfinished_one(
    sj: Surface, mock: respx.MockRouter
) -> None:
    mock.get(ITEM).respond(200, json=job_body("QUEUED_FOR_GPU"))
    with pytest.raises(WaitTimeoutError, match="still QUEUED_FOR_GPU after 30 s") as caught:
        sj.wait(JOB, timeout=30)
    assert caught.value.last is not None and caught.value.last.state == "QUEUED_FOR_GPU"


def test_wait_on_a_job_never_committed_says_so_after_the_grace(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("CREATING"))
    start = fake_time.now
    with pytest.raises(JobNotCommittedError, match="never committed") as caught:
        sj.wait(JOB, timeout=600)
    assert fake_time.now - start == pytest.approx(COMMIT_GRACE)  # at the grace, not after 600 s
    assert caught.value.job_id == JOB and isinstance(caught.value, InvalidRequestError)
    assert route.call_count > 1  # polled through the grace, in case the commit shows late


def test_a_commit_that_shows_late_is_waited_for(sj: Surface, mock: respx.MockRouter) -> None:
    states = ["CREATING", "CREATING", "WAITING", "SUCCEED"]
    mock.get(ITEM).mock(side_effect=[httpx.Response(200, json=job_body(s)) for s in states])
    assert sj.wait(JOB).state is JobState.SUCCEED


def test_commit_grace_is_a_setting(make: Make, mock: respx.MockRouter, fake_time: FakeTime) -> None:
    mock.get(ITEM).respond(200, json=job_body("CREATING"))
    sj = make(BASE, project_id=PROJECT, token=TOKEN, commit_grace=0)
    with pytest.raises(JobNotCommittedError):
        sj.wait(JOB)
    assert fake_time.sleeps == []  # said at once


def test_not_found_rests_on_the_operation_and_code_not_the_wording(
    sj: Surface, mock: respx.MockRouter
) -> None:
    body = error_body("MSS.00000003", "job job-1 does not exist")
    mock.post(ITEM).respond(400, json=body)
    with pytest.raises(InvalidRequestError) as caught:
        sj.commit(JOB)  # MSS.00000003 on a commit may be "not uploaded" or "already committed"
    assert not isinstance(caught.value, NotFoundError)
    mock.get(ITEM).respond(400, json=error_body("MSS.00000003", "whatever it says"))
    with pytest.raises(NotFoundError):
        sj.show(JOB)
