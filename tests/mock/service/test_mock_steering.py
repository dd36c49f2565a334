"""Steering: any JobState with its fields (set_state), the polls:N progress mode, assert_called."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import plain_http
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.core.spec import spec_document
from mock_server.pytest_plugin import ControlPlaneError, MockHandle
from mock_server.service import lifecycle, steering
from mock_server.service.store import Job, Outcome, Store
from short_jobs import JobFailedError

JOB_STATES: list[str] = spec_document()["components"]["schemas"]["JobState"]["enum"]
FAILURE_STATES = {"FAILED", "SPLIT_FAILED", "AUDIT_FAILED", "USER_REVIEW_REJECT"}


def shown(mock: MockHandle, job_id: str) -> dict[str, Any]:
    """show_short_job over the wire, as a client sees it (responses validated by the fixture)."""
    response = plain_http.get(
        f"{mock.url}/v1/{mock.project_id}/voice-training-manage/user/short-jobs/{job_id}",
        headers={"X-Auth-Token": mock.token},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- set_state ------------------------------------------------------------------------------------


def test_the_table_covers_every_job_state_of_the_spec() -> None:
    assert steering.job_states() == tuple(JOB_STATES)
    assert len(JOB_STATES) == 16
    assert FAILURE_STATES | {"SUCCEED"} <= set(JOB_STATES)
    assert steering.fields_in("NO_SUCH_STATE") is None


def test_the_mock_fails_a_job_in_the_states_the_client_ends_wait_at() -> None:
    from short_jobs._base import FAILURE_STATES as CLIENT_FAILURE_STATES

    assert {state.value for state in CLIENT_FAILURE_STATES} == steering.FAILURE_STATES


@pytest.mark.parametrize("state", [s for s in JOB_STATES if s != "SUCCEED"])
def test_set_state_shows_each_state_with_its_fields(
    short_jobs_mock: MockHandle, state: str
) -> None:
    m = short_jobs_mock
    job = m.client.create()
    answered = m.set_state(job.job_id, state)
    body = shown(m, job.job_id)
    assert answered == body
    assert body["state"] == state
    if state in FAILURE_STATES:
        assert body["job_failed_code"] == steering.DEFAULT_FAILED_CODE
        assert state in body["job_failed_reason"]
    else:
        assert "job_failed_code" not in body and "job_failed_reason" not in body
    assert "assess_result" not in body
    # pinned: it stays there however often it is shown
    assert [shown(m, job.job_id)["state"] for _ in range(3)] == [state] * 3


def test_set_state_failure_fields_are_the_tests_own(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    job = m.client.create()
    m.set_state(job.job_id, "SPLIT_FAILED", job_failed_code="MSS.123", job_failed_reason="split")
    detail = m.client.show(job.job_id)  # the generated model reads it
    assert (detail.state.value, detail.job_failed_code) == ("SPLIT_FAILED", "MSS.123")
    m.set_state(job.job_id, "FAILED", job_failed_code="MSS.456", job_failed_reason="failed")
    with pytest.raises(JobFailedError) as failure:
        m.client.wait(job.job_id, timeout=5)
    assert failure.value.job_failed_code == "MSS.456"


def test_set_state_succeed_with_a_result_or_the_computed_one(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    job = m.client.create()
    with pytest.raises(ControlPlaneError, match=r"MSS\.00000003"):
        m.set_state(job.job_id, "SUCCEED")  # no upload, no result
    m.client.upload(job, recordings)
    computed = m.set_state(job.job_id, "SUCCEED")["assess_result"]
    assert set(computed) >= {"speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak"}
    given_result = {**computed, "suggestion": "from the test"}
    assert m.set_state(job.job_id, "SUCCEED", assess_result=given_result)["assess_result"] == (
        given_result
    )
    assert shown(m, job.job_id)["assess_result"]["suggestion"] == "from the test"


@pytest.mark.parametrize(
    ("state", "fields", "code"),
    [
        ("NOT_A_STATE", {}, "MSS.00000002"),
        ("processing", {}, "MSS.00000002"),
        ("AUDITING", {"job_failed_code": "MSS.1"}, "MSS.00000002"),
        ("WAITING", {"assess_result": {}}, "MSS.00000002"),
        ("FAILED", {"assess_result": {}}, "MSS.00000002"),
        ("SUCCEED", {"job_failed_reason": "no"}, "MSS.00000002"),
        ("SUCCEED", {"assess_result": {"speed": "fast"}}, "MSS.00000002"),
        ("FAILED", {"job_failed_code": ""}, "MSS.00000002"),
    ],
)
def test_set_state_refuses_what_the_state_cannot_show(
    short_jobs_mock: MockHandle, state: str, fields: dict[str, Any], code: str
) -> None:
    m = short_jobs_mock
    job = m.client.create()
    response = plain_http.put(
        f"{m.url}/_mock/jobs/{job.job_id}/state", json={"state": state, **fields}, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == code
    assert shown(m, job.job_id)["state"] == "CREATING"  # nothing changed


def test_set_state_of_an_unknown_job_is_refused(short_jobs_mock: MockHandle) -> None:
    with pytest.raises(ControlPlaneError, match="does not exist"):
        short_jobs_mock.set_state("no-such-job", "AUDITING")


def test_a_pinned_committed_job_moves_only_when_advanced(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    m.set_progress("immediate")
    job = m.client.create()
    m.client.upload(job, recordings)
    m.client.commit(job.job_id)
    m.set_state(job.job_id, "WAITING")
    assert [shown(m, job.job_id)["state"] for _ in range(3)] == ["WAITING"] * 3
    assert m.advance(job.job_id)["state"] == "PROCESSING"
    assert m.advance(job.job_id)["state"] == "SUCCEED"


# -- polls:N --------------------------------------------------------------------------------------


def _committed(store: Store, progress: str, outcome: Outcome | None) -> Job:
    now = time.time()
    job = Job(
        job_id=f"job-{progress}-{now}",
        project_id="p",
        job_type="VOICE_ASSESS",
        language="CN",
        app_user_id=None,
        state=lifecycle.CREATING,
        create_time=int(now),
        lastupdate_time=int(now),
        progress=progress,
    )
    store.insert(job)
    committed = lifecycle.commit(job, now, processing_seconds=0)
    assert store.transition(job, committed)
    if outcome is not None:
        store.save_outcome(job.job_id, outcome, now, replace=False)
    stored = store.get(job.job_id)
    assert stored is not None
    return stored


@settings(max_examples=40, deadline=None)
@given(
    every=st.integers(1, 6),
    assessed_after=st.integers(0, 20),
    final=st.sampled_from([lifecycle.SUCCEED, lifecycle.FAILED]),
)
def test_polls_shows_each_state_n_times_then_steps_on(
    tmp_path_factory: pytest.TempPathFactory, every: int, assessed_after: int, final: str
) -> None:
    """Invariant: WAITING is shown exactly N times, PROCESSING N times or until the assessment
    is in (whichever is later), then the outcome; never backwards, never a state skipped."""
    store = Store(tmp_path_factory.mktemp("polls") / "jobs.sqlite3")
    outcome = Outcome(state=final, failed_code="MSS.1", failed_reason="r")
    job = _committed(store, f"polls:{every}", None)
    seen = []
    for show in range(1, 3 * every + assessed_after + 3):
        if show == assessed_after + 1:
            store.save_outcome(job.job_id, outcome, time.time(), replace=False)
        current = store.get(job.job_id)
        assert current is not None
        seen.append(steering.count_show(store, current, time.time())[0].state)
    store.close()

    assert seen[:every] == [lifecycle.WAITING] * every
    processing = seen[every:].count(lifecycle.PROCESSING)
    assert processing == max(every, assessed_after - every)
    assert seen[every + processing :] == [final] * (len(seen) - every - processing)


def test_polls_ignores_other_modes_and_uncommitted_jobs(tmp_path: Path) -> None:
    store = Store(tmp_path / "jobs.sqlite3")
    outcome = Outcome(state=lifecycle.SUCCEED, assess_result={})
    for progress in ("timed", "manual", "immediate", "polls:x", "polls:0"):
        job = _committed(store, progress, outcome)
        for _ in range(5):
            assert steering.count_show(store, job, time.time()) == (job, False)
    fresh = replace(_committed(store, "polls:1", outcome), committed_at=None)
    assert steering.count_show(store, fresh, time.time()) == (fresh, False)
    store.close()


def test_polls_over_http_moves_a_job_on_show_calls_only(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    m.set_progress("polls:2")
    assert m.progress() == "polls:2"
    job = m.client.create()
    m.client.upload(job, recordings)
    m.client.commit(job.job_id)
    for _ in range(5):  # the control plane and the dashboard look without counting
        assert plain_http.get(f"{m.url}/_mock/ui/").status_code == 200
        m.set_job_progress(job.job_id, "polls:2")
    seen = [shown(m, job.job_id)["state"] for _ in range(4)]
    assert seen == ["WAITING", "WAITING", "PROCESSING", "PROCESSING"]
    states = []
    for _ in range(1000):  # until the assessment is in; each show is one more poll
        states.append(shown(m, job.job_id)["state"])
        if states[-1] == "SUCCEED":
            break
    assert set(states) <= {"PROCESSING", "SUCCEED"} and states[-1] == "SUCCEED"


@pytest.mark.parametrize("mode", ["polls:0", "polls:", "polls:-1", "polls:1000000", "poll:2"])
def test_bad_progress_modes_are_refused(short_jobs_mock: MockHandle, mode: str) -> None:
    with pytest.raises(ControlPlaneError, match=r"MSS\.00000002"):
        short_jobs_mock.set_progress(mode)


# -- assert_called --------------------------------------------------------------------------------


def test_assert_called_counts_matching_requests(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    job = m.client.create()
    m.client.show(job.job_id)
    m.client.show(job.job_id)

    assert len(m.assert_called("create_short_job", times=1)) == 1
    found = m.assert_called("show_short_job", times=2, job_id=job.job_id, status=200)
    assert [entry["method"] for entry in found] == ["GET", "GET"]
    m.assert_called("show_short_job")
    m.assert_called(None, times=3)
    m.assert_called("commit_short_job", times=0)


def test_assert_called_fails_with_the_journal_lines(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    job = m.client.create()
    m.client.show(job.job_id)
    with pytest.raises(AssertionError) as wrong_count:
        m.assert_called("show_short_job", times=2, job_id=job.job_id)
    message = str(wrong_count.value)
    assert "called once" in message
    assert f"GET /v1/{m.project_id}/voice-training-manage/user/short-jobs/{job.job_id} -> 200" in (
        message
    )
    assert "create_short_job" not in message  # only the matching lines

    with pytest.raises(AssertionError) as never:
        m.assert_called("commit_short_job")
    message = str(never.value)
    assert "never called" in message and "the latest 2 of 2 requests" in message
    assert "create_short_job" in message and "show_short_job" in message

    m.reset()
    with pytest.raises(AssertionError, match="the mock received no request"):
        m.assert_called("create_short_job", status=200)


def test_assert_called_refuses_unknown_filters(short_jobs_mock: MockHandle) -> None:
    with pytest.raises(TypeError, match="unknown journal field"):
        short_jobs_mock.assert_called("show_short_job", jobid="x")
