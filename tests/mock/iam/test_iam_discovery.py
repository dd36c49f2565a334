"""IAM's discovery calls the official SDK cores make during sign-in: auth domains and regions.

The Python core asks `GET /v3/auth/domains` for `GlobalCredentials` without a domain id; the Node
core (`core/internal/services/iam.service.ts`) also lists `GET /v3/regions` when a region has no
project. Signed with AK/SK here exactly as the SDKs sign (short_jobs.signing is pinned to the SDK).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import plain_http
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkmetastudio.v1 import MetaStudioClient

from mock_server.faces.fixture import MockHandle
from mock_server.iam.model import PUBLIC_REGIONS
from short_jobs.signing import sign_request


def signed_get(m: MockHandle, path: str, sk: str | None = None) -> httpx.Response:
    headers = {"Host": urlsplit(m.iam_url).netloc, "Content-Type": "application/json"}
    headers.update(sign_request("GET", path, headers, b"", m.ak, sk or m.sk))
    return plain_http.get(m.iam_url + path, headers=headers, timeout=30)


@pytest.mark.parametrize("path", ["/v3/auth/domains", "/v3/regions"])
def test_discovery_needs_a_caller(short_jobs_mock: MockHandle, path: str) -> None:
    answer = plain_http.get(short_jobs_mock.iam_url + path, timeout=30)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == 401
    assert answer.headers["X-IAM-Trace-Id"]


def test_auth_domains_answer_the_callers_domain(short_jobs_mock: MockHandle) -> None:
    answer = signed_get(short_jobs_mock, "/v3/auth/domains")
    assert answer.status_code == 200, answer.text
    (domain,) = answer.json()["domains"]
    projects = signed_get(short_jobs_mock, f"/v3/projects?name={short_jobs_mock.region}")
    assert domain["id"] == projects.json()["projects"][0]["domain_id"]


def test_regions_list_every_public_region_and_the_mocks(short_jobs_mock: MockHandle) -> None:
    answer = signed_get(short_jobs_mock, "/v3/regions")
    assert answer.status_code == 200, answer.text
    regions = {r["id"]: r["type"] for r in answer.json()["regions"]}
    assert regions[short_jobs_mock.region] == "public"
    assert set(regions) >= set(PUBLIC_REGIONS)
    assert set(regions.values()) == {"public"}


def test_a_wrong_sk_is_refused_in_iams_shape(short_jobs_mock: MockHandle) -> None:
    answer = signed_get(short_jobs_mock, "/v3/regions", sk="not-the-sk")
    assert answer.status_code == 401
    assert set(answer.json()["error"]) >= {"code", "message"}


def test_the_python_sdk_finds_the_domain_id(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    client: Any = (
        MetaStudioClient.new_builder()
        .with_credentials(BasicCredentials(m.ak, m.sk, m.project_id))
        .with_endpoints([m.url])
        .build()
    )
    credentials = GlobalCredentials(m.ak, m.sk).with_iam_endpoint(m.iam_url)
    found = credentials.process_auth_params(client.get_http_client(), m.region)
    domains = signed_get(m, "/v3/auth/domains").json()["domains"]
    assert found.domain_id == domains[0]["id"]


def test_iam_calls_are_journaled_without_secrets(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    signed_get(m, "/v3/regions")
    signed_get(m, "/v3/auth/domains", sk="wrong-iam-sk")
    entries = m.requests("iam")
    assert [(e["path"], e["status"]) for e in entries] == [
        ("/v3/regions", 200),
        ("/v3/auth/domains", 401),
    ]
    check = m.last_signature_check()
    assert check is not None and check["canonical_request"].startswith("GET\n/v3/auth/domains/\n")
    journal = str(m.requests())
    assert m.sk not in journal and "wrong-iam-sk" not in journal
