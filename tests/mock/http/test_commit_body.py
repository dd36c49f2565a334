"""A body where the contract declares none (issue 21, item 5): CommitShortJob declares no
requestBody, so a non-empty body of any content type is 400 MSS.00000002 (the service's
invalid-body code); an empty one passes whatever its media type or framing
(`validation.check_no_body`). ShowShortJob's GET keeps ignoring a body (RFC 9110, 9.3.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import plain_http
import pytest
from helpers import create, item, token_client, upload
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.faces.inprocess import RunningMock
from short_jobs.signing import sign_request

CONTENT_TYPES = [
    None,
    "application/json",
    "application/json;charset=UTF-8",
    "text/plain",
    "application/zip",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "APPLICATION/JSON ; charset=utf-8",
]  # media types; a Content-Type that is none ("", "json") is the body reader's MSS.10000002
_bodies = st.binary(min_size=1, max_size=200) | st.sampled_from(
    [b"{}", b"null", b"garbage", b" ", b"\r\n", b"0", b'{"job_type": "VOICE_ASSESS"}']
)


def _headers(content_type: str | None) -> dict[str, str]:
    return {} if content_type is None else {"Content-Type": content_type}


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "MSS.00000002"
    assert "takes no request body" in response.json()["error_msg"]


@pytest.fixture
def client(mock: RunningMock) -> Iterator[httpx.Client]:
    with token_client(mock) as made:
        yield made


def _uploaded(client: httpx.Client, mock: RunningMock, zip_path: Path) -> str:
    job = create(client, mock)
    assert upload(job["data_uploading_url"], zip_path).status_code == 200
    return job["job_id"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=_bodies, content_type=st.sampled_from(CONTENT_TYPES))
@example(body=b"garbage", content_type="text/plain")  # the input
def test_any_body_on_a_commit_is_refused(
    mock: RunningMock,
    client: httpx.Client,
    recordings: Path,
    body: bytes,
    content_type: str | None,
) -> None:
    job_id = _uploaded(client, mock, recordings)
    _refused(client.post(item(mock, job_id), content=body, headers=_headers(content_type)))
    # a GET's body means nothing (RFC 9110, 9.3.1): show ignores it, as before
    shown = client.request("GET", item(mock, job_id), content=body, headers=_headers(content_type))
    assert shown.status_code == 200, shown.text
    # nothing happened: the job is still uploaded and uncommitted, and commits without a body
    assert shown.json()["state"] == "CREATING"
    assert client.post(item(mock, job_id)).status_code == 200


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_an_empty_body_of_any_content_type_commits(
    mock: RunningMock, client: httpx.Client, recordings: Path, content_type: str | None
) -> None:
    job_id = _uploaded(client, mock, recordings)
    response = client.post(item(mock, job_id), content=b"", headers=_headers(content_type))
    assert response.status_code == 200, response.text


def test_a_chunked_empty_body_commits(
    mock: RunningMock, client: httpx.Client, recordings: Path
) -> None:
    job_id = _uploaded(client, mock, recordings)

    def nothing() -> Iterator[bytes]:
        yield from ()

    request = client.build_request(
        "POST", item(mock, job_id), content=nothing(), headers=_headers("application/json")
    )
    assert request.headers["Transfer-Encoding"] == "chunked"
    response = client.send(request)
    assert response.status_code == 200, response.text


def test_a_chunked_body_is_refused(
    mock: RunningMock, client: httpx.Client, recordings: Path
) -> None:
    job_id = _uploaded(client, mock, recordings)

    def pieces() -> Iterator[bytes]:
        yield b"gar"
        yield b"bage"

    _refused(client.post(item(mock, job_id), content=pieces(), headers=_headers("text/plain")))


def test_the_caller_is_checked_before_the_body(
    mock: RunningMock, client: httpx.Client, recordings: Path
) -> None:
    job_id = _uploaded(client, mock, recordings)
    url = mock.url + item(mock, job_id)
    unauthenticated = plain_http.post(url, content=b"garbage", timeout=30)
    assert unauthenticated.status_code == 401
    headers = {"Host": urlsplit(mock.url).netloc, "Content-Type": "text/plain"}
    headers.update(sign_request("POST", item(mock, job_id), headers, b"garbage", mock.ak, mock.sk))
    _refused(plain_http.post(url, content=b"garbage", headers=headers, timeout=30))


def test_the_sdks_commit_still_commits(
    mock: RunningMock, client: httpx.Client, recordings: Path
) -> None:
    """As the official SDK sends it: Content-Type application/json, Content-Length: 0."""
    job_id = _uploaded(client, mock, recordings)
    response = client.post(
        item(mock, job_id), headers={"Content-Type": "application/json", "Content-Length": "0"}
    )
    assert response.status_code == 200, response.text
