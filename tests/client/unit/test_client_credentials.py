"""Client unit tests (respx, no server, fake time): endpoints and credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx
from hypothesis import HealthCheck, given, settings

from short_jobs import (
    AsyncShortJobs,
    ShortJobs,
    region_endpoint,
    resolve_endpoint,
)
from short_jobs.errors import (
    UsageError,
)
from short_jobs.signing import parse_authorization

from .client_fakes import (
    AK,
    BASE,
    INVISIBLE_CHARACTERS,
    ITEM,
    JOB,
    PROJECT,
    SECURITY_TOKEN,
    SK,
    TOKEN,
    Make,
    assert_signed,
    job_body,
)

pytestmark = pytest.mark.usefixtures("clean_client_env")


def test_region_name_becomes_the_metastudio_endpoint(mock: respx.MockRouter, make: Make) -> None:
    url = "https://metastudio.cn-north-4.myhuaweicloud.com"
    route = mock.get(f"{url}/v1/{PROJECT}/voice-training-manage/user/short-jobs/{JOB}").respond(
        200, json=job_body("WAITING")
    )
    with make("cn-north-4", project_id=PROJECT, token=TOKEN) as sj:
        assert sj.endpoint == url
        sj.show(JOB)
    assert route.called


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cn-north-4", "https://metastudio.cn-north-4.myhuaweicloud.com"),
        ("ap-southeast-1", "https://metastudio.ap-southeast-1.myhuaweicloud.com"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        (" https://example.test/prefix ", "https://example.test/prefix"),
    ],
)
def test_resolve_endpoint(given: str, expected: str) -> None:
    assert resolve_endpoint(given) == expected


@pytest.mark.parametrize(
    "bad", ["bogus", "ftp://example.test", "http://", "127.0.0.1:8000", "http://h:x", "http://h?q"]
)
def test_resolve_endpoint_refuses_what_is_neither_url_nor_region(bad: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        resolve_endpoint(bad)
    with pytest.raises(ValueError, match="region"):
        region_endpoint(bad)


def test_credentials_fall_back_to_the_sdk_environment(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("SHORT_JOBS_ENDPOINT", BASE)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HUAWEICLOUD_SDK_TOKEN", TOKEN)  # AK/SK wins over it
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make() as sj:
        assert (sj.endpoint, sj.project_id) == (BASE, PROJECT)
        sj.show(JOB)
    request = route.calls.last.request
    assert_signed(request)
    assert "X-Auth-Token" not in request.headers


def test_token_falls_back_to_its_variable(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_TOKEN", TOKEN)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE) as sj:
        sj.show(JOB)
    assert route.calls.last.request.headers["X-Auth-Token"] == TOKEN


def test_an_explicit_ak_pairs_with_the_sk_variable(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "OTHER")
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, ak=AK) as sj:
        sj.show(JOB)
    assert_signed(route.calls.last.request)


def test_temporary_credentials_send_their_security_token_signed(
    mock: respx.MockRouter, make: Make
) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK, security_token=SECURITY_TOKEN) as sj:
        sj.show(JOB)
    request = route.calls.last.request
    assert_signed(request)
    assert request.headers["X-Security-Token"] == SECURITY_TOKEN
    signed = parse_authorization(request.headers["Authorization"]).signed_headers
    assert "x-security-token" in signed


def test_the_security_token_variable_is_read_only_with_the_ak_variable(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    """As the official SDK's environment credentials: HUAWEICLOUD_SDK_SECURITY_TOKEN belongs to
    the AK in HUAWEICLOUD_SDK_AK; a permanent AK passed explicitly never picks up a stale one."""
    monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN)
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK) as sj:
        sj.show(JOB)
    assert "X-Security-Token" not in route.calls.last.request.headers
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    with make(BASE, project_id=PROJECT) as sj:
        sj.show(JOB)
    assert route.calls.last.request.headers["X-Security-Token"] == SECURITY_TOKEN


def test_a_security_token_goes_with_ak_sk_not_a_token(make: Make) -> None:
    with pytest.raises(UsageError, match="security_token"):
        make(BASE, project_id=PROJECT, token=TOKEN, security_token=SECURITY_TOKEN)


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=INVISIBLE_CHARACTERS)
def test_a_security_token_with_invisible_characters_is_refused_naming_its_source(
    surface: str, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    cls: Callable[..., object] = ShortJobs if surface == "sync" else AsyncShortJobs
    value = SECURITY_TOKEN + bad
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(200)
        with pytest.raises(UsageError, match="invisible or non-ASCII") as by_argument:
            cls(BASE, project_id=PROJECT, ak=AK, sk=SK, security_token=value)
        assert "security_token=" in str(by_argument.value)
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
        monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
        monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", value)
        with pytest.raises(UsageError, match="HUAWEICLOUD_SDK_SECURITY_TOKEN"):
            cls(BASE, project_id=PROJECT)
        assert not route.called


def test_explicit_arguments_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "ENVAK")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "ENVSK")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", "env-project")
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, token=TOKEN) as sj:
        sj.show(JOB)
    request = route.calls.last.request
    assert request.headers["X-Auth-Token"] == TOKEN
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project_id": PROJECT}, "no credentials"),
        ({"ak": AK, "sk": SK}, "project id"),
        ({"project_id": PROJECT, "ak": AK}, "both"),
        ({"project_id": PROJECT, "ak": AK, "sk": SK, "token": TOKEN}, "not both"),
    ],
)
def test_missing_or_conflicting_credentials_are_refused(
    kwargs: dict[str, Any], message: str, make: Make
) -> None:
    with pytest.raises(ValueError, match=message):
        make(BASE, **kwargs)


def test_an_endpoint_is_required(make: Make) -> None:
    with pytest.raises(ValueError, match="SHORT_JOBS_ENDPOINT"):
        make(project_id=PROJECT, token=TOKEN)
