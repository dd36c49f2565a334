"""The upload URL as OBS: sub-resources signed (against esdk-obs-python's own signer), the ETag
and headers of a success, and OBS XML for the mock's own failures (a full disk)."""

from __future__ import annotations

import errno
import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from helpers import create, token_client, upload
from hypothesis import given, settings
from hypothesis import strategies as st
from obs import ObsClient  # type: ignore[import-untyped]

from mock_server.faces.inprocess import RunningMock
from mock_server.obs import presign
from mock_server.obs.area import UploadArea


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
    response = httpx.put(
        job["data_uploading_url"] + "&partNumber=1&uploadId=abc",
        content=recordings.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert response.status_code == 403
    assert _obs_code(response) == "SignatureDoesNotMatch"
    assert not (mock.data_dir / "uploads" / f"{job['job_id']}.zip").exists()


# The SDK signs this URL in its V2 mode (`AWSAccessKeyId`, `x-amz-` prefix): the same string
# to sign as OBS' but for the prefix, so `x-obs-*` parameters are left out of the family here.
_NAMES = st.sampled_from([*sorted(presign.SUB_RESOURCES - {"x-obs-accesslabel"}), "unknown", "Foo"])


@settings(max_examples=60, deadline=None)
@given(
    params=st.dictionaries(
        _NAMES, st.one_of(st.none(), st.text("abc123-_.", min_size=1, max_size=6)), max_size=4
    )
)
def test_the_string_to_sign_is_esdk_obs_pythons(params: dict[str, str | None]) -> None:
    sdk = ObsClient(
        access_key_id="AK", secret_access_key="SK", server="http://127.0.0.1:9", signature="obs"
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
    query = [
        ("AccessKeyId" if k == "AWSAccessKeyId" else k, v)
        for k, v in parse_qsl(url.query, keep_blank_values=True)
    ]
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
