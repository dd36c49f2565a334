"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from mock_server.testing import RunningMock

COLLECTION = "/v1/{project}/voice-training-manage/user/short-jobs"
FINAL = ("SUCCEED", "FAILED")


def token_client(server: RunningMock) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"X-Auth-Token": server.token}, timeout=30)


def collection(server: RunningMock, project: str | None = None) -> str:
    return COLLECTION.format(project=project or server.project_id)


def item(server: RunningMock, job_id: str, project: str | None = None) -> str:
    return f"{collection(server, project)}/{job_id}"


def create(client: httpx.Client, server: RunningMock, **body: Any) -> dict[str, str]:
    response = client.post(collection(server), json={"job_type": "VOICE_ASSESS", **body})
    assert response.status_code == 200, response.text
    result: dict[str, str] = response.json()
    return result


def upload(url: str, path: Path, content_type: str = "application/zip") -> httpx.Response:
    with path.open("rb") as data:
        return httpx.put(url, content=data.read(), headers={"Content-Type": content_type})


def wait_final(
    client: httpx.Client, server: RunningMock, job_id: str, timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(item(server, job_id))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in FINAL or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
