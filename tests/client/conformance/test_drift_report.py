"""The drift report leads with what matters and ends with every finding (issue 21, item 4).

Each drifted line of ``short-jobs conformance`` leads with its most serious finding (status,
then body schema and code, then headers), and the run ends with every finding listed, in the
plain text, ``--json`` and JUnit alike. The named input: a service answering 404 for an unknown
job (the contract says 400) and dropping ``X-Request-Id``; the family: any findings in any order.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from drift_proxy import Answer, drifting_proxy
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mock_server.faces.inprocess import RunningMock
from short_jobs.cli import app
from short_jobs.conformance.exchange import SEVERITY, Finding
from short_jobs.conformance.report import Outcome, Report, Result
from short_jobs.conformance.statements import STATEMENTS


def not_found_as_404_without_request_id(answer: Answer) -> None:
    if answer.status == 400:
        answer.status = 404
        answer.headers = {k: v for k, v in answer.headers.items() if k.lower() != "x-request-id"}


def test_the_named_drift_leads_with_the_404_and_lists_every_finding(
    mock: RunningMock, tmp_path: Path
) -> None:
    env = {
        "HUAWEICLOUD_SDK_AK": mock.ak,
        "HUAWEICLOUD_SDK_SK": mock.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": mock.project_id,
    }
    junit = tmp_path / "report.xml"
    with drifting_proxy(mock.url, not_found_as_404_without_request_id) as proxy:
        env["SHORT_JOBS_ENDPOINT"] = proxy.url
        text = CliRunner().invoke(app, ["conformance", "--junit-xml", str(junit)], env=env)
        as_json = CliRunner().invoke(app, ["conformance", "--json"], env=env)
    assert text.exit_code == 5, text.stderr
    lines = text.stdout.splitlines()
    line = next(x for x in lines if x.startswith("drifted") and " unknown-job " in x)
    assert "unknown-job           status: expected 400, got 404 MSS.00000003 (+2 more)" in line
    # The run ends with every finding, the hidden ones included.
    tail = lines[lines.index(next(x for x in lines if x.startswith("every finding"))) :]
    unknown = [x.split(None, 1)[1] for x in tail[1:] if x.split()[0] == "unknown-job"]
    assert [x.split(":")[0] for x in unknown] == ["status", "code-family", "required-headers"]
    assert "required-headers: expected a X-Request-Id header, got none" in unknown[-1]

    document = json.loads(as_json.stdout)
    entry = next(s for s in document["statements"] if s["id"] == "unknown-job")
    assert [f["check"] for f in entry["findings"]] == ["status", "code-family", "required-headers"]
    assert (entry["expected"], entry["got"]) == ("400", "404 MSS.00000003")
    every = [(f["id"], f["check"]) for f in document["findings"]]
    assert ("unknown-job", "required-headers") in every
    drifted = [s for s in document["statements"] if s["outcome"] == "drifted"]
    assert len(every) == sum(len(s["findings"]) for s in drifted)

    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    case = next(c for c in suite.iter("testcase") if c.get("name") == "unknown-job")
    failure = case.find("failure")
    assert failure is not None
    assert str(failure.get("message")).startswith("status: expected 400, got 404")
    assert "required-headers" in str(failure.text)
    listed = suite.findall("system-out")[-1].text or ""
    assert "unknown-job: required-headers: expected a X-Request-Id header" in listed


# --- the family: any findings, in any order ---------------------------------------------------

CHECKS = sorted({*SEVERITY, "body-schema", "media-type", "error-code", "code-family", "job-id"})
findings = st.lists(
    st.builds(
        Finding,
        st.sampled_from(CHECKS),
        st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8),
        st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
)


@given(st.lists(findings, min_size=1, max_size=4))
def test_every_rendering_leads_with_the_most_serious_and_lists_every_finding(
    drifts: list[list[Finding]],
) -> None:
    report = Report("http://127.0.0.1:9")
    report.results = [
        Result(statement, Outcome.DRIFTED, "got", f"rid-{n}", tuple(found))
        for n, (statement, found) in enumerate(zip(STATEMENTS, drifts, strict=False))
    ]
    text = report.text()
    document = json.loads(report.json())
    suite = ElementTree.fromstring(report.junit_xml()).find("testsuite")
    assert suite is not None
    for result, found in zip(report.results, drifts, strict=False):
        ranks = [f.severity for f in result.findings]
        assert ranks == sorted(ranks)
        assert sorted(map(str, result.findings)) == sorted(map(str, found))  # none lost
        worst = result.findings[0]
        line = next(
            x for x in text.splitlines() if x.startswith(f"drifted    {result.statement.id} ")
        )
        assert str(worst) in line
        entry = next(s for s in document["statements"] if s["id"] == result.statement.id)
        assert entry["findings"][0]["check"] == worst.check
        case = next(c for c in suite.iter("testcase") if c.get("name") == result.statement.id)
        failure = case.find("failure")
        assert failure is not None and str(failure.get("message")).startswith(str(worst))
    # The end of each rendering: every finding, statement by statement.
    every = [(r.statement.id, str(f)) for r in report.results for f in r.findings]
    tail = text.split("\nevery finding", 1)[1].splitlines()[1:]
    assert [(x.split()[0], x.split(None, 1)[1]) for x in tail] == every
    assert [
        (f["id"], str(Finding(f["check"], f["expected"], f["got"]))) for f in document["findings"]
    ] == every
    listed = (suite.findall("system-out")[-1].text or "").splitlines()[1:]
    assert listed == [f"{statement_id}: {finding}" for statement_id, finding in every]
