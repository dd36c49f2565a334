"""The mock's one clock (`POST /_mock/clock`, `short_jobs_mock.advance_clock`): every rule that
reads time moves with it, in- and out-of-process, across workers; reset puts it back."""

from __future__ import annotations

from pathlib import Path

import httpx
import plain_http
import pytest
from helpers import free_port, mock_process, upload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.core.config import DEFAULT_PROJECT_ID, DEFAULT_TOKEN
from mock_server.faces.fixture import ControlPlaneError, MockHandle
from short_jobs import AuthError, ShortJobs

JSON = {"Content-Type": "application/json"}


def test_an_upload_url_expires_when_the_clock_passes_its_expires(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    job = short_jobs_mock.client.create()
    short_jobs_mock.advance_clock(short_jobs_mock.settings.upload_url_ttl + 1)
    expired = upload(job.data_uploading_url, recordings)
    assert expired.status_code == 403 and b"<Code>AccessDenied</Code>" in expired.content
    fresh = short_jobs_mock.client.create()  # issued by the moved clock: valid again
    assert upload(fresh.data_uploading_url, recordings).status_code == 200


def test_a_request_signed_by_the_wall_clock_falls_outside_the_gateways_window(
    short_jobs_mock: MockHandle,
) -> None:
    m = short_jobs_mock
    job = m.client.create()
    m.advance_clock(16 * 60)
    wall_clock = ShortJobs(m.url, project_id=m.project_id, ak=m.ak, sk=m.sk)
    with wall_clock, pytest.raises(AuthError) as refused:
        wall_clock.show(job.job_id)  # signed 16 minutes behind the mock
    assert refused.value.error_code == "APIGW.0301"
    assert "15 minutes" in str(refused.value.error_msg)
    assert m.client.show(job.job_id).job_id == job.job_id  # the fixture's client: the mock's time


# IAM's tokens and temporary credentials expiring with the clock: tests/mock/iam/test_mock_iam.py
# (`advance_iam_clock` is `advance_clock`).


def test_reset_puts_the_clock_back(short_jobs_mock: MockHandle) -> None:
    assert short_jobs_mock.advance_clock(3600) == pytest.approx(3600)
    short_jobs_mock.reset()
    assert short_jobs_mock.advance_clock(0) == 0


@pytest.mark.parametrize("seconds", [-1, "soon", None, 1e12])
def test_a_move_backwards_or_not_a_number_is_refused_in_the_services_shape(
    short_jobs_mock: MockHandle, seconds: object
) -> None:
    with pytest.raises(ControlPlaneError, match=r"400 .*MSS"):
        short_jobs_mock._call("POST", "/clock", json={"seconds": seconds})
    assert short_jobs_mock.advance_clock(0) == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.floats(min_value=0, max_value=1e6), max_size=6))
def test_moves_add_up_and_time_never_runs_back(
    short_jobs_mock: MockHandle, moves: list[float]
) -> None:
    short_jobs_mock.reset()
    control = plain_http.client(base_url=f"{short_jobs_mock.url}/_mock")
    with control:
        before = control.get("/clock").json()["now"]
        for move in moves:
            short_jobs_mock.advance_clock(move)
            now = control.get("/clock").json()
            assert now["now"] >= before
            before = now["now"]
        assert now_offset(control) == pytest.approx(sum(moves), rel=1e-9, abs=1e-6)


def now_offset(control: httpx.Client) -> float:
    offset: float = control.get("/clock").json()["offset_seconds"]
    return offset


@pytest.mark.slow
def test_out_of_process_every_worker_reads_the_moved_clock(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    options = ("--workers", "2", "--control", "--iam-port", "0", "--data-dir", str(tmp_path))
    with mock_process(port, *options), plain_http.client(base_url=base) as client:
        moved = client.post("/_mock/clock", json={"seconds": 900}, headers=JSON)
        assert moved.status_code == 200, moved.text
        # fresh connections land on either worker: each reads the one offset in SQLite
        for _ in range(8):
            with plain_http.client(base_url=base) as fresh:
                assert fresh.get("/_mock/clock").json()["offset_seconds"] == 900
        collection = f"/v1/{DEFAULT_PROJECT_ID}/voice-training-manage/user/short-jobs"
        created = client.post(
            collection, json={"job_type": "VOICE_ASSESS"},
            headers={**JSON, "X-Auth-Token": DEFAULT_TOKEN},
        )  # fmt: skip
        assert created.status_code == 200, created.text
        client.post("/_mock/reset", headers=JSON)
        assert client.get("/_mock/clock").json()["offset_seconds"] == 0
