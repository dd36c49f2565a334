"""The checks themselves: whatever a drifting service answers, they judge it and never crash.

A vendor's answer can be anything (a proxy's HTML page, truncated JSON, a new status), so the
checks are run over arbitrary statuses, media types and bodies: they must answer a list of
findings, and find nothing only when the answer is what the statement and the spec say.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from short_jobs.conformance.checks import reference_checks
from short_jobs.conformance.exchange import Exchange
from short_jobs.conformance.spec import Contract
from short_jobs.conformance.statements import STATEMENTS, by_id

CONTRACT = Contract.load()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"error_code": st.text(max_size=20), "error_msg": st.text(max_size=20)},
        optional={"request_id": st.text(max_size=20)},
    ).map(lambda value: json.dumps(value).encode()),
)
media_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/html", "application/xml", ""]
)


def exchange(status: int, media_type: str, body: bytes, request_id: bool = True) -> Exchange:
    headers: dict[str, str] = {"X-Request-Id": "r-1"} if request_id else {}
    if media_type:
        headers["Content-Type"] = media_type
    return Exchange("GET", "http://127.0.0.1/x", status, httpx.Headers(headers), body)


@given(
    statement_id=st.sampled_from([s.id for s in STATEMENTS]),
    status=st.integers(100, 599),
    media_type=media_types,
    body=bodies,
    request_id=st.booleans(),
)
@example("unknown-job", 404, "text/html", b"<html>Not Found</html>", True)
@example("upload-zip", 403, "application/xml", b"<Error><Code>AccessDenied", False)
def test_the_checks_judge_any_answer_without_crashing(
    statement_id: str, status: int, media_type: str, body: bytes, request_id: bool
) -> None:
    statement = by_id(statement_id)
    answer = exchange(status, media_type, body, request_id)
    findings = reference_checks(statement, answer, declared=True)
    if statement.operation != "upload":
        findings += CONTRACT.check(statement.operation, answer)
    assert all(f.check and isinstance(f.got, str) for f in findings)
    if status not in statement.status:
        assert "status" in {f.check for f in findings}


def error_body(code: str, **extra: Any) -> bytes:
    return json.dumps({"error_code": code, "error_msg": "m", **extra}).encode()


def test_the_expected_answer_has_no_findings() -> None:
    statement = by_id("unknown-job")
    answer = exchange(400, "application/json", error_body("MSS.00000003"))
    assert reference_checks(statement, answer, declared=True) == []
    assert CONTRACT.check("show_short_job", answer) == []


@given(code=st.from_regex(r"APIG(W)?\.0301", fullmatch=True))
def test_either_gateway_prefix_is_accepted(code: str) -> None:
    answer = exchange(401, "application/json", error_body(code, request_id="r-1"))
    assert reference_checks(by_id("wrong-token"), answer, declared=True) == []


def test_a_code_outside_its_statuss_family_is_found() -> None:
    answer = exchange(404, "application/json", error_body("MSS.00000003"))
    checks = {f.check for f in reference_checks(by_id("unknown-job"), answer, declared=True)}
    assert checks == {"status", "code-family"}
