"""End-to-end tests of the facade against the real mock server, over real HTTP.

Every facade method runs sync and async; every error class is raised from a real server answer
with its fields filled in; and a 200 MiB upload proves the client streams (tracemalloc bounds
its Python allocations to a few MiB). The mock runs in-process on a free loopback port.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import free_port

from mock_server.faces.inprocess import RunningMock
from mock_server.pytest_plugin import MockHandle
from mock_server.samples import speech_like_wav
from short_jobs import (
    AsyncShortJobs,
    AuthError,
    InvalidRequestError,
    JobFailedError,
    NetworkError,
    NotFoundError,
    ShortJobs,
    UploadError,
    WaitTimeoutError,
)
from short_jobs_client.api.short_jobs import show_short_job
from short_jobs_client.models import (
    CreateShortJobResponse,
    JobState,
    ShowShortJobResponse,
)

MIB = 1024 * 1024
BIG_UPLOAD = 200 * MIB
UPLOAD_MEMORY_BOUND = 8 * MIB
METRICS = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")


@pytest.fixture
def sj(mock: RunningMock) -> Iterator[ShortJobs]:
    with ShortJobs(mock.url, project_id=mock.project_id, ak=mock.ak, sk=mock.sk) as client:
        yield client


def assert_assessed(detail: ShowShortJobResponse, job_id: str | None = None) -> None:
    assert isinstance(detail, ShowShortJobResponse)
    assert detail.state is JobState.SUCCEED
    if job_id is not None:
        assert detail.job_id == job_id
    result = detail.to_dict()["assess_result"]
    for metric in METRICS:
        assert {"expected", "actual", "status"} <= result[metric].keys()


# --- every method, sync ----------------------------------------------------------------------


def test_each_step_sync(sj: ShortJobs, recordings: Path) -> None:
    job = sj.create(language="EN")
    assert isinstance(job, CreateShortJobResponse)
    assert sj.show(job.job_id).state is JobState.CREATING
    progress: list[tuple[int, int]] = []
    sj.upload(job, recordings, progress=lambda *a: progress.append(a))
    size = recordings.stat().st_size
    assert progress[-1] == (size, size)
    sj.commit(job.job_id)
    polled: list[JobState] = []
    detail = sj.wait(job.job_id, timeout=60, on_poll=lambda d: polled.append(d.state))
    assert_assessed(detail, job.job_id)
    assert polled[-1] is JobState.SUCCEED
    assert_assessed(sj.show(job.job_id), job.job_id)


def test_assess_a_directory_with_token_auth_and_app_user_id(
    mock: RunningMock, tmp_path: Path
) -> None:
    speech_like_wav(tmp_path / "a.wav", seconds=2.5)  # 2.5 s: one DNSMOS window, 2 s two
    (tmp_path / "more").mkdir()
    speech_like_wav(tmp_path / "more" / "b.wav", seconds=2.5, seed=1)
    with ShortJobs(
        mock.url, project_id=mock.project_id, token=mock.token, app_user_id="user-001"
    ) as sj:
        assert_assessed(sj.assess(tmp_path, language="CN", timeout=60))
        wavs = [tmp_path / "a.wav", tmp_path / "more" / "b.wav"]
        assert_assessed(sj.assess(wavs, timeout=60))


def test_upload_url_as_a_string(sj: ShortJobs, recordings: Path) -> None:
    job = sj.create()
    sj.upload(job.data_uploading_url, recordings)
    sj.commit(job.job_id)
    assert_assessed(sj.wait(job.job_id, timeout=60))


def test_the_generated_client_is_authenticated(sj: ShortJobs) -> None:
    job = sj.create()
    detail = show_short_job.sync(sj.project_id, job.job_id, client=sj.client)
    assert isinstance(detail, ShowShortJobResponse)
    assert detail.state is JobState.CREATING


# --- every method, async ---------------------------------------------------------------------


async def test_each_step_async(mock: RunningMock, recordings: Path) -> None:
    async with AsyncShortJobs(
        mock.url, project_id=mock.project_id, ak=mock.ak, sk=mock.sk, app_user_id="u-2"
    ) as sj:
        job = await sj.create()
        assert (await sj.show(job.job_id)).state is JobState.CREATING
        await sj.upload(job, recordings)
        await sj.commit(job.job_id)
        assert_assessed(await sj.wait(job.job_id, timeout=60), job.job_id)
        assert_assessed(await sj.show(job.job_id), job.job_id)


async def test_assess_async_with_token(mock: RunningMock, recordings: Path) -> None:
    async with AsyncShortJobs(mock.url, project_id=mock.project_id, token=mock.token) as sj:
        seen: list[str] = []
        detail = await sj.assess(
            recordings, timeout=60, on_created=lambda job: seen.append(job.job_id)
        )
    assert_assessed(detail, seen[0])


async def test_async_errors(mock: RunningMock, broken_zip: Path) -> None:
    async with AsyncShortJobs(mock.url, project_id=mock.project_id, ak=mock.ak, sk="wrong") as bad:
        with pytest.raises(AuthError) as auth:
            await bad.create()
    assert auth.value.error_code == "APIGW.0301" and auth.value.request_id
    async with AsyncShortJobs(mock.url, project_id=mock.project_id, token=mock.token) as sj:
        with pytest.raises(NotFoundError):
            await sj.show("no-such-job")
        with pytest.raises(JobFailedError) as failed:
            await sj.assess(broken_zip, timeout=60)
    assert failed.value.job_failed_code


# --- every error class from real answers -----------------------------------------------------


def test_wrong_sk_is_an_auth_error_with_request_id(mock: RunningMock) -> None:
    with (
        ShortJobs(mock.url, project_id=mock.project_id, ak=mock.ak, sk="wrong-sk") as sj,
        pytest.raises(AuthError) as caught,
    ):
        sj.create()
    error = caught.value
    assert error.status == 401
    assert error.error_code == "APIGW.0301"
    assert error.error_msg and "signature" in error.error_msg.lower()
    assert error.request_id and len(error.request_id) >= 16


def test_wrong_token_is_an_auth_error(mock: RunningMock) -> None:
    with (
        ShortJobs(mock.url, project_id=mock.project_id, token="not-the-token") as sj,
        pytest.raises(AuthError) as caught,
    ):
        sj.show("any")
    assert (caught.value.status, caught.value.error_code) == (401, "APIGW.0301")


def test_unknown_job_is_not_found(sj: ShortJobs) -> None:
    with pytest.raises(NotFoundError) as caught:
        sj.show("0123456789abcdef0123456789abcdef")
    error = caught.value
    assert isinstance(error, InvalidRequestError)
    assert (error.status, error.error_code) == (400, "MSS.00000003")
    assert error.error_msg and "does not exist" in error.error_msg
    assert error.request_id


def test_commit_before_upload_is_an_invalid_request(sj: ShortJobs) -> None:
    job = sj.create()
    with pytest.raises(InvalidRequestError) as caught:
        sj.commit(job.job_id)
    error = caught.value
    assert not isinstance(error, NotFoundError)
    assert (error.status, error.error_code) == (400, "MSS.00000003")
    assert error.request_id


def test_second_commit_is_an_invalid_request(sj: ShortJobs, recordings: Path) -> None:
    job = sj.create()
    sj.upload(job, recordings)
    sj.commit(job.job_id)
    with pytest.raises(InvalidRequestError) as caught:
        sj.commit(job.job_id)
    assert not isinstance(caught.value, NotFoundError)


def test_tampered_upload_url_is_an_upload_error(sj: ShortJobs, recordings: Path) -> None:
    job = sj.create()
    tampered = job.data_uploading_url.replace("Expires=", "Expires=1")
    with pytest.raises(UploadError) as caught:
        sj.upload(tampered, recordings)
    error = caught.value
    assert (error.status, error.error_code) == (403, "SignatureDoesNotMatch")
    assert error.error_msg and error.request_id


def test_upload_after_commit_is_refused(sj: ShortJobs, recordings: Path) -> None:
    job = sj.create()
    sj.upload(job, recordings)
    sj.commit(job.job_id)
    with pytest.raises(UploadError) as caught:
        sj.upload(job, recordings)
    assert (caught.value.status, caught.value.error_code) == (403, "AccessDenied")


def test_broken_wav_fails_the_job(sj: ShortJobs, broken_zip: Path) -> None:
    with pytest.raises(JobFailedError) as caught:
        sj.assess(broken_zip, timeout=60)
    error = caught.value
    assert error.job_failed_code and error.job_failed_code.startswith("MSS.")
    assert error.job_failed_reason and "broken.wav" in error.job_failed_reason
    assert error.job.state is JobState.FAILED
    assert error.request_id


def test_wait_times_out(short_jobs_mock: MockHandle, recordings: Path) -> None:
    short_jobs_mock.set_progress("manual")  # the job never ends by itself
    mock = short_jobs_mock.server
    with ShortJobs(mock.url, project_id=mock.project_id, token=mock.token) as sj:
        job = sj.create()
        sj.upload(job, recordings)
        sj.commit(job.job_id)
        with pytest.raises(WaitTimeoutError) as caught:
            sj.wait(job.job_id, timeout=0.5)
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.last is not None and error.last.state in (JobState.WAITING, JobState.PROCESSING)


def test_connection_refused_is_a_network_error() -> None:
    with (
        ShortJobs(
            f"http://127.0.0.1:{free_port()}", project_id="p", token="t", sleep=lambda _s: None
        ) as sj,
        pytest.raises(NetworkError) as caught,
    ):
        sj.show("job")
    assert caught.value.status is None
    assert "127.0.0.1" in str(caught.value)


# --- constant memory -------------------------------------------------------------------------


@pytest.mark.slow
def test_upload_of_200_mib_streams_in_constant_memory(sj: ShortJobs, tmp_path: Path) -> None:
    """A sparse 200 MiB file goes up while Python allocations stay within a few MiB.

    tracemalloc sees the whole process, the in-process mock included, so the bound holds the
    client's allocations and the server's together.
    """
    big = tmp_path / "big.zip"
    # A sparse 200 MiB preamble, then an empty zip's end record: a valid zip (as a
    # self-extracting archive is), so the client's "is it a zip?" check lets it go.
    end_record = b"PK\x05\x06" + bytes(18)
    with big.open("wb") as file:
        file.truncate(BIG_UPLOAD - len(end_record))
        file.seek(0, 2)
        file.write(end_record)
    job = sj.create()
    seen: list[int] = []
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        sj.upload(job, big, progress=lambda sent, _total: seen.append(sent))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen[-1] == BIG_UPLOAD
    assert peak < UPLOAD_MEMORY_BOUND, f"peak {peak / MIB:.1f} MiB"
    stored = sj.show(job.job_id)
    assert stored.state is JobState.CREATING  # uploaded, awaiting commit
