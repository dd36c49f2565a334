"""Client unit tests (respx, no server, fake time): errors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from short_jobs import (
    NO_RETRY,
    AuthError,
    InvalidRequestError,
    NetworkError,
    NotFoundError,
    ServerError,
    ShortJobsError,
    ThrottledError,
)
from short_jobs.errors import (
    error_from_response,
    parse_retry_after,
)

from .client_fakes import COLLECTION, ITEM, JOB, Surface, error_body

pytestmark = pytest.mark.usefixtures("clean_client_env")


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, error_body("APIGW.0301", "signature mismatch", "body-rid"), AuthError, "APIGW.0301"),
        (401, error_body("APIG.0301", "token expired"), AuthError, "APIG.0301"),
        (401, error_body("MSS.00000001", "unauthorized"), AuthError, "MSS.00000001"),
        (403, error_body("APIGW.0302", "not authorized"), AuthError, "APIGW.0302"),
        (400, error_body("MSS.00000002", "Invalid request body"), InvalidRequestError, None),
        (400, error_body("MSS.00000003", "job x does not exist"), NotFoundError, None),
        # the class rests on status and code, never on the wording (which may change)
        (400, error_body("MSS.00000003", "作业不存在"), NotFoundError, None),
        (404, error_body("APIGW.0101", "no such API"), InvalidRequestError, None),
        (413, error_body("APIGW.0201", "too large"), InvalidRequestError, None),
        (429, error_body("APIGW.0308", "throttled"), ThrottledError, None),
        (500, error_body("MSS.00000004", "Internal error"), ServerError, None),
    ],
)
def test_declared_errors_map_to_their_class_with_every_field(
    sj: Surface,
    mock: respx.MockRouter,
    status: int,
    body: dict[str, str],
    cls: type[ShortJobsError],
    code: str | None,
) -> None:
    mock.get(ITEM).respond(status, json=body, headers={"X-Request-Id": "header-rid"})
    sj.retry = NO_RETRY
    with pytest.raises(cls) as caught:
        sj.show(JOB)
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.error_code == (code or body["error_code"])
    assert error.error_msg == body["error_msg"]
    assert error.request_id == "header-rid"  # the header wins over the body
    assert str(error.status) in str(error) and "header-rid" in str(error)


def test_request_id_falls_back_to_the_body(sj: Surface, mock: respx.MockRouter) -> None:
    mock.post(COLLECTION).respond(401, json=error_body("APIGW.0301", "bad", "body-rid"))
    with pytest.raises(AuthError) as caught:
        sj.create()
    assert caught.value.request_id == "body-rid"


def test_throttled_error_carries_retry_after(sj: Surface, mock: respx.MockRouter) -> None:
    mock.post(COLLECTION).respond(
        429, json=error_body("APIGW.0308", "throttled"), headers={"Retry-After": "7"}
    )
    sj.retry = NO_RETRY
    with pytest.raises(ThrottledError) as caught:
        sj.create()
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "content", "cls"),
    [
        (502, b"<html>Bad Gateway</html>", ServerError),
        (503, b"", ServerError),
        (599, b"odd", ServerError),  # not even an http.HTTPStatus member
        (418, b"I'm a teapot", ShortJobsError),
        (409, b'{"error_code": "X.1", "error_msg": "conflict"}', ShortJobsError),
        (400, b"not json", InvalidRequestError),  # declared status, unparsable body
        (401, b"<html>denied</html>", AuthError),
        (200, b"not json", ShortJobsError),
        (200, b'{"job_id": "j", "state": 7}', ShortJobsError),  # a state that is no string
        (201, b'{"job_id": "j", "state": "SUCCEED"}', ShortJobsError),
    ],
)
def test_undeclared_or_unreadable_answers_still_raise(
    sj: Surface, mock: respx.MockRouter, status: int, content: bytes, cls: type[ShortJobsError]
) -> None:
    mock.get(ITEM).respond(status, content=content, headers={"X-Request-Id": "rid"})
    sj.retry = NO_RETRY
    with pytest.raises(cls) as caught:
        sj.show(JOB)
    assert type(caught.value) is cls
    assert caught.value.status == status
    assert caught.value.request_id == "rid"
    assert caught.value.error_msg  # says what came back


def test_error_from_response_reads_a_json_body_itself() -> None:
    error = error_from_response(
        409, {"x-request-id": "rid"}, b'{"error_code": "X.1", "error_msg": "conflict"}'
    )
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (
        409,
        "X.1",
        "conflict",
        "rid",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-2", 0.0),
        ("Wed, 01 Jan 2025 00:00:10 GMT", 10.0),
        ("soon", None),
        (None, None),
        ("", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


def test_connection_errors_become_network_errors(sj: Surface, mock: respx.MockRouter) -> None:
    mock.get(ITEM).mock(side_effect=httpx.ConnectError("Connection refused"))
    with pytest.raises(NetworkError) as caught:
        sj.show(JOB)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert "Connection refused" in str(caught.value)
