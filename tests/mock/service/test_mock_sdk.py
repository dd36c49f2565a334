"""The official SDK, unchanged, against the live mock: it cannot tell the mock from the cloud."""

from __future__ import annotations

from pathlib import Path

import plain_http
import pytest
from helpers import sdk_wait_final
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkmetastudio.v1 import (
    CommitShortJobRequest,
    CreateShortJobReq,
    CreateShortJobRequest,
    MetaStudioClient,
    ShowShortJobRequest,
)

from mock_server.faces.inprocess import RunningMock

METRICS = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")


def sdk_client(server: RunningMock, sk: str | None = None) -> MetaStudioClient:
    credentials = BasicCredentials(server.ak, sk or server.sk, server.project_id)
    return (
        MetaStudioClient.new_builder()
        .with_credentials(credentials)
        .with_endpoints([server.url])
        .build()
    )


def test_the_sdk_runs_a_whole_job(mock: RunningMock, recordings: Path) -> None:
    client = sdk_client(mock)
    body = CreateShortJobReq(job_type="VOICE_ASSESS", language="EN")
    created = client.create_short_job(CreateShortJobRequest(body=body, x_app_user_id="user-1"))
    assert created.job_id
    put = plain_http.put(
        created.data_uploading_url,
        content=recordings.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert put.status_code == 200, put.text

    client.commit_short_job(CommitShortJobRequest(job_id=created.job_id, x_app_user_id="user-1"))

    shown = sdk_wait_final(client, created.job_id)
    assert shown.state == "SUCCEED", shown
    assert shown.job_type == "VOICE_ASSESS"
    assert shown.job_id == created.job_id
    assert 0 < shown.create_time <= shown.lastupdate_time
    for name in METRICS:
        metric = getattr(shown.assess_result, name)
        assert metric.expected and metric.actual and metric.suggestion and metric.suggestion_en
        assert metric.status in (0, 1)
    assert shown.assess_result.suggestion


def test_a_wrong_sk_is_refused_with_a_request_id(mock: RunningMock) -> None:
    client = sdk_client(mock, sk="not-the-secret")
    with pytest.raises(exceptions.ClientRequestException) as raised:
        client.show_short_job(ShowShortJobRequest(job_id="anything"))
    assert raised.value.status_code == 401
    assert raised.value.error_code == "APIGW.0301"
    assert "signature mismatch" in raised.value.error_msg
    assert raised.value.request_id


def test_an_unknown_job_is_a_400_naming_it(mock: RunningMock) -> None:
    with pytest.raises(exceptions.ClientRequestException) as raised:
        sdk_client(mock).show_short_job(ShowShortJobRequest(job_id="no-such-job"))
    assert raised.value.status_code == 400
    assert raised.value.error_code == "MSS.00000003"
    assert "no-such-job" in raised.value.error_msg
    assert raised.value.request_id


def test_a_commit_before_the_upload_is_refused(mock: RunningMock) -> None:
    client = sdk_client(mock)
    created = client.create_short_job(
        CreateShortJobRequest(body=CreateShortJobReq(job_type="VOICE_ASSESS"))
    )
    with pytest.raises(exceptions.ClientRequestException) as raised:
        client.commit_short_job(CommitShortJobRequest(job_id=created.job_id))
    assert raised.value.status_code == 400
    assert raised.value.error_code == "MSS.00000003"
    assert "no uploaded data" in raised.value.error_msg
