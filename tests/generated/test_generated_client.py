"""Unit tests of the generated client (respx): the exact requests it sends, how it parses answers.

These pin the generated code to the contract; the mock server's tests prove the same over real HTTP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from mock_server.faces.inprocess import RunningMock
from short_jobs_client import Client
from short_jobs_client.api.short_jobs import commit_short_job, create_short_job, show_short_job
from short_jobs_client.models import (
    AssessProperty,
    AssessResult,
    CreateShortJobReq,
    CreateShortJobResponse,
    ErrorResponse,
    JobState,
    Language,
    ShortJobType,
    ShowShortJobResponse,
)
from short_jobs_client.types import Response
from helpers import ROOT

BASE = "https://metastudio.example.test"
PROJECT = "proj/with space"  # escaping must keep the path's structure
JOB = "job/1?x"
PROJECT_ESC = "proj%2Fwith%20space"
JOB_ESC = "job%2F1%3Fx"
COLLECTION = f"/v1/{PROJECT_ESC}/voice-training-manage/user/short-jobs"
ITEM = f"{COLLECTION}/{JOB_ESC}"

METRICS = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")
SHOW_BODY: dict[str, Any] = {
    "job_type": "VOICE_ASSESS",
    "job_id": JOB,
    "state": "SUCCEED",
    "job_failed_code": "none",
    "job_failed_reason": "none",
    "create_time": 1764000000,
    "lastupdate_time": 1764000004,
    "assess_result": {
        **{
            name: {
                "expected": f"{name} expected",
                "actual": f"{name} actual",
                "suggestion": f"{name} 建议",
                "suggestion_en": f"{name} advice",
                "status": index % 2,
            }
            for index, name in enumerate(METRICS)
        },
        "suggestion": "overall",
    },
}
ERROR_STATUSES = (400, 401, 403, 404, 413, 429, 500)


def _client() -> Client:
    return Client(base_url=BASE, raise_on_unexpected_status=True)


def _raw_path(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii")


@respx.mock
def test_create_sends_the_exact_request_with_the_default_language() -> None:
    route = respx.post(f"{BASE}{COLLECTION}").respond(
        200, json={"job_id": "j1", "data_uploading_url": "http://u/b/k?Expires=1"}
    )
    body = CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS)
    parsed = create_short_job.sync(PROJECT, client=_client(), body=body, x_app_user_id="user-1")

    request = route.calls.last.request
    assert request.method == "POST"
    assert _raw_path(request) == COLLECTION
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-App-UserId"] == "user-1"
    assert json.loads(request.content) == {"job_type": "VOICE_ASSESS", "language": "CN"}
    assert parsed == CreateShortJobResponse(
        job_id="j1", data_uploading_url="http://u/b/k?Expires=1"
    )


@respx.mock
def test_create_sends_an_explicit_language() -> None:
    route = respx.post(f"{BASE}{COLLECTION}").respond(
        200, json={"job_id": "j1", "data_uploading_url": "u"}
    )
    body = CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS, language=Language.EN)
    create_short_job.sync(PROJECT, client=_client(), body=body)
    request = route.calls.last.request
    assert json.loads(request.content) == {"job_type": "VOICE_ASSESS", "language": "EN"}
    assert "X-App-UserId" not in request.headers


@respx.mock
def test_commit_sends_no_body_and_accepts_an_empty_answer() -> None:
    route = respx.post(f"{BASE}{ITEM}").respond(200)
    response = commit_short_job.sync_detailed(PROJECT, JOB, client=_client(), x_app_user_id="u")
    request = route.calls.last.request
    assert request.method == "POST"
    assert _raw_path(request) == ITEM
    assert request.content == b""
    assert request.headers["X-App-UserId"] == "u"
    assert response.status_code == 200


def _assert_full_show(parsed: object) -> None:
    assert isinstance(parsed, ShowShortJobResponse)
    assert parsed.job_type is ShortJobType.VOICE_ASSESS
    assert parsed.job_id == JOB
    assert parsed.state is JobState.SUCCEED
    assert parsed.job_failed_code == "none"
    assert parsed.job_failed_reason == "none"
    assert parsed.create_time == 1764000000
    assert parsed.lastupdate_time == 1764000004
    result = parsed.assess_result
    assert isinstance(result, AssessResult)
    assert result.suggestion == "overall"
    for index, name in enumerate(METRICS):
        metric = getattr(result, name)
        assert metric == AssessProperty(
            expected=f"{name} expected",
            actual=f"{name} actual",
            suggestion=f"{name} 建议",
            suggestion_en=f"{name} advice",
            status=index % 2,
        )
    assert parsed.to_dict() == SHOW_BODY


@respx.mock
def test_show_sends_the_exact_request_and_parses_every_field() -> None:
    route = respx.get(f"{BASE}{ITEM}").respond(200, json=SHOW_BODY)
    parsed = show_short_job.sync(PROJECT, JOB, client=_client())
    request = route.calls.last.request
    assert request.method == "GET"
    assert _raw_path(request) == ITEM
    assert request.content == b""
    _assert_full_show(parsed)


@respx.mock
async def test_async_operations_send_the_same_requests() -> None:
    create = respx.post(f"{BASE}{COLLECTION}").respond(
        200, json={"job_id": "j2", "data_uploading_url": "u2"}
    )
    commit = respx.post(f"{BASE}{ITEM}").respond(200)
    show = respx.get(f"{BASE}{ITEM}").respond(200, json=SHOW_BODY)
    client = _client()
    body = CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS)
    created = await create_short_job.asyncio(PROJECT, client=client, body=body)
    committed = await commit_short_job.asyncio_detailed(PROJECT, JOB, client=client)
    shown = await show_short_job.asyncio(PROJECT, JOB, client=client)

    assert created == CreateShortJobResponse(job_id="j2", data_uploading_url="u2")
    assert json.loads(create.calls.last.request.content) == {
        "job_type": "VOICE_ASSESS",
        "language": "CN",
    }
    assert committed.status_code == 200
    assert commit.calls.last.request.content == b""
    assert _raw_path(show.calls.last.request) == ITEM
    _assert_full_show(shown)


def _error_body(status: int) -> dict[str, str]:
    return {"error_code": f"CODE.{status}", "error_msg": f"message {status}", "request_id": "r-1"}


def _call_each_operation(client: Client) -> list[Response[Any]]:
    body = CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS)
    return [
        create_short_job.sync_detailed(PROJECT, client=client, body=body),
        commit_short_job.sync_detailed(PROJECT, JOB, client=client),
        show_short_job.sync_detailed(PROJECT, JOB, client=client),
    ]


@pytest.mark.parametrize("status", ERROR_STATUSES)
@respx.mock
def test_each_declared_error_status_parses_into_the_error_model(status: int) -> None:
    headers = {"X-Request-Id": "r-1"}
    respx.post(f"{BASE}{COLLECTION}").respond(status, json=_error_body(status), headers=headers)
    respx.post(f"{BASE}{ITEM}").respond(status, json=_error_body(status), headers=headers)
    respx.get(f"{BASE}{ITEM}").respond(status, json=_error_body(status), headers=headers)
    for response in _call_each_operation(_client()):
        assert response.status_code == status
        assert response.headers["X-Request-Id"] == "r-1"
        assert response.parsed == ErrorResponse(
            error_code=f"CODE.{status}", error_msg=f"message {status}", request_id="r-1"
        )


@respx.mock
async def test_async_error_status_parses_into_the_error_model() -> None:
    respx.get(f"{BASE}{ITEM}").respond(400, json={"error_code": "MSS.1", "error_msg": "bad"})
    response = await show_short_job.asyncio_detailed(PROJECT, JOB, client=_client())
    assert response.parsed == ErrorResponse(error_code="MSS.1", error_msg="bad")


# --- what the generator emits for users: its README's examples run as written ----------------



def python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text("utf-8"), re.S)


def run_example(code: str, server: RunningMock, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHORT_JOBS_ENDPOINT": server.url,
        "HUAWEICLOUD_SDK_PROJECT_ID": server.project_id,
        "HUAWEICLOUD_SDK_TOKEN": server.token,
        "HUAWEICLOUD_SDK_AK": server.ak,
        "HUAWEICLOUD_SDK_SK": server.sk,
    }
    script = cwd / "example.py"
    script.write_text(code, "utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_generated_readme_never_suggests_a_bearer_token() -> None:
    text = (ROOT / "generated" / "README.md").read_text("utf-8")
    assert "AuthenticatedClient(" not in text
    assert "never `AuthenticatedClient`" in text


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(python_blocks(ROOT / "generated" / "README.md"))))
def test_the_generated_readme_examples_run_against_the_mock(
    mock: RunningMock, tmp_path: Path, index: int
) -> None:
    code = python_blocks(ROOT / "generated" / "README.md")[index]
    done = run_example(code, mock, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "upload the zip to" in done.stdout or "created" in done.stdout


# The project README's own generated-client example runs in tests/project/test_docs_examples.py.
