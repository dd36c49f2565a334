"""The specs declare every answer the mock gives (issue 21, item 5): the checker the whole suite
runs under (spec_exchanges.py) flags an undeclared one, and the control plane's refusals of bad
input are declared."""

from __future__ import annotations

import httpx
import pytest
from spec_exchanges import VIOLATIONS, SpecOperations

from mock_server.core.spec import control_document
from mock_server.pytest_plugin import MockHandle

CONTROL = SpecOperations(control_document(), "/_mock")
JSON = {"Content-Type": "application/json"}


def test_an_undeclared_status_a_wrong_media_type_or_a_wrong_body_is_flagged() -> None:
    ok = b'{"mode": "timed"}'
    assert CONTROL.problem("GET", "/_mock/progress", 200, "application/json", ok) is None
    assert "not declared" in (
        CONTROL.problem("GET", "/_mock/progress", 418, "application/json", ok) or ""
    )
    assert "declared: application/json" in (
        CONTROL.problem("GET", "/_mock/progress", 200, "text/html", ok) or ""
    )
    assert "schema" in (
        CONTROL.problem("GET", "/_mock/progress", 200, "application/json", b"{}") or ""
    )
    assert CONTROL.problem("GET", "/elsewhere", 418, None, b"") is None  # no operation of it


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_mock/requests?limit=0", None),
        ("GET", "/_mock/requests?status=many", None),
        ("GET", "/_mock/requests?unknown=1", None),
        ("POST", "/_mock/faults", b'{"status": 700}'),
        ("POST", "/_mock/faults", b'{"times": 1}'),
        ("POST", "/_mock/faults", b"[1"),
        ("PUT", "/_mock/progress", b'{"mode": "sometimes"}'),
        ("PUT", "/_mock/progress", b"{}"),
        ("POST", "/_mock/reset", None),  # no JSON content type: 403
    ],
)
def test_the_control_planes_refusals_are_declared(
    short_jobs_mock: MockHandle, method: str, path: str, body: bytes | None
) -> None:
    headers = JSON if body is not None else {}
    response = httpx.request(method, short_jobs_mock.url + path, content=body, headers=headers)
    assert response.status_code in (400, 403), response.text
    found = list(VIOLATIONS)
    VIOLATIONS.clear()
    assert found == []
