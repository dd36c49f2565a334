"""The control plane and the `short_jobs_mock` fixture: every route and method, over real HTTP."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import plain_http
import pytest
from helpers import upload

from mock_server.faces.inprocess import RunningMock
from mock_server.pytest_plugin import ControlPlaneError, MockHandle
from short_jobs import RetryPolicy, ShortJobs
from short_jobs.errors import (
    InvalidRequestError,
    JobFailedError,
    NetworkError,
    ServerError,
    ThrottledError,
    UploadError,
)
from short_jobs_client.models import AssessResult

MakeMock = Callable[..., AbstractContextManager[RunningMock]]


T = TypeVar("T")


def uploaded_job(mock: MockHandle, recordings: Path) -> str:
    job = mock.client.create()
    mock.client.upload(job, recordings)
    return job.job_id


def committed_job(mock: MockHandle, recordings: Path) -> str:
    job_id = uploaded_job(mock, recordings)
    mock.client.commit(job_id)
    return job_id


def state(mock: MockHandle, job_id: str) -> str:
    return str(mock.client.show(job_id).state.value)


# -- off by default -------------------------------------------------------------------------------


def test_the_control_plane_is_off_unless_asked_for(make_mock: MakeMock) -> None:
    with make_mock() as server:
        for method, path in (("POST", "/_mock/reset"), ("GET", "/_mock/requests")):
            response = plain_http.request(method, server.url + path)
            assert response.status_code == 404
            assert response.json()["error_code"] == "APIGW.0101"


# -- reset and the journal ------------------------------------------------------------------------


def test_reset_empties_jobs_uploads_journal_and_faults(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    job_id = committed_job(short_jobs_mock, recordings)
    short_jobs_mock.fail_next("show_short_job", times=5)
    assert short_jobs_mock.reset() == 1
    assert short_jobs_mock.requests() == []
    assert short_jobs_mock.faults() == []
    assert list((short_jobs_mock.data_dir / "uploads").iterdir()) == []
    with pytest.raises(InvalidRequestError):
        short_jobs_mock.client.show(job_id)


def test_the_journal_records_what_was_sent(short_jobs_mock: MockHandle, recordings: Path) -> None:
    job_id = committed_job(short_jobs_mock, recordings)
    short_jobs_mock.client.show(job_id)
    entries = short_jobs_mock.requests()
    assert [entry["operation"] for entry in entries] == [
        "create_short_job",
        "upload",
        "commit_short_job",
        "show_short_job",
    ]
    create = entries[0]
    assert create["method"] == "POST"
    assert create["status"] == 200
    assert create["job_id"] == job_id
    assert create["request_id"]
    assert create["headers"]["x-project-id"] == short_jobs_mock.project_id
    assert create["headers"]["authorization"] == f"SDK-HMAC-SHA256 Access={short_jobs_mock.ak}"
    assert "Signature" not in entries[1]["query"]
    assert all(entry["job_id"] == job_id for entry in entries)


@pytest.mark.parametrize(
    ("sent", "journaled"),
    [
        ("语音".encode(), "语音"),  # UTF-8, as clients send it: the text, not Latin-1 mojibake
        (b"caf\xc3\xa9", "café"),
        (b"a\xffb", "a\\udcffb"),  # not UTF-8: the byte kept, escaped
        (b"a\tb", "a\\tb"),  # a tab (the one control character HTTP allows), escaped
    ],
)
def test_the_journal_keeps_header_values_as_text(
    short_jobs_mock: MockHandle, sent: bytes, journaled: str
) -> None:
    m = short_jobs_mock
    url = f"{m.url}/v1/{m.project_id}/voice-training-manage/user/short-jobs"
    # the mock answers 400 or 200; either way the journal keeps what was sent
    plain_http.post(url, json={"job_type": "VOICE_ASSESS"}, headers={b"X-App-UserId": sent})
    (entry,) = m.requests("create_short_job")
    assert entry["headers"]["x-app-userid"] == journaled
    # and the dashboard, which shows the same value, still renders
    assert plain_http.get(f"{m.url}/_mock/ui/").status_code == 200


def test_the_journal_filters_and_clears(short_jobs_mock: MockHandle) -> None:
    client = short_jobs_mock.client
    job = client.create()
    with pytest.raises(InvalidRequestError):
        client.commit(job.job_id)
    with pytest.raises(InvalidRequestError):
        client.show("ghost")
    assert len(short_jobs_mock.requests()) == 3
    assert [e["job_id"] for e in short_jobs_mock.requests(status=400)] == [job.job_id, "ghost"]
    assert len(short_jobs_mock.requests("create_short_job")) == 1
    assert len(short_jobs_mock.requests(method="GET")) == 1
    assert len(short_jobs_mock.requests(path_contains="ghost")) == 1
    assert len(short_jobs_mock.requests(job_id=job.job_id)) == 2
    first = short_jobs_mock.requests()[0]["id"]
    assert len(short_jobs_mock.requests(since_id=first)) == 2
    errors = short_jobs_mock.requests(status=400)
    assert {e["error_code"] for e in errors} == {"MSS.00000003"}
    short_jobs_mock.clear_requests()
    assert short_jobs_mock.requests() == []


# -- faults ---------------------------------------------------------------------------------------


def test_fail_next_answers_the_error_in_the_service_shape(short_jobs_mock: MockHandle) -> None:
    short_jobs_mock.fail_next("create_short_job", status=500, error_code="MSS.00000004")
    with pytest.raises(ServerError) as raised:
        short_jobs_mock.client.create()
    assert raised.value.status == 500
    assert raised.value.error_code == "MSS.00000004"
    assert raised.value.error_msg == "Internal error"
    assert raised.value.request_id
    # used up: the next create is real
    assert short_jobs_mock.client.create().job_id
    assert short_jobs_mock.faults() == []


def test_a_fault_applies_only_to_its_operation_and_counts_down(
    short_jobs_mock: MockHandle,
) -> None:
    fault = short_jobs_mock.fail_next(
        "show_short_job", status=400, error_code="MSS.00000003", error_msg="custom", times=2
    )
    assert fault["times"] == 2
    job = short_jobs_mock.client.create()  # not a show: unaffected
    client = ShortJobs(
        short_jobs_mock.url,
        project_id=short_jobs_mock.project_id,
        token=short_jobs_mock.token,
        retry=RetryPolicy(attempts=1),
    )
    with client:
        for _ in range(2):
            with pytest.raises(InvalidRequestError) as raised:
                client.show(job.job_id)
            assert raised.value.error_msg == "custom"
        assert client.show(job.job_id).job_id == job.job_id


def test_a_retry_absorbs_an_injected_429_with_retry_after(short_jobs_mock: MockHandle) -> None:
    job = short_jobs_mock.client.create()
    short_jobs_mock.fail_next(
        "show_short_job", status=429, error_code="APIGW.0308", retry_after=1, times=2
    )
    slept: list[float] = []
    client = ShortJobs(
        short_jobs_mock.url,
        project_id=short_jobs_mock.project_id,
        token=short_jobs_mock.token,
        sleep=slept.append,
    )
    with client:
        assert client.show(job.job_id).job_id == job.job_id
    assert slept == [1.0, 1.0]  # the server's Retry-After, honoured
    statuses = [e["status"] for e in short_jobs_mock.requests("show_short_job")]
    assert statuses == [429, 429, 200]


def test_an_injected_429_without_retries_surfaces_with_its_fields(
    short_jobs_mock: MockHandle,
) -> None:
    short_jobs_mock.fail_next("show_short_job", status=429, error_code="APIGW.0308", retry_after=7)
    client = ShortJobs(
        short_jobs_mock.url,
        project_id=short_jobs_mock.project_id,
        token=short_jobs_mock.token,
        retry=RetryPolicy(attempts=1),
    )
    with client, pytest.raises(ThrottledError) as raised:
        client.show("any")
    assert raised.value.retry_after == 7
    assert raised.value.error_code == "APIGW.0308"
    assert raised.value.request_id


def test_an_unknown_code_is_still_answered_in_the_service_shape(
    short_jobs_mock: MockHandle,
) -> None:
    short_jobs_mock.fail_next(status=503, error_code="APIGW.0999", error_msg="maintenance")
    response = plain_http.get(
        short_jobs_mock.url
        + f"/v1/{short_jobs_mock.project_id}/voice-training-manage/user/short-jobs/x",
        headers={"X-Auth-Token": short_jobs_mock.token},
    )
    assert response.status_code == 503
    body = response.json()
    assert body == {
        "error_code": "APIGW.0999",
        "error_msg": "maintenance",
        "request_id": response.headers["X-Request-Id"],
    }


def test_delay_next_answers_normally_but_late(short_jobs_mock: MockHandle) -> None:
    short_jobs_mock.delay_next(300, "create_short_job")
    assert short_jobs_mock.client.create().job_id
    (entry,) = short_jobs_mock.requests("create_short_job")
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 300  # a lower bound a sleep guarantees, not a timing target


def test_a_failed_upload_is_an_upload_error(short_jobs_mock: MockHandle, recordings: Path) -> None:
    job = short_jobs_mock.client.create()
    short_jobs_mock.fail_next_upload(status=503, error_code="ServiceUnavailable", times=10)
    # the handle's client with its default retry policy, the backoff not slept (seconds of
    # full jitter, the longest wait of this file)
    backoffs: list[float] = []
    client = ShortJobs(
        short_jobs_mock.url,
        project_id=short_jobs_mock.project_id,
        ak=short_jobs_mock.ak,
        sk=short_jobs_mock.sk,
        signing_clock=short_jobs_mock.mock_time,
        sleep=backoffs.append,
    )
    with client, pytest.raises(UploadError) as raised:
        client.upload(job, recordings)
    assert len(backoffs) == RetryPolicy().attempts - 1  # every attempt was made
    assert raised.value.status == 503
    assert raised.value.error_code == "ServiceUnavailable"
    assert not (short_jobs_mock.data_dir / "uploads" / f"{job.job_id}.zip").exists()


def test_a_cut_off_upload_stores_nothing_and_a_retry_recovers(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    job = short_jobs_mock.client.create()
    short_jobs_mock.cut_next_upload()
    plain = ShortJobs(
        short_jobs_mock.url,
        project_id=short_jobs_mock.project_id,
        token=short_jobs_mock.token,
        retry=RetryPolicy(attempts=1),
    )
    with plain, pytest.raises(NetworkError):
        plain.upload(job, recordings)
    assert not (short_jobs_mock.data_dir / "uploads" / f"{job.job_id}.zip").exists()
    short_jobs_mock.cut_next_upload()
    short_jobs_mock.client.upload(job, recordings)  # the default policy retries
    assert (short_jobs_mock.data_dir / "uploads" / f"{job.job_id}.zip").exists()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_cut_is_journaled_as_no_answer_and_logs_no_error(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    """The client got no answer, so the journal says none (not 200); an injected fault is no
    error of the server: no ERROR line, no traceback, in the mock's or the server's log."""
    job = short_jobs_mock.client.create()
    short_jobs_mock.cut_next_upload()
    records = _Records()
    loggers = [logging.getLogger(name) for name in ("mock_server", "uvicorn.error", "")]
    access = logging.getLogger("mock_server.access")
    access_level = access.level
    access.setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(records)
    try:
        with pytest.raises(httpx.TransportError):  # reset or broken off, by timing
            plain_http.put(
                job.data_uploading_url,
                content=recordings.read_bytes(),
                headers={"Content-Type": "application/zip"},
            )
        # the server logs from its own thread: wait for the journal, which is written last
        entries = wait_for(lambda: short_jobs_mock.requests("upload"))
        # and for the access line, which the log's writer thread hands on, in batches, up to
        # accesslog.GATHER_SECONDS after the request (to the loggers above mock_server.access)
        wait_for(lambda: put_lines(records, access.name))
    finally:
        access.setLevel(access_level)
        for logger in loggers:
            logger.removeHandler(records)
    [entry] = entries
    assert entry["status"] is None and entry["error_code"] == "cut", entry
    # the access log agrees with the journal: no status, not the 200 the cut began with
    lines = put_lines(records, access.name)
    assert len(lines) == 1 and '" - cut ' in lines[0], lines
    errors = [r for r in records.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]
    assert not (short_jobs_mock.data_dir / "uploads" / f"{job.job_id}.zip").exists()
    # the next upload is served as usual, and journaled with its status
    assert upload(job.data_uploading_url, recordings).status_code == 200
    statuses = [e["status"] for e in short_jobs_mock.requests("upload")]
    assert statuses == [None, 200]


def put_lines(records: _Records, name: str) -> list[str]:
    """The PUT lines logger `name` logged (one record reaches the handler per logger)."""
    return [
        r.getMessage()
        for r in dict.fromkeys(records.records)
        if r.name == name and '"PUT ' in r.getMessage()
    ]


def wait_for(look: Callable[[], list[T]], seconds: float = 10) -> list[T]:
    """What `look` finds once it finds anything, or its empty answer after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := look()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return found


def test_faults_list_and_clear(short_jobs_mock: MockHandle) -> None:
    short_jobs_mock.fail_next("commit_short_job", times=3)
    short_jobs_mock.delay_next(10)
    armed = short_jobs_mock.faults()
    expected = [("commit_short_job", 3), (None, 1)]
    assert [(f.get("operation"), f["times"]) for f in armed] == expected
    short_jobs_mock.clear_faults()
    assert short_jobs_mock.faults() == []


@pytest.mark.parametrize(
    "body",
    [
        {"status": 500},  # no error_code
        {"times": 2},  # nothing to do
        {"operation": "show_short_job", "upload": "cut"},
        {"operation": "delete_everything", "status": 500, "error_code": "X"},
        {"status": 200, "error_code": "X"},
        {"latency_ms": -1},
        {"surprise": True},
    ],
)
def test_bad_faults_are_refused(short_jobs_mock: MockHandle, body: dict[str, Any]) -> None:
    response = plain_http.post(short_jobs_mock.url + "/_mock/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error_code"].startswith("MSS.")
    assert short_jobs_mock.faults() == []


# -- lifecycle control ----------------------------------------------------------------------------


def test_manual_progression_moves_only_when_advanced(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    short_jobs_mock.set_progress("manual")
    assert short_jobs_mock.progress() == "manual"
    job_id = committed_job(short_jobs_mock, recordings)
    assert state(short_jobs_mock, job_id) == "WAITING"
    assert state(short_jobs_mock, job_id) == "WAITING"
    assert short_jobs_mock.advance(job_id)["state"] == "PROCESSING"
    assert state(short_jobs_mock, job_id) == "PROCESSING"
    done = short_jobs_mock.advance(job_id)
    assert done["state"] == "SUCCEED"
    assert set(done["assess_result"]) >= {"speed", "snr", "suggestion"}
    with pytest.raises(ControlPlaneError, match="cannot advance from SUCCEED"):
        short_jobs_mock.advance(job_id)


def test_advance_refuses_an_uncommitted_or_unknown_job(short_jobs_mock: MockHandle) -> None:
    job = short_jobs_mock.client.create()
    with pytest.raises(ControlPlaneError, match="commit it first"):
        short_jobs_mock.advance(job.job_id)
    with pytest.raises(ControlPlaneError, match="does not exist"):
        short_jobs_mock.advance("ghost")


def test_immediate_progression_ends_without_waiting(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    short_jobs_mock.set_progress("immediate")
    job_id = committed_job(short_jobs_mock, recordings)
    assert short_jobs_mock.client.wait(job_id, timeout=10).state.value == "SUCCEED"


def test_one_job_can_be_switched_to_manual(short_jobs_mock: MockHandle, recordings: Path) -> None:
    job_id = uploaded_job(short_jobs_mock, recordings)
    assert short_jobs_mock.set_job_progress(job_id, "manual")["state"] == "CREATING"
    short_jobs_mock.client.commit(job_id)
    assert short_jobs_mock.advance(job_id)["state"] == "PROCESSING"
    with pytest.raises(ControlPlaneError):
        short_jobs_mock.set_progress("sometimes")


def test_a_job_can_be_forced_to_fail(short_jobs_mock: MockHandle, recordings: Path) -> None:
    short_jobs_mock.set_progress("manual")
    job_id = committed_job(short_jobs_mock, recordings)
    forced = short_jobs_mock.fail_job(job_id, "MSS.29999999", "the test said so")
    assert forced["state"] == "FAILED"
    with pytest.raises(JobFailedError) as raised:
        short_jobs_mock.client.wait(job_id, timeout=5)
    assert raised.value.job_failed_code == "MSS.29999999"
    assert raised.value.job_failed_reason == "the test said so"


def test_a_job_can_be_forced_to_succeed_with_a_given_result(short_jobs_mock: MockHandle) -> None:
    job = short_jobs_mock.client.create()
    metric = {"expected": "a", "actual": "b", "suggestion": "c", "suggestion_en": "d", "status": 1}
    result = dict.fromkeys(("speed", "sound", "snr", "reverb"), metric) | {"suggestion": "x"}
    assert short_jobs_mock.succeed_job(job.job_id, result)["state"] == "SUCCEED"
    shown = short_jobs_mock.client.show(job.job_id)
    assert isinstance(shown.assess_result, AssessResult)
    assert shown.assess_result.to_dict() == result


def test_a_forced_success_without_a_result_assesses_the_upload(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    job_id = uploaded_job(short_jobs_mock, recordings)
    assert set(short_jobs_mock.succeed_job(job_id)["assess_result"]) >= {"dnsmos_ovrl"}
    bare = short_jobs_mock.client.create()
    with pytest.raises(ControlPlaneError, match="no upload"):
        short_jobs_mock.succeed_job(bare.job_id)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, None),
        ("application/json", None),
        (None, b""),
        ("application/json", b""),
        ("application/json", b"{}"),
        (None, b"{}"),
        ("application/json; charset=utf-8", b"{}"),
    ],
)
def test_succeed_takes_no_body_with_or_without_a_content_type(
    short_jobs_mock: MockHandle, recordings: Path, content_type: str | None, body: bytes | None
) -> None:
    """The body of /succeed is optional: none at all, empty, or `{}`, all assess the upload;
    without a JSON Content-Type the control plane's cross-site guard refuses the call."""
    job_id = uploaded_job(short_jobs_mock, recordings)
    headers = {} if content_type is None else {"Content-Type": content_type}
    url = f"{short_jobs_mock.url}/_mock/jobs/{job_id}/succeed"
    # the assessment runs in the call: a loaded machine takes more than httpx's 5 s default
    response = plain_http.post(url, headers=headers, content=body, timeout=60)
    if content_type is None:
        assert response.status_code == 403, response.text
        assert response.json()["error_code"] == "MOCK.00000403"
        return
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "SUCCEED"
    assert set(response.json()["assess_result"]) >= {"dnsmos_ovrl"}


def test_succeed_reads_a_given_result_and_refuses_what_is_no_object(
    short_jobs_mock: MockHandle,
) -> None:
    job = short_jobs_mock.client.create()
    metric = {"expected": "a", "actual": "b", "suggestion": "c", "suggestion_en": "d", "status": 1}
    result = dict.fromkeys(("speed", "sound", "snr", "reverb"), metric) | {"suggestion": "x"}
    url = f"{short_jobs_mock.url}/_mock/jobs/{job.job_id}/succeed"
    json_type = {"Content-Type": "application/json"}
    response = plain_http.post(
        url, content=json.dumps({"assess_result": result}).encode(), headers=json_type
    )
    assert response.status_code == 200, response.text
    assert response.json()["assess_result"] == result
    for bad, code in ((b"[1]", "MSS.00000002"), (b"{nope", "MSS.10000002")):
        refused = plain_http.post(url, content=bad, headers=json_type)
        assert refused.status_code == 400 and refused.json()["error_code"] == code


def test_a_forced_result_must_be_an_assess_result(short_jobs_mock: MockHandle) -> None:
    job = short_jobs_mock.client.create()
    with pytest.raises(ControlPlaneError, match=r"MSS\.00000002.*status"):
        short_jobs_mock.succeed_job(job.job_id, {"speed": {"status": "bad"}})
    assert state(short_jobs_mock, job.job_id) == "CREATING"
