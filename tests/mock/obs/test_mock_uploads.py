"""The pre-signed upload endpoint, OBS style: real PUTs of real zips to the live mock."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import plain_http
import pytest
from helpers import create, item, token_client, upload, wait_final

from mock_server.faces.inprocess import RunningMock
from mock_server.obs.area import BUCKET
from mock_server.obs.presign import presign_put
from mock_server.samples import sample_zip


def assert_obs_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Error"
    assert root.findtext("Code") == code
    assert root.findtext("Message")
    assert root.findtext("RequestId") == response.headers["X-Request-Id"]


def test_the_url_is_an_obs_v2_presigned_put_for_the_job(mock: RunningMock) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
    url = urlsplit(job["data_uploading_url"])
    assert f"{url.scheme}://{url.netloc}" == mock.url
    assert url.path.startswith(f"/{BUCKET}/") and job["job_id"] in url.path
    query = parse_qs(url.query)
    assert set(query) == {"AccessKeyId", "Expires", "Signature"}
    expires = int(query["Expires"][0])
    assert abs(expires - (time.time() + mock.settings.upload_url_ttl)) < 5


def test_a_reupload_before_commit_replaces_the_object(mock: RunningMock, tmp_path: Path) -> None:
    first = sample_zip(tmp_path / "a.zip", count=1)
    second = sample_zip(tmp_path / "b.zip", count=2)
    with token_client(mock) as client:
        job = create(client, mock)
    assert upload(job["data_uploading_url"], first).status_code == 200
    assert upload(job["data_uploading_url"], second).status_code == 200
    stored = mock.data_dir / "uploads" / f"{job['job_id']}.zip"
    assert stored.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain", None])
def test_a_wrong_or_missing_content_type_does_not_match(
    mock: RunningMock, recordings: Path, content_type: str | None
) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = plain_http.put(
        job["data_uploading_url"], content=recordings.read_bytes(), headers=headers
    )
    assert_obs_error(response, 403, "SignatureDoesNotMatch")


def _tampered(url: str, old: str, new: str) -> str:
    assert old in url
    return url.replace(old, new, 1)


def test_a_tampered_signature_or_key_does_not_match(mock: RunningMock, recordings: Path) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
        other = create(client, mock)
    url = job["data_uploading_url"]
    signature = parse_qs(urlsplit(url).query)["Signature"][0]
    forged = "A" + signature[1:] if signature[0] != "A" else "B" + signature[1:]
    for bad in (
        _tampered(url, job["job_id"], other["job_id"]),
        url.split("Signature=")[0] + "Signature=" + forged.replace("+", "%2B").replace("/", "%2F"),
        _tampered(url, "Expires=", "Expires=1"),
        _tampered(url, "AccessKeyId=", "AccessKeyId=X"),
    ):
        assert_obs_error(upload(bad, recordings), 403, "SignatureDoesNotMatch")
    assert not (mock.data_dir / "uploads" / f"{other['job_id']}.zip").exists()


def test_an_expired_url_is_access_denied(mock: RunningMock, recordings: Path) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
    path = urlsplit(job["data_uploading_url"]).path
    key = path.removeprefix(f"/{BUCKET}/")
    expired = presign_put(mock.url, BUCKET, key, mock.ak, mock.sk, int(time.time()) - 1)
    assert_obs_error(upload(expired, recordings), 403, "AccessDenied")


@pytest.mark.parametrize(
    "method", ["GET", "HEAD", "POST", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "TRACE"]
)
def test_any_method_but_put_is_signature_does_not_match(
    mock: RunningMock, recordings: Path, method: str
) -> None:
    """OBS signs the method: a URL signed for PUT is 403 SignatureDoesNotMatch (XML) for any
    other method, with or without the signed Content-Type and a body, and stores nothing."""
    with token_client(mock) as client:
        job = create(client, mock)
        url = job["data_uploading_url"]
        for headers, body in (({}, None), ({"Content-Type": "application/zip"}, b"PK")):
            response = plain_http.request(method, url, headers=headers, content=body)
            if method == "HEAD":  # no body, by definition: the status and headers tell
                assert response.status_code == 403, response.headers
                assert response.headers["x-obs-request-id"] == response.headers["X-Request-Id"]
            else:
                assert_obs_error(response, 403, "SignatureDoesNotMatch")
                assert f"a {method} is signed differently" in response.text
        assert not (mock.data_dir / "uploads" / f"{job['job_id']}.zip").exists()
        # the URL still works for what it was signed for
        assert upload(url, recordings).status_code == 200


def test_an_upload_over_the_limit_is_entity_too_large_and_stores_nothing(
    make_mock: object, tmp_path: Path
) -> None:
    big = tmp_path / "big.zip"
    big.write_bytes(b"\0" * 5000)
    with make_mock(max_upload_bytes=4096) as server:  # type: ignore[operator]
        with token_client(server) as client:
            job = create(client, server)
        assert_obs_error(upload(job["data_uploading_url"], big), 400, "EntityTooLarge")

        def chunks() -> object:
            yield b"\0" * 3000
            yield b"\0" * 3000

        streamed = plain_http.put(
            job["data_uploading_url"],
            content=chunks(),
            headers={"Content-Type": "application/zip"},
        )
        assert_obs_error(streamed, 400, "EntityTooLarge")
        uploads = server.data_dir / "uploads"
        assert list(uploads.iterdir()) == []


def test_an_upload_after_commit_is_refused(mock: RunningMock, recordings: Path) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
        assert upload(job["data_uploading_url"], recordings).status_code == 200
        assert client.post(item(mock, job["job_id"])).status_code == 200
        assert_obs_error(upload(job["data_uploading_url"], recordings), 403, "AccessDenied")
        assert wait_final(client, mock, job["job_id"])["state"] == "SUCCEED"
