"""Client unit tests (respx, no server, fake time): upload."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
import respx

from short_jobs import (
    NO_RETRY,
    UploadError,
)
from short_jobs.errors import (
    UsageError,
)
from short_jobs.zipping import file_chunks
from short_jobs_client.models import CreateShortJobResponse

from .client_fakes import (
    AK,
    AUTH_HEADERS,
    BASE,
    JOB,
    PROJECT,
    SK,
    UPLOAD_URL,
    Make,
    Surface,
    stored_zip,
)

pytestmark = pytest.mark.usefixtures("clean_client_env")


def test_upload_streams_the_file_without_credentials(
    mock: respx.MockRouter, tmp_path: Path, make: Make
) -> None:
    path = stored_zip(tmp_path / "r.zip", bytes(range(256)) * 4096)  # just over 1 MiB
    data = path.read_bytes()
    route = mock.put(UPLOAD_URL).respond(200)
    seen: list[tuple[int, int]] = []
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK, app_user_id="u1") as sj:
        sj.upload(CreateShortJobResponse(JOB, UPLOAD_URL), path, progress=lambda *a: seen.append(a))
    request = route.calls.last.request
    assert request.url == UPLOAD_URL
    assert request.content == data
    assert request.headers["Content-Type"] == "application/zip"
    assert request.headers["Content-Length"] == str(len(data))
    assert "Transfer-Encoding" not in request.headers
    for name in AUTH_HEADERS:
        assert name not in request.headers
    step = 256 * 1024
    assert seen == [(min(n, len(data)), len(data)) for n in range(step, len(data) + step, step)]


def test_file_chunks_reads_lazily(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abcdefg")
    chunks = file_chunks(path, chunk_size=3)
    path.write_bytes(b"ABCDEFG")  # not opened yet: a retry re-reads the file from the start
    assert list(chunks) == [b"ABC", b"DEF", b"G"]


def test_upload_retries_5xx_and_resends_the_whole_file(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"zipdata" * 1000)
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(503 if len(bodies) == 1 else 200)

    mock.put(UPLOAD_URL).mock(side_effect=answer)
    sj.upload(UPLOAD_URL, path)
    assert bodies == [path.read_bytes()] * 2


def test_upload_error_parses_the_obs_xml(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"z")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code>'
        "<Message>The request signature does not match.</Message>"
        "<RequestId>xml-rid</RequestId><HostId>h</HostId></Error>"
    )
    mock.put(UPLOAD_URL).respond(403, text=xml, headers={"Content-Type": "application/xml"})
    with pytest.raises(UploadError) as caught:
        sj.upload(UPLOAD_URL, path)
    error = caught.value
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (
        403,
        "SignatureDoesNotMatch",
        "The request signature does not match.",
        "xml-rid",
    )


def test_upload_error_without_xml_keeps_a_snippet(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"z")
    mock.put(UPLOAD_URL).respond(404, text="no such bucket", headers={"x-obs-request-id": "o"})
    with pytest.raises(UploadError) as caught:
        sj.upload(UPLOAD_URL, path)
    assert (caught.value.error_code, caught.value.error_msg) == (None, "no such bucket")
    assert caught.value.request_id == "o"


def test_upload_of_a_missing_file_raises_before_sending(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = mock.put(UPLOAD_URL).respond(200)
    with pytest.raises(UsageError, match="no such file"):
        sj.upload(UPLOAD_URL, tmp_path / "missing.zip")
    assert not route.called


def _etag_variants(md5: str) -> list[str]:
    """How a service may write the same MD5 as an ETag: quoted or not, weak, either case."""
    return [f'"{md5}"', md5, f'W/"{md5}"', f'"{md5.upper()}"']


def test_an_etag_that_is_the_md5_of_what_was_sent_passes_in_every_spelling(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"recording")
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    for etag in [*_etag_variants(md5), None]:
        headers = {} if etag is None else {"ETag": etag}
        mock.put(UPLOAD_URL).respond(200, headers=headers)
        sj.upload(UPLOAD_URL, path)  # no error: stored what was sent (or not said)


def test_an_etag_that_is_not_the_md5_of_what_was_sent_is_an_upload_error(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"recording")
    other = hashlib.md5(b"something else").hexdigest()
    mock.put(UPLOAD_URL).respond(200, headers={"ETag": f'"{other}"'})
    with pytest.raises(UploadError) as caught:
        sj.upload(UPLOAD_URL, path)
    assert caught.value.error_code == "ETagMismatch"
    assert other in str(caught.value)


def test_the_mocks_own_failure_reaches_the_caller_as_its_obs_code(
    make: Make, mock: respx.MockRouter, tmp_path: Path
) -> None:
    """A 500 InternalError in OBS XML (a full disk at the mock) is raised with its code."""
    sj = make(BASE, project_id=PROJECT, ak=AK, sk=SK, rand=lambda: 0.5, retry=NO_RETRY)
    path = stored_zip(tmp_path / "r.zip", b"recording")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
        "<Message>We encountered an internal error.</Message>"
        "<RequestId>rid-500</RequestId><HostId>h</HostId></Error>"
    )
    mock.put(UPLOAD_URL).respond(500, text=xml, headers={"Content-Type": "application/xml"})
    with pytest.raises(UploadError) as caught:
        sj.upload(UPLOAD_URL, path)
    assert (caught.value.status, caught.value.error_code) == (500, "InternalError")
