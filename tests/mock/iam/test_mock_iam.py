"""Every way the official SDK (unchanged) and our client sign in, against the mock's IAM.

A region with no project id (the SDK asks IAM for it), an IAM token obtained over HTTP and used
as X-Auth-Token by `ShortJobs` and the CLI, and temporary AK/SK with their security token; each
refused once expired (IAM's clock moved on, no waiting) or tampered with.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import plain_http
import pytest
from helpers import sdk_wait_final
from huaweicloudsdkcore.auth.credentials import BasicCredentials, Credentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkmetastudio.v1 import (
    CommitShortJobRequest,
    CreateShortJobReq,
    CreateShortJobRequest,
    MetaStudioClient,
    ShowShortJobRequest,
)
from typer.testing import CliRunner

from mock_server.core.config import Settings
from mock_server.faces.inprocess import RunningMock
from mock_server.pytest_plugin import MockHandle
from short_jobs import AuthError, NotFoundError, ShortJobs
from short_jobs.cli import app as cli_app

SECURITY_TOKENS = "/v3.0/OS-CREDENTIAL/securitytokens"


def password_body(
    user: str, password: str, *, domain: str = "any-domain", project: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "password": password, "domain": {"name": domain}}
                },
            },
            "scope": {"project": project or {"name": "cn-north-4"}},
        }
    }


def issue_token(server: RunningMock | MockHandle, **options: Any) -> httpx.Response:
    body = password_body(server.iam_user, server.iam_password, **options)
    return plain_http.post(f"{server.iam_url}/v3/auth/tokens", json=body, timeout=30)


def token(server: RunningMock | MockHandle) -> str:
    answer = issue_token(server)
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"]


def temporary_credential(server: RunningMock | MockHandle, seconds: int = 900) -> dict[str, str]:
    answer = plain_http.post(
        server.iam_url + SECURITY_TOKENS,
        headers={"X-Auth-Token": token(server)},
        json={"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": seconds}}}},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    credential: dict[str, str] = answer.json()["credential"]
    return credential


def sdk_client(credentials: Credentials, endpoint: str, region: str | None = None) -> Any:
    builder = MetaStudioClient.new_builder().with_credentials(credentials)
    if region is None:
        return builder.with_endpoints([endpoint]).build()
    return builder.with_region(Region(region, endpoint)).build()


def run_whole_job(client: Any, recordings: Path) -> None:
    """create, upload, commit, show until SUCCEED: with the official SDK, as its users do."""
    created = client.create_short_job(
        CreateShortJobRequest(body=CreateShortJobReq(job_type="VOICE_ASSESS"))
    )
    put = plain_http.put(
        created.data_uploading_url,
        content=recordings.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert put.status_code == 200, put.text
    client.commit_short_job(CommitShortJobRequest(job_id=created.job_id))
    shown = sdk_wait_final(client, created.job_id)
    assert shown.state == "SUCCEED", shown


def refused(call: Callable[[], Any]) -> exceptions.ClientRequestException:
    with pytest.raises(exceptions.ClientRequestException) as raised:
        call()
    assert raised.value.status_code == 401
    assert raised.value.error_code == "APIGW.0301"
    return raised.value


def show_anything(client: Any) -> Callable[[], Any]:
    return lambda: client.show_short_job(ShowShortJobRequest(job_id="anything"))


@pytest.fixture(autouse=True)
def _no_cached_project_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK caches discovered project ids per AK and region for the process's life."""
    monkeypatch.setattr(Credentials, "_CACHE", {})


# -- 1. a region and BasicCredentials(ak, sk): the project is discovered through IAM ------------


def test_the_sdk_discovers_the_project_and_runs_a_whole_job(
    short_jobs_mock: MockHandle, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = short_jobs_mock
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", m.iam_url)
    client = sdk_client(BasicCredentials(m.ak, m.sk), m.url, region=m.region)
    run_whole_job(client, recordings)
    # no project id was given: the one the SDK signed with came from IAM
    (create,) = m.requests("create_short_job")
    assert create["headers"]["x-project-id"] == m.project_id
    assert create["path"].startswith(f"/v1/{m.project_id}/")


def test_an_unknown_region_finds_no_project(
    short_jobs_mock: MockHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = short_jobs_mock
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", m.iam_url)
    with pytest.raises(exceptions.SdkException, match="Failed to get project id of region"):
        sdk_client(BasicCredentials(m.ak, m.sk), m.url, region="ap-southeast-1")
    answer = plain_http.get(f"{m.iam_url}/v3/projects", params={"name": "ap-southeast-1"})
    assert answer.status_code == 401  # unsigned: IAM wants a caller first
    assert answer.json()["error"]["code"] == 401


def test_project_discovery_with_a_wrong_sk_is_refused_by_iam(
    short_jobs_mock: MockHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = short_jobs_mock
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", m.iam_url)
    with pytest.raises(exceptions.SdkException, match="signature mismatch"):
        sdk_client(BasicCredentials(m.ak, "not-the-secret"), m.url, region=m.region)


def test_projects_answer_the_keystone_shape(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    with plain_http.client(headers={"X-Auth-Token": token(m)}) as client:
        mine = client.get(f"{m.iam_url}/v3/projects", params={"name": m.region})
        other = client.get(f"{m.iam_url}/v3/projects", params={"name": "eu-west-101"})
        every = client.get(f"{m.iam_url}/v3/projects")
    assert mine.status_code == 200
    assert mine.headers["X-IAM-Trace-Id"]
    (project,) = mine.json()["projects"]
    assert project["id"] == m.project_id
    assert project["name"] == m.region
    assert project["enabled"] is True and project["domain_id"]
    assert "self" in mine.json()["links"]
    assert other.json()["projects"] == []
    assert every.json()["projects"] == [project]


# -- 2. an IAM token over HTTP, then X-Auth-Token: our facade and CLI ---------------------------


def test_an_issued_token_has_keystones_shape(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    answer = issue_token(m, domain="acme", project={"id": m.project_id})
    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Subject-Token"].startswith("MII")
    assert answer.headers["X-IAM-Trace-Id"]
    issued = answer.json()["token"]
    assert issued["methods"] == ["password"]
    assert issued["project"]["id"] == m.project_id
    assert issued["project"]["name"] == m.region
    assert issued["user"]["name"] == m.iam_user
    assert issued["user"]["domain"]["name"] == "acme"
    assert issued["issued_at"] < issued["expires_at"]
    assert issued["expires_at"].endswith("Z")


def test_the_facade_runs_a_job_with_an_issued_token(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    with ShortJobs(m.url, project_id=m.project_id, token=token(m), poll_interval=0.05) as sj:
        job = sj.create()
        sj.upload(job, recordings)
        sj.commit(job.job_id)
        assert sj.wait(job.job_id, timeout=20).state.value == "SUCCEED"


def test_the_cli_runs_a_job_with_an_issued_token(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    args = ["--endpoint", m.url, "--project-id", m.project_id, "--token", token(m)]
    result = CliRunner().invoke(cli_app, [*args, "assess", str(recordings), "--json"], env={})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert '"SUCCEED"' in result.stdout


def test_an_issued_token_expires_and_the_fixed_token_does_not(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    issued = token(m)
    with ShortJobs(m.url, project_id=m.project_id, token=issued) as sj:
        sj.create()
        m.advance_iam_clock(m.settings.token_ttl + 1)
        with pytest.raises(AuthError) as raised:
            sj.create()
    assert raised.value.status == 401
    assert raised.value.error_code == "APIGW.0301"
    assert "has expired" in str(raised.value.error_msg)
    with ShortJobs(m.url, project_id=m.project_id, token=m.token) as sj:
        assert sj.create().job_id


def test_the_cli_says_an_expired_token_expired(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    issued = token(m)
    m.advance_iam_clock(m.settings.token_ttl)
    args = ["--endpoint", m.url, "--project-id", m.project_id, "--token", issued, "create"]
    result = CliRunner().invoke(cli_app, args, env={})
    assert result.exit_code == 1
    assert "APIGW.0301" in result.stderr and "has expired" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"user": "someone-else"}, "username or password is wrong"),
        ({"password": "wrong"}, "username or password is wrong"),
        ({"project": {"name": "eu-west-101"}}, "No project"),
        ({"project": {"id": "0" * 32}}, "No project"),
    ],
)
def test_a_wrong_user_password_or_project_is_401(
    short_jobs_mock: MockHandle, change: dict[str, Any], message: str
) -> None:
    m = short_jobs_mock
    body = password_body(
        change.get("user", m.iam_user),
        change.get("password", m.iam_password),
        project=change.get("project"),
    )
    answer = plain_http.post(f"{m.iam_url}/v3/auth/tokens", json=body)
    assert answer.status_code == 401
    assert answer.headers["X-IAM-Trace-Id"]
    assert "X-Subject-Token" not in answer.headers
    error = answer.json()["error"]
    assert error["code"] == 401 and error["title"] == "Unauthorized"
    assert message in error["message"]


def test_a_configured_domain_is_required(
    make_mock: Callable[..., AbstractContextManager[RunningMock]],
) -> None:
    with make_mock(iam_domain="acme", iam_user="alice", iam_password="s3cret") as m:
        assert issue_token(m, domain="acme").status_code == 201
        assert issue_token(m, domain="other").status_code == 401


def test_tampered_or_unknown_tokens_are_refused(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    issued = token(m)
    for bad in (issued[:-1] + ("A" if issued[-1] != "A" else "B"), issued + "x", "MIInothing"):
        with (
            ShortJobs(m.url, project_id=m.project_id, token=bad) as sj,
            pytest.raises(AuthError, match="X-Auth-Token is invalid"),
        ):
            sj.create()


# -- 3. temporary AK/SK with their security token ------------------------------------------------


def test_the_sdk_runs_a_whole_job_with_temporary_credentials(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    c = temporary_credential(m)
    assert len(c["access"]) == 20 and c["expires_at"].endswith("Z")
    credentials = BasicCredentials(c["access"], c["secret"], m.project_id).with_security_token(
        c["securitytoken"]
    )
    run_whole_job(sdk_client(credentials, m.url), recordings)


def test_temporary_credentials_discover_the_project_too(
    short_jobs_mock: MockHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = short_jobs_mock
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", m.iam_url)
    c = temporary_credential(m)
    credentials = BasicCredentials(c["access"], c["secret"]).with_security_token(c["securitytoken"])
    client = sdk_client(credentials, m.url, region=m.region)
    assert client.create_short_job(
        CreateShortJobRequest(body=CreateShortJobReq(job_type="VOICE_ASSESS"))
    ).job_id


def test_the_facade_and_cli_use_temporary_credentials(
    short_jobs_mock: MockHandle, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = short_jobs_mock
    c = temporary_credential(m)
    ak, sk = c["access"], c["secret"]
    with ShortJobs(
        m.url, project_id=m.project_id, ak=ak, sk=sk, security_token=c["securitytoken"]
    ) as sj:
        job = sj.create()
        sj.upload(job, recordings)
        sj.commit(job.job_id)
        assert sj.wait(job.job_id, timeout=20).state.value == "SUCCEED"
    with (
        ShortJobs(m.url, project_id=m.project_id, ak=ak, sk=sk) as sj,
        pytest.raises(AuthError, match="send its X-Security-Token"),
    ):
        sj.create()
    # the official SDK's variables, as its EnvCredentialProvider reads them
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", c["access"])
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", c["secret"])
    monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", c["securitytoken"])
    with ShortJobs(m.url, project_id=m.project_id) as sj:
        assert sj.create().job_id
    with ShortJobs(
        m.url, project_id=m.project_id, ak=m.ak, sk=m.sk
    ) as sj:  # a permanent AK passed explicitly is not paired with the variable's security token
        assert sj.create().job_id
    args = ["--endpoint", m.url, "--project-id", m.project_id, "--ak", c["access"], "--sk"]
    args += [c["secret"], "--security-token", c["securitytoken"], "create", "--json"]
    result = CliRunner().invoke(cli_app, args, env={"HUAWEICLOUD_SDK_SECURITY_TOKEN": ""})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert '"job_id"' in result.stdout


def test_a_missing_or_wrong_security_token_is_refused(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    c = temporary_credential(m)
    other = temporary_credential(m)
    missing = sdk_client(BasicCredentials(c["access"], c["secret"], m.project_id), m.url)
    assert "send its X-Security-Token" in refused(show_anything(missing)).error_msg
    wrong = BasicCredentials(c["access"], c["secret"], m.project_id).with_security_token(
        other["securitytoken"]
    )
    error = refused(show_anything(sdk_client(wrong, m.url)))
    assert "X-Security-Token does not belong to this access key" in error.error_msg
    tampered = BasicCredentials(c["access"], c["secret"], m.project_id).with_security_token(
        c["securitytoken"] + "x"
    )
    assert "does not belong" in refused(show_anything(sdk_client(tampered, m.url))).error_msg


def test_an_unsigned_security_token_is_refused(short_jobs_mock: MockHandle) -> None:
    """Signed without X-Security-Token, which is added afterwards: not covered, so refused."""
    from short_jobs.signing import sign_request

    m = short_jobs_mock
    c = temporary_credential(m)
    url = f"{m.url}/v1/{m.project_id}/voice-training-manage/user/short-jobs/anything"
    headers = {"Host": url.split("/")[2], "Content-Type": "application/json"}
    headers.update(sign_request("GET", url, headers, b"", c["access"], c["secret"]))
    answer = plain_http.get(url, headers={**headers, "X-Security-Token": c["securitytoken"]})
    assert answer.status_code == 401
    assert "must be signed" in answer.json()["error_msg"]


def test_temporary_credentials_expire(short_jobs_mock: MockHandle) -> None:
    """Signed at the mock's time (the official SDK signs with the wall clock, which a move of
    15 minutes or more puts outside the gateway's window: the one clock's rule)."""
    m = short_jobs_mock
    c = temporary_credential(m, seconds=900)
    with ShortJobs(
        m.url,
        project_id=m.project_id,
        ak=c["access"],
        sk=c["secret"],
        security_token=c["securitytoken"],
        signing_clock=m.mock_time,
    ) as sj:
        m.advance_clock(899)
        with pytest.raises(NotFoundError):
            sj.show("anything")  # authenticated: the job is what is unknown
        m.advance_clock(1)
        with pytest.raises(AuthError) as raised:
            sj.show("anything")
    assert "has expired" in str(raised.value.error_msg)


def test_the_security_token_call_needs_a_good_token(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}}
    url = m.iam_url + SECURITY_TOKENS
    nobody = plain_http.post(url, json=body)
    assert nobody.status_code == 401 and nobody.json()["error"]["code"] == 401
    wrong = plain_http.post(url, json=body, headers={"X-Auth-Token": "MIIwrong"})
    assert wrong.status_code == 401 and "invalid" in wrong.json()["error"]["message"]
    issued = token(m)
    in_body = {"auth": {"identity": {"methods": ["token"], "token": {"id": issued}}}}
    assert plain_http.post(url, json=in_body).status_code == 201
    m.advance_iam_clock(m.settings.token_ttl)
    expired = plain_http.post(url, json=body, headers={"X-Auth-Token": issued})
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


@pytest.mark.parametrize("seconds", [899, 86401, "900"])
def test_a_duration_out_of_range_is_400(short_jobs_mock: MockHandle, seconds: object) -> None:
    m = short_jobs_mock
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": seconds}}}}
    answer = plain_http.post(
        m.iam_url + SECURITY_TOKENS, json=body, headers={"X-Auth-Token": token(m)}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["title"] == "Bad Request"


# -- 4. state: in the store, across restarts, cleared by reset -----------------------------------


def test_tokens_and_credentials_survive_a_restart(
    make_mock: Callable[..., AbstractContextManager[RunningMock]],
) -> None:
    with make_mock() as first:
        issued = token(first)
        c = temporary_credential(first)
    with make_mock() as second:
        with ShortJobs(second.url, project_id=second.project_id, token=issued) as sj:
            assert sj.create().job_id
        credentials = BasicCredentials(
            c["access"], c["secret"], second.project_id
        ).with_security_token(c["securitytoken"])
        created = sdk_client(credentials, second.url).create_short_job(
            CreateShortJobRequest(body=CreateShortJobReq(job_type="VOICE_ASSESS"))
        )
        assert created.job_id


def test_reset_forgets_tokens_and_credentials(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    issued = token(m)
    c = temporary_credential(m)
    m.reset()
    with (
        ShortJobs(m.url, project_id=m.project_id, token=issued) as sj,
        pytest.raises(AuthError, match="invalid"),
    ):
        sj.create()
    credentials = BasicCredentials(c["access"], c["secret"], m.project_id).with_security_token(
        c["securitytoken"]
    )
    assert "not found" in refused(show_anything(sdk_client(credentials, m.url))).error_msg


def test_iam_is_not_served_on_the_api_port(
    short_jobs_mock: MockHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = short_jobs_mock
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", m.url)  # the API's URL: a mistake
    with pytest.raises(exceptions.SdkException, match=f"HUAWEICLOUD_SDK_IAM_ENDPOINT={m.iam_url}"):
        sdk_client(BasicCredentials(m.ak, m.sk), m.url, region=m.region)
    body = password_body(m.iam_user, m.iam_password)
    answer = plain_http.post(f"{m.url}/v3/auth/tokens", json=body)
    assert answer.status_code == 404
    assert answer.json()["error_code"] == "APIGW.0101"
    assert f"HUAWEICLOUD_SDK_IAM_ENDPOINT={m.iam_url}" in answer.json()["error_msg"]
    api = plain_http.get(f"{m.iam_url}/v1/{m.project_id}/voice-training-manage/user/short-jobs/x")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == 404


# -- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "iam_port", "listen"), [(8000, None, 8001), (9000, 7000, 7000), (0, None, 0)]
)
def test_iam_listens_next_to_the_api_unless_told(
    port: int, iam_port: int | None, listen: int
) -> None:
    settings = Settings(port=port, iam_port=iam_port)
    assert settings.iam_listen_port == listen
    assert Settings.from_environ(settings.to_environ()) == settings


def test_iam_settings_come_from_the_environment() -> None:
    environ = {
        "SHORT_JOBS_MOCK_IAM_USER": "alice",
        "SHORT_JOBS_MOCK_IAM_PASSWORD": "s3cret",
        "SHORT_JOBS_MOCK_IAM_DOMAIN": "acme",
        "SHORT_JOBS_MOCK_IAM_PORT": "9100",
        "SHORT_JOBS_MOCK_TOKEN_TTL": "60",
        "SHORT_JOBS_MOCK_REGION": "ap-southeast-1",
    }
    settings = Settings.from_environ(environ)
    assert (settings.iam_user, settings.iam_password, settings.iam_domain) == (
        "alice",
        "s3cret",
        "acme",
    )
    assert (settings.iam_port, settings.token_ttl, settings.region) == (9100, 60, "ap-southeast-1")
    with pytest.raises(ValueError, match="token_ttl"):
        Settings(token_ttl=0)


def test_faults_for_the_api_leave_iam_alone(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    m.fail_next(status=500, error_code="MSS.00000004", times=3)
    api_path = f"/v1/{m.project_id}/voice-training-manage/user/short-jobs"
    assert issue_token(m).status_code == 201
    # even an API path on IAM's port is IAM's (a 404 in its shape), not a faulted operation
    answer = plain_http.post(m.iam_url + api_path, json={"job_type": "VOICE_ASSESS"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == 404
    assert len(m.faults()) == 1 and m.faults()[0]["times"] == 3
