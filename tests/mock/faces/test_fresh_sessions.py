"""What a user's suite sees through the fixture's handle, over real HTTP (issue 20, items 1, 2, 7).

- In fresh sessions (a new mock and a new, unloaded DNSMOS model each time: the session's first
  assessment included), `polls:2` answers WAITING, WAITING, PROCESSING, PROCESSING, SUCCEED to
  back-to-back shows, and `manual` + `advance` reaches SUCCEED, 20 times in a row; no sleep.
- Shutting the mock down while an assessment runs does not wait for it.
- `make_job` makes a job in any state after the upload with its outcome, in one call, which
  the API's show answers as the service would (the suite's watcher checks every answer against
  the specs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import plain_http
import pytest

from mock_server.assessment import dnsmos
from mock_server.core.spec import spec_document
from mock_server.faces.fixture import ControlPlaneError, MockHandle
from mock_server.faces.inprocess import running_mock
from mock_server.samples import sample_zip
from mock_server.service import canned, steering

JOB_STATES: list[str] = spec_document()["components"]["schemas"]["JobState"]["enum"]
SESSIONS = 20


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short take: every fresh session assesses it with a model that has never seen it."""
    return sample_zip(tmp_path_factory.mktemp("take") / "take.zip", count=1, seconds=1.0)


def _shown(m: MockHandle, job_id: str) -> str:
    response = plain_http.get(
        f"{m.url}/v1/{m.project_id}/voice-training-manage/user/short-jobs/{job_id}",
        headers={"X-Auth-Token": m.token},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    state: str = response.json()["state"]
    return state


def _committed(m: MockHandle, take: Path) -> str:
    job = m.client.create()
    m.client.upload(job, take)
    m.client.commit(job.job_id)
    return job.job_id


@pytest.mark.slow  # long: 20 mocks, each loading the model afresh
def test_polls_and_advance_are_exact_in_twenty_fresh_sessions(
    take: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for session in range(SESSIONS):
        # a model never loaded, with no window scored: the session's first assessment
        monkeypatch.setattr(dnsmos, "_MODEL", dnsmos._Model())
        with running(tmp_path / str(session)) as m:
            m.set_progress("polls:2")
            polled = _committed(m, take)
            seen = [_shown(m, polled) for _ in range(5)]
            assert seen == ["WAITING", "WAITING", "PROCESSING", "PROCESSING", "SUCCEED"], session

            m.set_progress("manual")
            stepped = _committed(m, take)
            steps = [_shown(m, stepped), m.advance(stepped)["state"], m.advance(stepped)["state"]]
            assert steps == ["WAITING", "PROCESSING", "SUCCEED"], session


@contextmanager
def running(data_dir: Path) -> Iterator[MockHandle]:
    """A fresh mock as the plugin starts it (control plane on, 0 s processing) and its handle."""
    with running_mock(data_dir, control=True, processing_seconds=0) as server:
        m = MockHandle(server)
        try:
            yield m
        finally:
            m.close()


def test_shutdown_does_not_wait_for_a_running_assessment(
    take: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The block ends while the assessment is still blocked: nothing joined it."""
    import mock_server.assessment as assessment

    entered, release = threading.Event(), threading.Event()
    real = assessment.assess_zip

    def blocked(path: Path, language: str = "CN") -> Any:
        entered.set()
        release.wait(60)
        return real(path, language)

    monkeypatch.setattr(assessment, "assess_zip", blocked)
    try:
        with running(tmp_path / "data") as m:
            _committed(m, take)
            assert entered.wait(30)
        assert not release.is_set()  # the server is down; the assessment has not ended
    finally:
        release.set()


def test_reset_before_the_next_test_drops_the_running_assessment(
    short_jobs_mock: MockHandle, take: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test leaves an assessment running; the next test's job is assessed while it still
    runs, not after it (the worker abandoned it at the reset)."""
    import mock_server.assessment as assessment

    m = short_jobs_mock
    entered, release = threading.Event(), threading.Event()
    real = assessment.assess_zip
    calls: list[str] = []

    def first_blocks(path: Path, language: str = "CN") -> Any:
        calls.append(path.name)
        if len(calls) == 1:
            entered.set()
            release.wait(60)
        return real(path, language)

    monkeypatch.setattr(assessment, "assess_zip", first_blocks)
    try:
        m.set_progress("manual")
        _committed(m, take)
        assert entered.wait(30)
        m.reset()
        m.set_progress("manual")
        job_id = _committed(m, take)
        assert [m.advance(job_id)["state"], m.advance(job_id)["state"]] == [
            "PROCESSING",
            "SUCCEED",
        ]
        assert not release.is_set()
    finally:
        release.set()


# -- make_job -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [s for s in JOB_STATES if s != "CREATING"])
def test_make_job_in_every_state_shows_what_the_service_shows(
    short_jobs_mock: MockHandle, state: str
) -> None:
    m = short_jobs_mock
    job_id = m.make_job(state)
    detail = m.client.show(job_id).to_dict()
    assert detail["state"] == state and detail["job_id"] == job_id
    fields = steering.fields_in(state)
    assert fields is not None
    assert ("job_failed_code" in detail) is fields.failure
    assert ("assess_result" in detail) is fields.result
    if fields.result:
        assert detail["assess_result"] == canned.CANNED_RESULT
    if fields.failure:
        assert detail["job_failed_code"] == steering.DEFAULT_FAILED_CODE
    # pinned, like set_state: shows do not move it
    assert [_shown(m, job_id) for _ in range(3)] == [state] * 3
    m.assert_called("show_short_job", times=4, job_id=job_id, status=200)


def test_make_job_with_the_tests_result_or_failure(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    result = {**canned.CANNED_RESULT, "suggestion": "from the test"}
    done = m.make_job(assess_result=result, language="EN", app_user_id="user-1")
    assert m.client.wait(done, timeout=5).to_dict()["assess_result"] == result
    failed = m.make_job("FAILED", job_failed_code="MSS.20000002", job_failed_reason="broken.wav")
    detail = m.client.show(failed)
    assert (detail.job_failed_code, detail.job_failed_reason) == ("MSS.20000002", "broken.wav")
    # WAITING takes the outcome advance reaches: no audio, no assessment
    later = m.make_job("WAITING", job_failed_code="MSS.1", job_failed_reason="later")
    assert [m.advance(later)["state"], m.advance(later)["job_failed_code"]] == [
        "PROCESSING",
        "MSS.1",
    ]


@pytest.mark.parametrize(
    "arguments",
    [
        {"state": "CREATING"},
        {"state": "NOT_A_STATE"},
        {"state": "AUDITING", "assess_result": canned.CANNED_RESULT},
        {"state": "SUCCEED", "job_failed_code": "MSS.1"},
        {"state": "WAITING", "job_failed_code": "MSS.1", "assess_result": canned.CANNED_RESULT},
        {"state": "SUCCEED", "assess_result": {"speed": "fast"}},
    ],
)
def test_make_job_refuses_what_the_state_cannot_show(
    short_jobs_mock: MockHandle, arguments: dict[str, Any]
) -> None:
    with pytest.raises(ControlPlaneError, match=r"400 .*MSS\.00000002"):
        short_jobs_mock.make_job(**arguments)
    assert short_jobs_mock.reset() == 0  # nothing was made
