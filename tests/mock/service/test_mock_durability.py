"""State survives the process: kill -9 and restart on the same data dir; concurrent lifecycles."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import plain_http
import pytest
from helpers import collection, create, free_port, item, mock_process, upload, wait_final

from mock_server.core.config import Settings
from mock_server.faces.inprocess import RunningMock


def _mock(
    data_dir: Path, port: int, processing_seconds: float
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The console entry point in its own process, as a user runs it, on this data dir."""
    return mock_process(
        port,
        *("--iam-port", "0", "--data-dir", str(data_dir)),
        *("--processing-seconds", str(processing_seconds)),
    )


def _as_running(port: int, data_dir: Path) -> RunningMock:
    settings = Settings(port=port, data_dir=data_dir)
    return RunningMock(url=f"http://127.0.0.1:{port}", settings=settings, app=None)  # type: ignore[arg-type]


@pytest.mark.slow
def test_kill_9_and_restart_keeps_jobs_uploads_and_commits(
    tmp_path: Path, recordings: Path
) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    server = _as_running(port, data_dir)
    client = plain_http.client(base_url=server.url, headers={"X-Auth-Token": server.token})
    with _mock(data_dir, port, processing_seconds=1.5) as process:
        committed = create(client, server)
        uploaded = create(client, server)
        bare = create(client, server)
        assert upload(committed["data_uploading_url"], recordings).status_code == 200
        assert upload(uploaded["data_uploading_url"], recordings).status_code == 200
        assert client.post(item(server, committed["job_id"])).status_code == 200
        before = client.get(item(server, committed["job_id"])).json()
        assert before["state"] in ("WAITING", "PROCESSING")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    with _mock(data_dir, port, processing_seconds=1.5):
        # the processing job carries on to its end
        done = wait_final(client, server, committed["job_id"])
        assert done["state"] == "SUCCEED"
        assert done["create_time"] == before["create_time"]
        assert set(done["assess_result"]) >= {"speed", "sound", "snr", "reverb"}
        # the upload is still there: commit works without uploading again
        assert client.post(item(server, uploaded["job_id"])).status_code == 200
        assert wait_final(client, server, uploaded["job_id"])["state"] == "SUCCEED"
        # and the job that had nothing is still waiting for its upload
        assert client.get(item(server, bare["job_id"])).json()["state"] == "CREATING"
    client.close()


async def _lifecycle(client: httpx.AsyncClient, server: RunningMock, data: bytes) -> str:
    created = await client.post(collection(server), json={"job_type": "VOICE_ASSESS"})
    job = created.json()
    put = await client.put(
        job["data_uploading_url"], content=data, headers={"Content-Type": "application/zip"}
    )
    assert put.status_code == 200
    assert (await client.post(item(server, job["job_id"]))).status_code == 200
    for _ in range(600):
        state = (await client.get(item(server, job["job_id"]))).json()["state"]
        if state in ("SUCCEED", "FAILED"):
            return str(state)
        await asyncio.sleep(0.05)
    return "TIMED OUT"


@pytest.mark.slow
def test_many_concurrent_lifecycles_all_finish(mock: RunningMock, recordings: Path) -> None:
    data = recordings.read_bytes()

    async def run_all() -> list[str]:
        headers = {"X-Auth-Token": mock.token}
        limits = httpx.Limits(max_connections=32)
        async with plain_http.async_client(
            base_url=mock.url, headers=headers, limits=limits, timeout=30
        ) as client:
            return await asyncio.gather(*(_lifecycle(client, mock, data) for _ in range(40)))

    states = asyncio.run(run_all())
    assert states == ["SUCCEED"] * 40
