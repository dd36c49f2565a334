"""Client unit tests (respx, no server, fake time): the exact requests."""

from __future__ import annotations

import json

import pytest
import respx

from short_jobs_client import Client
from short_jobs_client.api.short_jobs import show_short_job
from short_jobs_client.models import CreateShortJobResponse, JobState, ShowShortJobResponse

from .client_fakes import (
    AK,
    BASE,
    COLLECTION,
    CREATED,
    ITEM,
    JOB,
    PROJECT,
    SK,
    TOKEN,
    UPLOAD_URL,
    Make,
    Surface,
    assert_signed,
    job_body,
)

pytestmark = pytest.mark.usefixtures("clean_client_env")


def test_create_sends_the_generated_request_signed(sj: Surface, mock: respx.MockRouter) -> None:
    route = mock.post(COLLECTION).respond(200, json=CREATED)
    job = sj.create(language="en")
    assert isinstance(job, CreateShortJobResponse)
    assert (job.job_id, job.data_uploading_url) == (JOB, UPLOAD_URL)
    request = route.calls.last.request
    assert json.loads(request.content) == {"job_type": "VOICE_ASSESS", "language": "EN"}
    assert request.headers["Content-Type"] == "application/json"
    assert "X-App-UserId" not in request.headers
    assert_signed(request)


def test_token_auth_sends_only_the_token(mock: respx.MockRouter, make: Make) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, token=TOKEN) as sj:
        assert sj.show(JOB).state is JobState.WAITING
    headers = route.calls.last.request.headers
    assert headers["X-Auth-Token"] == TOKEN
    assert "Authorization" not in headers


def test_app_user_id_is_sent_on_every_call(mock: respx.MockRouter, make: Make) -> None:
    create = mock.post(COLLECTION).respond(200, json=CREATED)
    commit = mock.post(ITEM).respond(200)
    show = mock.get(ITEM).respond(200, json=job_body("SUCCEED"))
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK, app_user_id="user-001") as sj:
        sj.create()
        sj.commit(JOB)
        sj.show(JOB)
    for route in (create, commit, show):
        request = route.calls.last.request
        assert request.headers["X-App-UserId"] == "user-001"
        assert_signed(request)  # and it is covered by the signature


@pytest.mark.parametrize("value", ["用户", "has space", "x" * 65, ""])
def test_app_user_id_must_be_visible_ascii(value: str, make: Make) -> None:
    with pytest.raises(ValueError, match="app_user_id"):
        make(BASE, project_id=PROJECT, token=TOKEN, app_user_id=value)


@pytest.mark.parametrize("body", [b"", b"{}"])
def test_commit_accepts_an_empty_body_or_an_empty_object(
    sj: Surface, mock: respx.MockRouter, body: bytes
) -> None:
    route = mock.post(ITEM).respond(200, content=body)
    assert sj.commit(JOB) is None
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.content == b""
    assert_signed(request)


def test_show_returns_the_generated_model(sj: Surface, mock: respx.MockRouter) -> None:
    prop = {"expected": "e", "actual": "a", "suggestion": "s", "suggestion_en": "s", "status": 1}
    body = job_body("SUCCEED", assess_result={"snr": prop, "suggestion": "ok"})
    route = mock.get(ITEM).respond(200, json=body)
    detail = sj.show(JOB)
    assert isinstance(detail, ShowShortJobResponse)
    assert detail.to_dict() == body
    assert_signed(route.calls.last.request)


def test_the_generated_client_is_exposed_and_authenticated(
    sj: Surface, mock: respx.MockRouter
) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    assert isinstance(sj.client, Client)
    detail = show_short_job.sync(PROJECT, JOB, client=sj.client)
    assert isinstance(detail, ShowShortJobResponse)
    assert_signed(route.calls.last.request)
