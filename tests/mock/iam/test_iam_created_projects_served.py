"""A project created through IAM is served by the API (issue 21, item 3: the Node core creates its
region's project, then calls the API under the created id).

A state machine over the live mock interleaves IAM's create and list with jobs made and shown
under created, configured and made-up projects, and the control plane's reset: a job under a
project the account owns (the configured one, one it created and the reset has not forgotten)
works as under the configured one; under any other id, AK/SK or token alike, the answer is 401
APIGW.0301; an X-Auth-Token (scoped to the configured project) serves only that one. A project
of another domain (the same data dir served with another `--iam-domain`) is neither listed
nor served.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import plain_http
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from mock_server.faces.fixture import MockHandle
from mock_server.faces.inprocess import RunningMock
from short_jobs.signing import sign_request

COLLECTION = "/v1/{project}/voice-training-manage/user/short-jobs"
REGIONS = ("cn-east-3", "cn-north-4", "ap-southeast-1")  # cn-north-4: the mock's, it has one
NAMES = st.sampled_from(REGIONS) | st.builds(
    "{}_{}".format, st.sampled_from(REGIONS), st.sampled_from(["team", "qa"])
)


def call(
    base: str,
    ak: str,
    sk: str,
    method: str,
    path: str,
    body: object = None,
    token: str | None = None,
) -> httpx.Response:
    """`method path` on `base`, signed with the AK/SK (or sent with `token`)."""
    content = b"" if body is None else json.dumps(body).encode()
    headers = {"Host": urlsplit(base).netloc, "Content-Type": "application/json"}
    if token is not None:
        headers["X-Auth-Token"] = token
    else:
        headers.update(sign_request(method, path, headers, content, ak, sk))
    return plain_http.request(method, base + path, content=content, headers=headers, timeout=30)


def refused(response: httpx.Response) -> bool:
    return response.status_code == 401 and response.json()["error_code"] == "APIGW.0301"


class CreatedProjects(RuleBasedStateMachine):
    mock: MockHandle
    zip: bytes

    made = Bundle("made")  # ids of projects the mock made (forgotten by a reset: in `gone`)
    jobs = Bundle("jobs")  # (project id, job id)

    def __init__(self) -> None:
        super().__init__()
        self.projects: dict[str, str] = {}  # name -> id, created and not forgotten
        self.gone: set[str] = set()
        self.live_jobs: dict[str, str] = {}  # job id -> its project, until a reset
        self.committed: set[str] = set()  # consumed from `jobs`: never shown again
        self.domain = ""

    def api(self, method: str, path: str, body: object = None) -> httpx.Response:
        m = self.mock
        return call(m.url, m.ak, m.sk, method, path, body)

    def iam(self, method: str, path: str, body: object = None) -> httpx.Response:
        m = self.mock
        return call(m.iam_url, m.ak, m.sk, method, path, body)

    def owned(self, project: str) -> bool:
        return project == self.mock.project_id or project in self.projects.values()

    @initialize()
    def start(self) -> None:
        self.mock.reset()
        self.domain = self.iam("GET", "/v3/auth/domains").json()["domains"][0]["id"]

    @rule(target=made, name=NAMES)
    def create_project(self, name: str) -> Any:
        created = self.iam(
            "POST", "/v3/projects", {"project": {"name": name, "domain_id": self.domain}}
        )
        if name in self.projects or name == self.mock.region:
            assert created.status_code == 409, created.text
            return multiple()
        assert created.status_code == 201, created.text
        project = created.json()["project"]
        assert (project["name"], project["domain_id"]) == (name, self.domain)
        self.projects[name] = project["id"]
        return project["id"]

    @rule(name=NAMES)
    def list_by_name(self, name: str) -> None:
        found = self.iam("GET", f"/v3/projects?name={name}").json()["projects"]
        expected = [self.projects[name]] if name in self.projects else []
        if name == self.mock.region:
            expected = [self.mock.project_id]
        assert [p["id"] for p in found] == expected

    def _create_job(self, project: str) -> Any:
        answer = self.api("POST", COLLECTION.format(project=project), {"job_type": "VOICE_ASSESS"})
        if not self.owned(project):
            assert refused(answer), answer.text
            return multiple()
        assert answer.status_code == 200, answer.text
        job = answer.json()
        assert job["data_uploading_url"].startswith(self.mock.url)
        self.live_jobs[job["job_id"]] = project
        return (project, job["job_id"], job["data_uploading_url"])

    @rule(target=jobs, project=made)
    def job_under_a_created_project(self, project: str) -> Any:
        return self._create_job(project)

    @rule(target=jobs)
    def job_under_the_configured_project(self) -> Any:
        return self._create_job(self.mock.project_id)

    @rule(made_up=st.uuids())
    def job_under_a_made_up_project(self, made_up: uuid.UUID) -> None:
        self._create_job(made_up.hex)

    @rule(job=jobs)
    def show(self, job: tuple[str, str, str]) -> None:
        project, job_id, _ = job
        shown = self.api("GET", f"{COLLECTION.format(project=project)}/{job_id}")
        if not self.owned(project):
            assert refused(shown), shown.text
        elif job_id in self.live_jobs:
            assert shown.status_code == 200, shown.text
            assert shown.json()["job_id"] == job_id and shown.json()["state"] == "CREATING"
        elif job_id not in self.committed:  # the reset removed it; its project is still owned
            assert shown.status_code == 400, shown.text

    @rule(job=jobs, project=made)
    def show_under_another_owned_project(self, job: tuple[str, str, str], project: str) -> None:
        if project == job[0] or not self.owned(project):
            return
        shown = self.api("GET", f"{COLLECTION.format(project=project)}/{job[1]}")
        assert shown.status_code == 400 and "does not exist" in shown.json()["error_msg"]

    @rule(project=made)
    def a_token_serves_only_the_configured_project(self, project: str) -> None:
        m = self.mock
        path = COLLECTION.format(project=project)
        answer = call(m.url, m.ak, m.sk, "POST", path, {"job_type": "VOICE_ASSESS"}, m.token)
        assert refused(answer), answer.text

    @rule(job=consumes(jobs))
    def upload_and_commit(self, job: tuple[str, str, str]) -> None:
        """The rest of a job's path under its project: upload, commit, show it waiting."""
        project, job_id, url = job
        if not self.owned(project) or job_id not in self.live_jobs:
            return
        put = plain_http.put(url, content=self.zip, headers={"Content-Type": "application/zip"})
        assert put.status_code == 200, put.text
        path = f"{COLLECTION.format(project=project)}/{job_id}"
        assert self.api("POST", path).status_code == 200
        assert self.api("GET", path).json()["state"] in ("WAITING", "PROCESSING", "SUCCEED")
        self.live_jobs.pop(job_id)
        self.committed.add(job_id)

    @rule()
    def reset(self) -> None:
        self.mock.reset()
        self.gone |= set(self.projects.values())
        self.projects.clear()
        self.live_jobs.clear()

    @invariant()
    def forgotten_projects_are_not_served(self) -> None:
        for project in list(self.gone)[:2]:
            answer = self.api("GET", f"{COLLECTION.format(project=project)}/x")
            assert refused(answer), answer.text


@pytest.mark.slow  # seconds of its own: a state machine over real HTTP
def test_created_projects_are_served_until_the_reset(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    CreatedProjects.mock = short_jobs_mock
    CreatedProjects.zip = recordings.read_bytes()
    run_state_machine_as_test(
        CreatedProjects,
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_another_domains_project_is_neither_listed_nor_served(
    make_mock: Callable[..., AbstractContextManager[RunningMock]],
) -> None:
    """One data dir, served first for domain `alpha`, then for `beta`: alpha's project stays in
    the store but is not beta's."""
    with make_mock(iam_domain="alpha") as alpha:
        domain = call(alpha.iam_url, alpha.ak, alpha.sk, "GET", "/v3/auth/domains").json()
        body = {"project": {"name": "cn-east-3", "domain_id": domain["domains"][0]["id"]}}
        created = call(alpha.iam_url, alpha.ak, alpha.sk, "POST", "/v3/projects", body)
        assert created.status_code == 201, created.text
        project = created.json()["project"]["id"]
        job = call(
            alpha.url, alpha.ak, alpha.sk, "POST", COLLECTION.format(project=project),
            {"job_type": "VOICE_ASSESS"},
        )  # fmt: skip
        assert job.status_code == 200, job.text
    with make_mock(iam_domain="beta") as beta:
        listed = call(beta.iam_url, beta.ak, beta.sk, "GET", "/v3/projects").json()["projects"]
        assert [p["id"] for p in listed] == [beta.project_id]
        shown = call(
            beta.url, beta.ak, beta.sk, "GET",
            f"{COLLECTION.format(project=project)}/{job.json()['job_id']}",
        )  # fmt: skip
        assert refused(shown), shown.text
        assert "is not the credentials' project" in shown.json()["error_msg"]
