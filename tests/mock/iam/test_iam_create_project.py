"""The Node core's project auto-creation against the mock's IAM (issue 21, item 3), call by call
as `core/internal/services/iam.service.ts` (3.1.211) makes them when a region has no project:
GET /v3/projects?name=R (empty) -> GET /v3/regions (R is public) -> GET /v3/auth/domains ->
POST /v3/projects {"project": {"name": R, "domain_id": domains[0].id}} -> project.id. The Go and
Java cores (core/auth/internal/iam_service.go, core/.../auth/IamService.java) make the first and
third calls only and need exactly one project for the region: modelled in the last test (no Go or
Java toolchain was run)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import plain_http
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.core.spec import iam_spec_document
from mock_server.faces.fixture import MockHandle
from mock_server.iam.model import PUBLIC_REGIONS
from short_jobs.signing import sign_request

NODE_CREATE_TYPE = "application/json;charset=UTF-8"  # the Node core's keystoneCreateProject


def signed(m: MockHandle, method: str, path: str, body: object = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    content_type = "application/json" if body is None else NODE_CREATE_TYPE
    headers = {"Host": urlsplit(m.iam_url).netloc, "Content-Type": content_type}
    headers.update(sign_request(method, path, headers, content, m.ak, m.sk))
    return plain_http.request(
        method, m.iam_url + path, content=content, headers=headers, timeout=30
    )


def domain_id(m: MockHandle) -> str:
    return str(signed(m, "GET", "/v3/auth/domains").json()["domains"][0]["id"])


def test_the_node_cores_auto_creation_call_by_call(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    region = "cn-east-3"
    assert signed(m, "GET", f"/v3/projects?name={region}").json()["projects"] == []
    public = [r["id"] for r in signed(m, "GET", "/v3/regions").json()["regions"]]
    assert region in public
    body = {"project": {"name": region, "domain_id": domain_id(m)}}
    created = signed(m, "POST", "/v3/projects", body)
    assert created.status_code == 201, created.text
    assert created.headers["X-IAM-Trace-Id"]
    project = created.json()["project"]
    assert (project["name"], project["domain_id"]) == (region, body["project"]["domain_id"])
    # the next sign-in finds it, exactly once (what the Go and Java cores require)
    found = signed(m, "GET", f"/v3/projects?name={region}").json()["projects"]
    assert [p["id"] for p in found] == [project["id"]]
    again = signed(m, "POST", "/v3/projects", body)
    assert again.status_code == 409 and again.json()["error"]["code"] == 409
    assert [e["path"] for e in m.requests("iam")][-1] == "/v3/projects"
    m.reset()  # forgets created projects
    assert signed(m, "GET", f"/v3/projects?name={region}").json()["projects"] == []


def test_refusals(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    mine = domain_id(m)
    own = signed(m, "POST", "/v3/projects", {"project": {"name": m.region, "domain_id": mine}})
    assert own.status_code == 409  # the mock's region has its project
    other = {"project": {"name": "cn-east-3", "domain_id": "not-mine"}}
    assert signed(m, "POST", "/v3/projects", other).status_code == 403
    parent = {"project": {"name": "cn-east-3", "domain_id": mine, "parent_id": "x"}}
    assert signed(m, "POST", "/v3/projects", parent).status_code == 403
    bad = signed(m, "POST", "/v3/projects", {"project": {"name": "mars-1", "domain_id": mine}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400
    unsigned = plain_http.post(m.iam_url + "/v3/projects", json=other, timeout=30)
    assert unsigned.status_code == 401


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    region=st.sampled_from(PUBLIC_REGIONS),
    suffix=st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True),
)
def test_any_listed_region_or_sub_project_is_created_once(
    short_jobs_mock: MockHandle, region: str, suffix: str | None
) -> None:
    m = short_jobs_mock
    m.reset()
    name = region if suffix is None else f"{region}_{suffix}"
    body = {"project": {"name": name, "domain_id": domain_id(m)}}
    first = signed(m, "POST", "/v3/projects", body)
    if name == m.region:
        assert first.status_code == 409
        return
    assert first.status_code == 201, first.text
    assert signed(m, "POST", "/v3/projects", body).status_code == 409
    found = signed(m, "GET", f"/v3/projects?name={name}").json()["projects"]
    assert [p["id"] for p in found] == [first.json()["project"]["id"]]


def test_iam_yaml_names_the_listed_regions() -> None:
    operation = iam_spec_document()["paths"]["/v3/projects"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    pattern = schema["properties"]["project"]["properties"]["name"]["pattern"]
    listed = re.fullmatch(r"\^\((.*)\)\(.*", pattern)
    assert listed is not None and set(listed.group(1).split("|")) == set(PUBLIC_REGIONS)
    assert {"AkSk", "Token"} <= set(iam_spec_document()["components"]["securitySchemes"])


def test_the_go_and_java_cores_discovery_as_they_parse_it(short_jobs_mock: MockHandle) -> None:
    """Go: KeystoneListProjects needs len(projects) == 1, else an error; KeystoneListAuthDomains
    takes domains[0].id. Java: the same (IamService.keystoneListProjects / ...AuthDomains).
    Both send GET without a body and parse `projects[].id` / `domains[].id` only."""
    m = short_jobs_mock
    projects = signed(m, "GET", f"/v3/projects?name={m.region}").json()["projects"]
    assert len(projects) == 1 and projects[0]["id"] == m.project_id
    assert domain_id(m)
