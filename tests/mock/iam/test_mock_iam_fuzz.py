"""Malformed IAM requests of every kind get IAM's own answer, never a 5xx.

Bodies (raw bytes, any JSON, valid bodies with one part changed or removed), media types,
credentials headers and query strings are drawn at random; whatever comes in, the answer is a
4xx (or a success, for the inputs that stay valid) in Keystone's error shape with an
X-IAM-Trace-Id, as IAM answers.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import plain_http
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.core.spec import iam_spec_path
from mock_server.faces.inprocess import RunningMock, running_mock

TOKENS = ("POST", "/v3/auth/tokens")
SECURITY_TOKENS = ("POST", "/v3.0/OS-CREDENTIAL/securitytokens")
PROJECTS = ("GET", "/v3/projects")
ANSWERS = {200, 201, 400, 401, 404, 405, 413}
IAM_SPEC = iam_spec_path()


def valid_bodies(server: RunningMock) -> dict[str, Any]:
    return {
        TOKENS[1]: {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": server.iam_user,
                            "password": server.iam_password,
                            "domain": {"name": "d"},
                        }
                    },
                },
                "scope": {"project": {"name": server.region}},
            }
        },
        SECURITY_TOKENS[1]: {
            "auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}
        },
        PROJECTS[1]: {},
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
# header values h11 lets through: visible ASCII and obs-text, no CR, LF or NUL
header_values = st.binary(max_size=60).map(
    lambda raw: bytes(b for b in raw if 0x21 <= b <= 0x7E or b >= 0x80) or b"x"
)


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[list[int], str, Any]]:
    """(path of child indices, 'drop' | 'set', new value): applied to a valid body."""
    count = draw(st.integers(min_value=1, max_value=3))
    return [
        (
            draw(st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=6)),
            draw(st.sampled_from(["drop", "set"])),
            draw(json_values),
        )
        for _ in range(count)
    ]


def mutate(document: Any, changes: list[tuple[list[int], str, Any]]) -> Any:
    document = copy.deepcopy(document)
    for path, action, value in changes:
        parent, key = None, None
        node = document
        for index in path:
            if isinstance(node, dict) and node:
                key = sorted(node)[index % len(node)]
            elif isinstance(node, list) and node:
                key = index % len(node)
            else:
                break
            parent, node = node, node[key]
        if parent is None:
            document = value
        elif action == "drop" and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = value
    return document


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    method, path = draw(st.sampled_from([TOKENS, SECURITY_TOKENS, PROJECTS]))
    kind = draw(st.sampled_from(["mutated", "json", "bytes"]))
    return {
        "method": draw(st.sampled_from([method, method, "PUT", "DELETE"])),
        "path": path,
        "kind": kind,
        "changes": draw(mutations()) if kind == "mutated" else None,
        "json": draw(json_values) if kind == "json" else None,
        "bytes": draw(st.binary(max_size=200)) if kind == "bytes" else None,
        "content_type": draw(
            st.sampled_from(
                [
                    "application/json",
                    "application/json;charset=UTF-8",
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    None,
                ]
            )
        ),
        "headers": draw(
            st.dictionaries(
                st.sampled_from(
                    ["X-Auth-Token", "Authorization", "X-Security-Token", "X-Sdk-Date"]
                ),
                header_values,
                max_size=3,
            )
        ),
        "query": draw(
            st.dictionaries(
                st.sampled_from(["name", "nocatalog", "page", "enabled", "other"]),
                st.text(max_size=10),
                max_size=2,
            )
        ),
    }


def body_of(request: dict[str, Any], server: RunningMock) -> bytes:
    if request["kind"] == "bytes":
        raw: bytes = request["bytes"]
        return raw
    if request["kind"] == "json":
        return json.dumps(request["json"]).encode()
    document = mutate(valid_bodies(server)[request["path"]], request["changes"])
    return json.dumps(document).encode()


@pytest.fixture(scope="module")
def http() -> Any:
    with plain_http.client(timeout=30) as client:
        yield client


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
@example(
    request={
        "method": "POST",
        "path": TOKENS[1],
        "kind": "bytes",
        "bytes": b"{bad",
        "content_type": "application/json",
        "headers": {},
        "query": {},
    }
)
@example(
    request={
        "method": "POST",
        "path": SECURITY_TOKENS[1],
        "kind": "json",
        "json": {"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}}},
        "content_type": "application/json",
        "headers": {"Authorization": b"SDK-HMAC-SHA256 Access=nobody"},
        "query": {},
    }
)
@example(
    request={
        "method": "GET",
        "path": PROJECTS[1],
        "kind": "bytes",
        "bytes": b"",
        "content_type": None,
        "headers": {"X-Auth-Token": b"\xff\xfe"},
        "query": {"name": "cn-north-4", "other": "1"},
    }
)
def test_any_iam_request_gets_an_iam_answer(
    mock: RunningMock, http: httpx.Client, request: dict[str, Any]
) -> None:
    headers: dict[bytes, bytes] = {
        name.encode(): value for name, value in request["headers"].items()
    }
    if request["content_type"] is not None:
        headers[b"Content-Type"] = request["content_type"].encode()
    answer = http.request(
        request["method"],
        mock.iam_url + request["path"],
        content=body_of(request, mock),
        headers=headers,
        params=request["query"],
    )
    assert answer.status_code in ANSWERS, answer.text
    assert answer.headers["X-IAM-Trace-Id"]
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert error["code"] == answer.status_code
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["title"], str) and error["title"]
        assert "X-Subject-Token" not in answer.headers
    if answer.status_code == 405:
        assert request["method"] in ("PUT", "DELETE")
        assert answer.headers["Allow"] in ("GET", "POST", "GET, POST")


@pytest.mark.slow
def test_schemathesis_finds_nothing_in_iam(tmp_path: Path) -> None:
    """The IAM spec against the live IAM endpoint: every check, examples/coverage/fuzzing."""
    with running_mock(tmp_path / "mock-data") as server:
        config = tmp_path / "schemathesis.toml"
        config.write_text(f'[auth.openapi.Token]\napi_key = "{server.token}"\n')
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            str(IAM_SPEC),
            "--url",
            server.iam_url,
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--seed",
            "20261130",
        ]
        # run outside the repository: its schemathesis.toml is for openapi.yaml. The token goes
        # in as iam.yaml's Token scheme (not a fixed header), so that schemathesis can leave it
        # out to check that IAM refuses a request without it.
        done = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
        )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout
