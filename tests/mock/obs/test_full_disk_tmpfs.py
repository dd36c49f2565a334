"""A data directory that really fills up (issue 19, item 2), out of process: `python -m
mock_server` on a 2 MiB tmpfs, a 3 MiB PUT.

The upload URL is OBS: the answer is OBS XML 500 InternalError with a RequestId (never the
service's JSON), the partial object is removed, what was stored before is untouched, the mock
keeps serving (a small upload afterwards is stored), and the client's `UploadError` carries the
code. Mounting needs root (CAP_SYS_ADMIN); where `mount` is refused (CI containers, a user's
machine), the test is skipped with the reason.
"""

from __future__ import annotations

import io
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import plain_http
import pytest
from helpers import COLLECTION, free_port, mock_process

from mock_server.core.config import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK, DEFAULT_TOKEN
from short_jobs import ShortJobs, UploadError
from short_jobs.retry import RetryPolicy

pytestmark = pytest.mark.slow  # a mock process

MIB = 1024 * 1024
API = {"X-Auth-Token": DEFAULT_TOKEN}
ZIP = {"Content-Type": "application/zip"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted afterwards; skipped where mounting is not allowed."""
    where = tmp_path / "disk"
    where.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (FileNotFoundError, PermissionError) as error:
        pytest.skip(f"cannot mount a tmpfs here: {error}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)


def _zip(payload: bytes) -> bytes:
    """A zip holding `payload` stored (not compressed), so its size is the payload's."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("take.wav", payload)
    return out.getvalue()


def _create(base: str) -> dict[str, str]:
    answer = plain_http.post(
        base + COLLECTION.format(project=DEFAULT_PROJECT_ID),
        json={"job_type": "VOICE_ASSESS"},
        headers=API,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def _files(uploads: Path) -> dict[str, bytes]:
    return {entry.name: entry.read_bytes() for entry in uploads.iterdir()}


def test_a_put_that_fills_the_data_dir_answers_obs_xml_and_loses_nothing(
    small_disk: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uploads = small_disk / "uploads"
    with mock_process(port, "--data-dir", str(small_disk), "--processing-seconds", "3600"):
        kept = _create(base)
        first = _zip(b"kept " * 1000)
        assert (
            plain_http.put(kept["data_uploading_url"], content=first, headers=ZIP).status_code
            == 200
        )
        before = _files(uploads)

        job = _create(base)
        big = _zip(b"\0" * 3 * MIB)
        answer = plain_http.put(job["data_uploading_url"], content=big, headers=ZIP, timeout=60)
        assert answer.status_code == 500, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        error = ET.fromstring(answer.text)
        assert error.findtext("Code") == "InternalError"
        assert error.findtext("RequestId") == answer.headers["x-request-id"]
        assert "full" in (error.findtext("Message") or "")
        assert _files(uploads) == before  # the partial object is gone, the stored one intact

        # the client says which OBS code it got
        big_file = small_disk.parent / "big.zip"
        big_file.write_bytes(big)
        client = ShortJobs(
            base,
            project_id=DEFAULT_PROJECT_ID,
            ak=DEFAULT_AK,
            sk=DEFAULT_SK,
            retry=RetryPolicy(attempts=1),
        )
        with client, pytest.raises(UploadError) as refused:
            client.upload(job["data_uploading_url"], big_file)
        assert (refused.value.status, refused.value.error_code) == (500, "InternalError")
        assert _files(uploads) == before

        # and it keeps serving: a small upload is stored, the job commits, nothing else moved
        small = _zip(b"small " * 100)
        assert (
            plain_http.put(job["data_uploading_url"], content=small, headers=ZIP).status_code == 200
        )
        item = base + COLLECTION.format(project=DEFAULT_PROJECT_ID) + "/" + job["job_id"]
        assert plain_http.post(item, headers=API).status_code == 200
        assert _files(uploads) == {**before, f"{job['job_id']}.zip": small}
        assert (uploads / f"{kept['job_id']}.zip").read_bytes() == first
