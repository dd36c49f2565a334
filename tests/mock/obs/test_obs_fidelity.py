"""The upload URL as OBS: sub-resources signed (against esdk-obs-python's own signer), the ETag
and headers of a success, and OBS XML for the mock's own failures wherever they happen (a full
disk, a locked database at the front door's fault check, a bug): issue 19, item 2."""

from __future__ import annotations

import errno
import hashlib
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import plain_http
import pytest
from helpers import create, token_client, upload
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from obs import ObsClient  # type: ignore[import-untyped]

from mock_server.control.store import ControlStore
from mock_server.core.config import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK
from mock_server.core.errors import ApiError, Codes
from mock_server.faces.inprocess import RunningMock
from mock_server.obs import presign
from mock_server.obs.area import UploadArea
from mock_server.service.handlers import Service
from short_jobs import ShortJobs, UploadError
from short_jobs.retry import RetryPolicy


def _obs_code(response: httpx.Response) -> str | None:
    assert response.headers["content-type"].startswith("application/xml"), response.text
    root = ET.fromstring(response.text)
    assert root.findtext("RequestId") and root.findtext("HostId")
    return root.findtext("Code")


def test_a_success_answers_the_md5_etag_and_obs_headers(
    mock: RunningMock, recordings: Path
) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
    response = upload(job["data_uploading_url"], recordings)
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{hashlib.md5(recordings.read_bytes()).hexdigest()}"'
    assert response.headers["x-obs-request-id"] and response.headers["x-obs-id-2"]


def test_sub_resources_appended_to_the_url_do_not_match(
    mock: RunningMock, recordings: Path
) -> None:
    with token_client(mock) as client:
        job = create(client, mock)
    response = plain_http.put(
        job["data_uploading_url"] + "&partNumber=1&uploadId=abc",
        content=recordings.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert response.status_code == 403
    assert _obs_code(response) == "SignatureDoesNotMatch"
    assert not (mock.data_dir / "uploads" / f"{job['job_id']}.zip").exists()


@pytest.mark.parametrize("value", [None, "", "1"])
def test_every_sub_resource_appended_to_the_url_does_not_match(
    mock: RunningMock, recordings: Path, value: str | None
) -> None:
    """The whole list (and an `x-obs-*` parameter, and OBS' own spellings), `?name`, `?name=`
    and `?name=1` alike: 403 SignatureDoesNotMatch in OBS XML, nothing stored."""
    with token_client(mock) as client:
        job = create(client, mock)
    url, body = job["data_uploading_url"], b"PK\x05\x06" + bytes(18)  # refused before it is read
    names = [*sorted(presign.SUB_RESOURCES), "x-obs-meta-take", "partNumber", "uploadId", "ACL"]
    with plain_http.client(headers={"Content-Type": "application/zip"}, timeout=30) as http:
        for name in [*names, "acl&acl"]:  # a repeated one too
            appended = name if value is None else f"{name}={value}"
            response = http.put(f"{url}&{appended}", content=body)
            assert response.status_code == 403, (name, response.text)
            assert _obs_code(response) == "SignatureDoesNotMatch", name
            assert not (mock.data_dir / "uploads" / f"{job['job_id']}.zip").exists(), name
    assert upload(url, recordings).status_code == 200  # the URL as issued still works


def _sdk_signed(mock: RunningMock, url: str, query: dict[str, str | None]) -> str:
    """The issued URL's object, signed by esdk-obs-python with the mock's AK/SK and `query`:
    OBS' own signature (`AccessKeyId`; a host name, so the SDK does not fall back to V2),
    sent path-style to the mock (the string to sign is the same: `/bucket/key`)."""
    parts = urlsplit(url)
    bucket, _, key = parts.path.lstrip("/").partition("/")
    sdk = ObsClient(
        access_key_id=mock.ak, secret_access_key=mock.sk, server="http://localhost:9",
        signature="obs",
    )  # fmt: skip
    signed = sdk.createSignedUrl(
        "PUT", bucket, key, expires=300, headers={"Content-Type": "application/zip"},
        queryParams=dict(query),
    )  # fmt: skip
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlsplit(signed['signedUrl']).query}"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({}, 200, None),
        ({"x-obs-meta-take": "1"}, 200, None),  # signed, but no operation of its own
        ({"partNumber": "1", "uploadId": "abc"}, 404, "NoSuchUpload"),
        ({"uploadId": "abc"}, 404, "NoSuchUpload"),
        ({"acl": None}, 501, "NotImplemented"),
        ({"tagging": None, "versionId": "v1"}, 501, "NotImplemented"),
    ],
)
def test_a_url_the_sdk_signs_with_sub_resources_is_answered_as_obs_would(
    mock: RunningMock, recordings: Path, query: dict[str, str | None], status: int, code: str | None
) -> None:
    """The signature matches; a sub-resource names an operation the mock does not emulate
    (an upload id it never issued: no multipart uploads), so nothing is stored as the object."""
    with token_client(mock) as client:
        job = create(client, mock)
    response = upload(_sdk_signed(mock, job["data_uploading_url"], query), recordings)
    assert response.status_code == status, response.text
    stored = mock.data_dir / "uploads" / f"{job['job_id']}.zip"
    if code is None:
        assert response.headers["ETag"] == f'"{hashlib.md5(recordings.read_bytes()).hexdigest()}"'
        assert stored.read_bytes() == recordings.read_bytes()
    else:
        assert _obs_code(response) == code
        assert not stored.exists()


# The SDK signs in OBS' own mode here (a host name as its server: with an IP address it falls
# back to V2, `AWSAccessKeyId` and `x-amz-*`), so `x-obs-*` parameters are in the family too.
_NAMES = st.sampled_from([*sorted(presign.SUB_RESOURCES), "x-obs-meta-a", "unknown", "Foo"])


@settings(max_examples=60, deadline=None)
@given(
    params=st.dictionaries(
        _NAMES, st.one_of(st.none(), st.text("abc123-_.", min_size=1, max_size=6)), max_size=4
    )
)
def test_the_string_to_sign_is_esdk_obs_pythons(params: dict[str, str | None]) -> None:
    sdk = ObsClient(
        access_key_id="AK", secret_access_key="SK", server="http://localhost:9", signature="obs"
    )
    signed = sdk.createSignedUrl(
        "PUT",
        "bucket",
        "p/j/recordings.zip",
        expires=300,
        headers={"Content-Type": "application/zip"},
        queryParams=dict(params),
    )
    url = urlsplit(signed["signedUrl"])
    query = parse_qsl(url.query, keep_blank_values=True)
    assert "AccessKeyId" in dict(query)  # OBS' own signature, not V2's
    presign.check_presigned(  # the SDK's URL is accepted as sent
        "PUT",
        "bucket",
        "p/j/recordings.zip",
        query,
        {"Content-Type": "application/zip"},
        lambda ak: "SK" if ak == "AK" else None,
        0,
    )
    if presign.signed_parameters(params):  # and without its sub-resources, refused
        stripped = [
            (k, v) for k, v in query if (k, v or None) not in presign.signed_parameters(params)
        ]
        with pytest.raises(presign.PresignError) as refused:
            presign.check_presigned(
                "PUT", "bucket", "p/j/recordings.zip", stripped,
                {"Content-Type": "application/zip"}, lambda ak: "SK", 0,
            )  # fmt: skip
        assert refused.value.code.code == "SignatureDoesNotMatch"


class _FullDisk:
    """A file that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, path: Path, room: int) -> None:
        self.file = open(path, "wb", buffering=0)  # noqa: SIM115
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.file.close()


def test_a_full_disk_answers_obs_xml_and_leaves_nothing(
    mock: RunningMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.zip"
    big.write_bytes(b"PK" + b"\0" * (3 * 1024 * 1024))
    monkeypatch.setattr(UploadArea, "open_incoming", lambda self, path: _FullDisk(path, 1 << 20))
    with token_client(mock) as client:
        job = create(client, mock)
    response = upload(job["data_uploading_url"], big)
    assert response.status_code == 500
    assert _obs_code(response) == "InternalError"
    assert "ENOSPC" in response.text
    assert list((mock.data_dir / "uploads").iterdir()) == []
    monkeypatch.undo()  # the mock keeps serving
    assert upload(job["data_uploading_url"], big).status_code == 200


def test_an_unexpected_failure_is_obs_xml_too(
    mock: RunningMock, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: UploadArea, temporary: Path, job_id: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(UploadArea, "install", broken)
    with token_client(mock) as client:
        job = create(client, mock)
    response = upload(job["data_uploading_url"], recordings)
    assert response.status_code == 500
    assert _obs_code(response) == "InternalError"


# -- the mock's own failures, anywhere on the upload URL's way ----------------------------------

# Where a failure can happen while an upload is answered: the front door's fault check, the
# endpoint's question to the service, the file it writes, the install under the write lock.
WHERE: dict[str, tuple[type, str]] = {
    "fault check": (ControlStore, "take_fault"),
    "gate": (Service, "upload_refusal"),
    "file": (UploadArea, "open_incoming"),
    "install": (UploadArea, "install"),
}
# What can fail there, and the OBS row it is answered with.
FAILURES: dict[str, tuple[Callable[[], BaseException], int, str]] = {
    "locked": (lambda: sqlite3.OperationalError("database is locked"), 503, "ServiceUnavailable"),
    "malformed": (
        lambda: sqlite3.DatabaseError("database disk image is malformed"),
        500,
        "InternalError",
    ),
    "ENOSPC": (lambda: OSError(errno.ENOSPC, "No space left on device"), 500, "InternalError"),
    "EDQUOT": (lambda: OSError(errno.EDQUOT, "Disk quota exceeded"), 500, "InternalError"),
    "EFBIG": (lambda: OSError(errno.EFBIG, "File too large"), 500, "InternalError"),
    "EIO": (lambda: OSError(errno.EIO, "Input/output error"), 500, "InternalError"),
    "bug": (lambda: RuntimeError("a bug"), 500, "InternalError"),
    "ApiError": (lambda: ApiError(Codes.INTERNAL), 500, "InternalError"),
}


def _failing(failure: Callable[[], BaseException]) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise failure()

    return fail


def _assert_obs_failure(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert _obs_code(response) == code
    root = ET.fromstring(response.text)
    assert root.findtext("RequestId") == response.headers["x-obs-request-id"]
    assert root.findtext("RequestId") == response.headers["x-request-id"]
    assert "MSS." not in response.text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=st.sampled_from(sorted(WHERE)), failure=st.sampled_from(sorted(FAILURES)))
@example(where="fault check", failure="locked")
@example(where="file", failure="ENOSPC")
def test_a_failure_of_the_mock_on_the_upload_url_is_obs_xml_and_leaves_nothing(
    mock: RunningMock, recordings: Path, where: str, failure: str
) -> None:
    """Any failure of the mock's own, wherever it happens on an upload's way, is OBS XML with
    OBS' status (503 while the database is busy, else 500), its RequestId; no object nor
    temporary file is left, the job's stored object is untouched, and the mock keeps serving."""
    with token_client(mock) as client:
        job = create(client, mock)
    uploads = mock.data_dir / "uploads"
    assert upload(job["data_uploading_url"], recordings).status_code == 200
    before = {path.name: path.read_bytes() for path in uploads.iterdir()}
    owner, name = WHERE[where]
    make, status, code = FAILURES[failure]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(owner, name, _failing(make))
        response = plain_http.put(
            job["data_uploading_url"],
            content=b"PK" + b"\0" * 4096,
            headers={"Content-Type": "application/zip"},
        )
    _assert_obs_failure(response, status, code)
    assert {path.name: path.read_bytes() for path in uploads.iterdir()} == before
    assert upload(job["data_uploading_url"], recordings).status_code == 200


def test_the_database_locked_at_the_fault_check_is_obs_503_and_the_client_says_so(
    mock: RunningMock, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The front door asks the control plane for an armed fault before the endpoint runs; a
    database locked then was the service's JSON 500 on the upload URL. It is OBS' 503
    ServiceUnavailable, and the client's UploadError carries the code."""
    with token_client(mock) as client:
        job = create(client, mock)
    monkeypatch.setattr(ControlStore, "take_fault", _failing(FAILURES["locked"][0]))
    _assert_obs_failure(upload(job["data_uploading_url"], recordings), 503, "ServiceUnavailable")
    with (
        ShortJobs(
            mock.url,
            project_id=DEFAULT_PROJECT_ID,
            ak=DEFAULT_AK,
            sk=DEFAULT_SK,
            retry=RetryPolicy(attempts=1),
        ) as sj,
        pytest.raises(UploadError) as refused,
    ):
        sj.upload(job["data_uploading_url"], recordings)
    assert (refused.value.status, refused.value.error_code) == (503, "ServiceUnavailable")
    assert not (mock.data_dir / "uploads" / f"{job['job_id']}.zip").exists()


@given(
    params=st.lists(
        st.tuples(_NAMES, st.one_of(st.none(), st.text("abc123", min_size=1, max_size=4))),
        max_size=4,
    )
)
def test_a_matched_sub_resource_is_never_stored_as_the_object(
    params: list[tuple[str, str | None]],
) -> None:
    """Any signed query: stored (None) iff no sub-resource but `x-obs-*`; an `uploadId` is
    404 NoSuchUpload, any other sub-resource 501 NotImplemented."""
    query = [(name, value or "") for name, value in params]
    refusal = presign.sub_resource_refusal(query, "/b/k")
    names = {n.lower() for n, _ in presign.signed_parameters(query) if not n.startswith("x-obs-")}
    if not names:
        assert refusal is None
    elif "uploadid" in names:
        assert refusal is not None and refusal.code.code == "NoSuchUpload"
    else:
        assert refusal is not None and refusal.code.code == "NotImplemented"
