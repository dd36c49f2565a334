"""Every bad input gets the service's own error shape, status and code, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import plain_http
import pytest
from helpers import collection, create, item, token_client

from mock_server.faces.inprocess import RunningMock
from short_jobs.signing import format_sdk_date, sign_request

GATEWAY_CODES = ("APIGW.0101", "APIGW.0201", "APIGW.0301")


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error_code"] == code
    for fragment in fragments:
        assert fragment in body["error_msg"]
    request_id = response.headers["X-Request-Id"]
    assert request_id
    if code in GATEWAY_CODES:
        assert body["request_id"] == request_id
    else:
        assert "request_id" not in body
    assert set(body) <= {"error_code", "error_msg", "request_id"}


def signed(
    server: RunningMock,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    sk: str | None = None,
    ak: str | None = None,
    when: datetime | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    host = server.url.removeprefix("http://")
    headers = {
        "Content-Type": "application/json",
        "Host": host,
        "X-Project-Id": server.project_id,
        **(extra or {}),
    }
    headers.update(
        sign_request(method, path, headers, body, ak or server.ak, sk or server.sk, when)
    )
    return plain_http.request(method, server.url + path, content=body, headers=headers)


# -- authentication (the gateway) ---------------------------------------------------------------


def test_aksk_signed_requests_are_accepted(mock: RunningMock) -> None:
    response = signed(mock, "POST", collection(mock), b'{"job_type": "VOICE_ASSESS"}')
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"sk": "wrong"}, "signature mismatch"),
        ({"ak": "UNKNOWNAK"}, "not found"),
        # clock offsets, not times: a time taken at collection is stale minutes later
        ({"when": -timedelta(minutes=16)}, "signature expired"),
        ({"when": timedelta(minutes=16)}, "signature expired"),
    ],
)
def test_aksk_failures_are_401_saying_why(
    mock: RunningMock, kwargs: dict[str, Any], fragment: str
) -> None:
    if "when" in kwargs:
        kwargs = {**kwargs, "when": datetime.now(UTC) + kwargs["when"]}
    response = signed(mock, "GET", item(mock, "x"), **kwargs)
    assert_error(response, 401, "APIGW.0301", fragment)


def test_a_tampered_signed_request_is_refused(mock: RunningMock) -> None:
    path = item(mock, "job-a")
    host = mock.url.removeprefix("http://")
    headers = {"Content-Type": "application/json", "Host": host, "X-Project-Id": mock.project_id}
    headers.update(sign_request("GET", path, headers, b"", mock.ak, mock.sk))
    response = plain_http.get(mock.url + item(mock, "job-b"), headers=headers)
    assert_error(response, 401, "APIGW.0301", "signature mismatch")


def test_no_credentials_and_a_bad_token_are_refused(mock: RunningMock) -> None:
    assert_error(plain_http.get(mock.url + item(mock, "x")), 401, "APIGW.0301", "no credentials")
    response = plain_http.get(mock.url + item(mock, "x"), headers={"X-Auth-Token": "nope"})
    assert_error(response, 401, "APIGW.0301", "X-Auth-Token")


def test_another_project_is_refused(mock: RunningMock) -> None:
    with token_client(mock) as client:
        response = client.get(item(mock, "x", project="someone-else"))
    assert_error(response, 401, "APIGW.0301", "someone-else")
    response = signed(mock, "GET", item(mock, "x"), extra={"X-Project-Id": "other"})
    assert_error(response, 401, "APIGW.0301", "X-Project-Id")


def test_a_malformed_authorization_header_is_refused(mock: RunningMock) -> None:
    headers = {"Authorization": "Basic abc", "X-Sdk-Date": format_sdk_date(datetime.now(UTC))}
    response = plain_http.get(mock.url + item(mock, "x"), headers=headers)
    assert_error(response, 401, "APIGW.0301")


# -- routing and size (the gateway) -------------------------------------------------------------


def test_an_unknown_api_is_404_apigw_0101(mock: RunningMock) -> None:
    with token_client(mock) as client:
        for path in ("/nope", "/v1/x/voice-training-manage/user/long-jobs", "/v2/"):
            assert_error(client.get(path), 404, "APIGW.0101")


def test_a_method_the_path_lacks_is_404_apigw_0101(mock: RunningMock) -> None:
    """The gateway routes on method and path: no 405, no Allow (the reference, section 5)."""
    with token_client(mock) as client:
        for method, path in [
            ("DELETE", item(mock, "x")),
            ("PUT", collection(mock)),
            ("GET", collection(mock)),
            ("OPTIONS", item(mock, "x")),
            ("PATCH", item(mock, "x")),
        ]:
            response = client.request(method, path)
            assert_error(response, 404, "APIGW.0101")
            assert "Allow" not in response.headers


def test_a_body_over_12_mb_is_413(mock: RunningMock) -> None:
    big = b'{"job_type": "VOICE_ASSESS", "pad": "' + b"x" * (12 * 1024 * 1024) + b'"}'
    with token_client(mock) as client:
        response = client.post(
            collection(mock), content=big, headers={"Content-Type": "application/json"}
        )
    assert_error(response, 413, "APIGW.0201")


# -- validation from the spec (the service) -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "code", "fragment"),
    [
        (b'{"job_type": "VOICE_CLONE"}', "application/json", "MSS.00000002", "VOICE_CLONE"),
        (b'{"language": "CN"}', "application/json", "MSS.00000002", "job_type"),
        (
            b'{"job_type": "VOICE_ASSESS", "language": "FR"}',
            "application/json",
            "MSS.00000002",
            "FR",
        ),
        (b'{"job_type": 1', "application/json", "MSS.10000002", ""),
        (b"\xff\xfe", "application/json", "MSS.10000002", ""),
        (b"[]", "application/json", "MSS.00000002", ""),
        (b'{"job_type": "VOICE_ASSESS"}', "text/plain", "MSS.10000002", "text/plain"),
        (b"", "application/json", "MSS.00000002", ""),
    ],
)
def test_bad_create_bodies_are_400_with_an_mss_code(
    mock: RunningMock, content: bytes, content_type: str, code: str, fragment: str
) -> None:
    with token_client(mock) as client:
        response = client.post(
            collection(mock), content=content, headers={"Content-Type": content_type}
        )
    assert_error(response, 400, code, fragment)


@pytest.mark.parametrize(
    ("headers", "params", "fragment"),
    [
        ({b"X-App-UserId": "用户".encode()}, {}, ""),
        ({b"X-App-UserId": b"has space"}, {}, ""),
        ({b"X-Sdk-Date": b"yesterday"}, {}, ""),
        ({}, {"unexpected": "1"}, "unexpected"),
    ],
)
def test_bad_parameters_are_400_mss_10000003(
    mock: RunningMock, headers: dict[bytes, bytes], params: dict[str, str], fragment: str
) -> None:
    with token_client(mock) as client:
        response = client.get(item(mock, "x"), headers=headers, params=params)
    assert_error(response, 400, "MSS.10000003", fragment)


def test_the_default_language_is_applied(mock: RunningMock) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
    stored = mock.app.service.store.get(job["job_id"]) if mock.app.service else None
    assert stored is not None
    assert stored.language == "CN"


# -- the job lifecycle's refusals ---------------------------------------------------------------


def test_unknown_jobs_are_400_naming_the_job(mock: RunningMock) -> None:
    with token_client(mock) as client:
        assert_error(client.get(item(mock, "ghost-1")), 400, "MSS.00000003", "ghost-1")
        assert_error(client.post(item(mock, "ghost-2")), 400, "MSS.00000003", "ghost-2")


def test_commit_before_upload_and_a_second_commit_are_refused(
    mock: RunningMock, recordings: Any
) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
        path = item(mock, job["job_id"])
        assert_error(client.post(path), 400, "MSS.00000003", "no uploaded data")
        put = plain_http.put(
            job["data_uploading_url"],
            content=recordings.read_bytes(),
            headers={"Content-Type": "application/zip"},
        )
        assert put.status_code == 200
        assert client.post(path, headers={"Content-Type": "application/json"}).status_code == 200
        assert_error(client.post(path), 400, "MSS.00000003", "already committed")


def test_an_internal_error_is_500_without_a_traceback(
    mock: RunningMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mock.app.service is not None

    def broken(job_id: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(mock.app.service.store, "get", broken)
    with token_client(mock) as client:
        response = client.get(item(mock, "x"))
    assert_error(response, 500, "MSS.00000004")
    assert "secret" not in response.text and "Traceback" not in response.text


def test_every_answer_has_a_request_id_and_none_is_problem_json(mock: RunningMock) -> None:
    with token_client(mock) as client:
        responses = [
            client.get("/"),
            client.get("/nope"),
            client.get(item(mock, "x")),
            client.post(collection(mock), json={"job_type": "VOICE_ASSESS"}),
            plain_http.get(mock.url + item(mock, "x")),
        ]
    ids = [response.headers["X-Request-Id"] for response in responses]
    assert len(set(ids)) == len(ids)
    for response in responses:
        assert "problem" not in response.headers.get("content-type", "")
