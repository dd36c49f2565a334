"""``short-jobs conformance`` and the contract suite's statements, against the mock.

The statements (``short_jobs.conformance.statements.STATEMENTS``) are the contract suite's own:
one run against the session's mock judges them all, one test per statement. The command is then
run the way users run it (typer's runner, the CLI's global options from the environment):
against the mock, and against a proxy in front of the mock that drifts as a vendor's service
might, where each drift must be reported by name and the exit code must be 5.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import yaml
from drift_proxy import Answer, drifting_proxy
from helpers import ROOT
from typer.testing import CliRunner, Result

from mock_server.core.errors import Codes
from mock_server.faces.inprocess import RunningMock, running_mock
from mock_server.pytest_plugin import MockHandle
from short_jobs import AkSkAuth
from short_jobs.cli import app
from short_jobs.conformance.har import Recorder
from short_jobs.conformance.report import Outcome, Report
from short_jobs.conformance.runner import Options, Target, run
from short_jobs.conformance.spec import Contract
from short_jobs.conformance.statements import CODE_FAMILIES, STATEMENTS, UPLOAD

pytestmark = pytest.mark.usefixtures("clean_client_env")

SPEC = ROOT / "openapi.yaml"


def target_for(server: RunningMock, url: str | None = None) -> Target:
    auth = AkSkAuth(server.ak, server.sk, server.project_id)
    return Target(url or server.url, server.project_id, auth, keys=(server.ak, server.sk))


@pytest.fixture(scope="module")
def mock_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """One run of every statement against a mock of its own: the session's mock carries what
    other tests leave armed (a manual progress mode, faults) until the next test resets it."""
    options = Options(poll_interval=0.05, timeout=30)
    data_dir = tmp_path_factory.mktemp("conformance")
    with running_mock(data_dir, control=True, processing_seconds=0.2) as server:
        return run(target_for(server), options, Contract.load(), Recorder())


@pytest.mark.parametrize("statement_id", [s.id for s in STATEMENTS])
def test_the_mock_keeps_the_statement(mock_report: Report, statement_id: str) -> None:
    result = mock_report.result(statement_id)
    assert result.outcome is Outcome.HELD, result.line()


def test_every_statement_is_judged_once_in_the_lists_order(mock_report: Report) -> None:
    assert [r.statement.id for r in mock_report.results] == [s.id for s in STATEMENTS]
    assert len({s.id for s in STATEMENTS}) == len(STATEMENTS)


def test_statements_name_operations_and_statuses_the_spec_declares() -> None:
    contract = Contract.load()
    for statement in STATEMENTS:
        if statement.operation == UPLOAD:
            continue
        assert statement.operation in contract.operation_ids, statement.id
        for status in statement.status:
            assert contract.response(statement.operation, status) is not None, statement.id


def test_the_mocks_code_table_fits_the_code_families() -> None:
    """The mock's one table of codes and the reference's families the checks use agree."""
    for row in Codes.all():
        family = CODE_FAMILIES.get(row.status)
        if family is not None:
            assert family.fullmatch(row.code), row


# --- the command -------------------------------------------------------------------------------


def env_for(server: RunningMock, endpoint: str | None = None) -> dict[str, str]:
    return {
        "SHORT_JOBS_ENDPOINT": endpoint or server.url,
        "HUAWEICLOUD_SDK_AK": server.ak,
        "HUAWEICLOUD_SDK_SK": server.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": server.project_id,
    }


def conformance(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, ["conformance", "--timeout", "30", *args], env=env)


def parsed(result: Result) -> dict[str, Any]:
    assert result.stdout, (result.stderr, result.exception)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def outcomes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in document["statements"]}


def test_against_the_mock_every_statement_holds_and_exit_is_0(mock: RunningMock) -> None:
    result = conformance(env_for(mock))
    assert result.exit_code == 0, result.stdout


def test_against_the_mock_json_says_every_statement_held_and_what_was_spent(
    mock: RunningMock,
) -> None:
    result = conformance(env_for(mock), "--json")
    document = parsed(result)
    assert {v["outcome"] for v in outcomes(document).values()} == {"held"}
    assert result.exit_code == 0
    assert document["spent"]["jobs_created"] == 2
    assert document["spent"]["jobs_committed"] == 1


def test_text_output_is_one_line_per_statement_then_a_summary(mock: RunningMock) -> None:
    result = conformance(env_for(mock))
    lines = result.stdout.splitlines()
    assert len(lines) == len(STATEMENTS) + 1
    for line, statement in zip(lines, STATEMENTS, strict=False):
        outcome, statement_id = line[:10].strip(), line[11:].split()[0]
        assert (outcome, statement_id) in {("held", statement.id), ("drifted", statement.id)}
        assert "request_id=" in line
    assert lines[-1].startswith(f"{len(STATEMENTS)} statements: ")
    assert "create at most 2 job(s)" in result.stderr
    assert "no destructive call" in result.stderr


def test_max_jobs_caps_the_jobs_created(short_jobs_mock: MockHandle) -> None:
    result = conformance(env_for(short_jobs_mock.server), "--max-jobs", "1", "--json")
    document = outcomes(parsed(result))
    assert document["create-en"]["outcome"] == "not tried"
    assert document["create-cn"]["outcome"] == "held"
    assert len(short_jobs_mock.requests("create_short_job")) == 1

    short_jobs_mock.clear_requests()
    result = conformance(env_for(short_jobs_mock.server), "--max-jobs", "0", "--json")
    document = outcomes(parsed(result))
    assert short_jobs_mock.requests("create_short_job") == []
    assert document["create-cn"]["outcome"] == "not tried"
    assert document["commit"]["outcome"] == "not tried"
    assert document["unknown-job"]["outcome"] == "held"
    assert "create no job" in result.stderr


def test_no_destructive_method_is_ever_sent(short_jobs_mock: MockHandle) -> None:
    conformance(env_for(short_jobs_mock.server))
    methods = {entry["method"] for entry in short_jobs_mock.requests()}
    assert methods <= {"GET", "POST", "PUT"}


def test_token_auth_leaves_the_signature_statements_not_tried(mock: RunningMock) -> None:
    env = env_for(mock)
    del env["HUAWEICLOUD_SDK_AK"], env["HUAWEICLOUD_SDK_SK"]
    env["HUAWEICLOUD_SDK_TOKEN"] = mock.token
    document = outcomes(parsed(conformance(env, "--json")))
    assert document["wrong-signature"]["outcome"] == "not tried"
    assert document["skewed-date"]["outcome"] == "not tried"
    assert document["wrong-token"]["outcome"] == "held"
    assert document["show-final"]["outcome"] == "held"


def test_a_job_that_does_not_finish_in_time_exits_4(short_jobs_mock: MockHandle) -> None:
    short_jobs_mock.set_progress("manual")
    result = CliRunner().invoke(
        app,
        ["conformance", "--timeout", "0", "--json", "--max-jobs", "1"],
        env=env_for(short_jobs_mock.server),
    )
    document = outcomes(parsed(result))
    assert document["show-final"]["outcome"] == "not tried"
    assert "final state within 0 s" in document["show-final"]["reason"]
    assert document["show-result"]["outcome"] == "not tried"
    drifted = {k for k, v in document.items() if v["outcome"] == "drifted"}
    assert not drifted
    assert result.exit_code == 4


def test_refused_credentials_stop_before_any_job_and_exit_1(short_jobs_mock: MockHandle) -> None:
    env = {**env_for(short_jobs_mock.server), "HUAWEICLOUD_SDK_SK": "not-the-secret-key"}
    result = conformance(env)
    assert result.exit_code == 1
    assert "AuthError" in result.stderr and "refused the credentials" in result.stderr
    assert "Traceback" not in result.stderr
    assert short_jobs_mock.requests("create_short_job") == []


def test_no_credentials_exit_2_with_one_line(mock: RunningMock) -> None:
    result = CliRunner().invoke(app, ["--endpoint", mock.url, "conformance"], env={})
    assert result.exit_code == 2
    assert "no credentials" in result.stderr or "project id" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_spec_is_the_source_of_the_checks(mock: RunningMock, tmp_path: Path) -> None:
    """--spec with a create answer that must also carry job_name: create-cn drifts by it."""
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schema = document["components"]["schemas"]["CreateShortJobResponse"]
    schema["required"].append("job_name")
    changed = tmp_path / "openapi.yaml"
    changed.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = conformance(env_for(mock), "--json", "--spec", str(changed))
    entry = outcomes(parsed(result))["create-cn"]
    assert entry["outcome"] == "drifted"
    assert entry["findings"][0]["got"] == "'job_name' is a required property at $"
    assert result.exit_code == 5


def test_no_answer_exits_1_with_one_line(mock: RunningMock) -> None:
    result = conformance(env_for(mock, endpoint="http://127.0.0.1:9"))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("short-jobs conformance: NetworkError")


def test_without_the_extra_it_says_how_to_install_it(
    mock: RunningMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("short_jobs.conformance.spec", "short_jobs.conformance.runner"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    result = conformance(env_for(mock))
    assert result.exit_code == 1
    assert "pip install 'short-jobs-toolkit[conformance]'" in result.stderr


# --- a stand-in that drifts ---------------------------------------------------------------------


def _is_show(answer: Answer) -> bool:
    return answer.method == "GET" and "/short-jobs/" in answer.path


def drop_request_id_on_show(answer: Answer) -> None:
    if _is_show(answer):
        answer.headers = {k: v for k, v in answer.headers.items() if k.lower() != "x-request-id"}


def not_found_as_404(answer: Answer) -> None:
    if answer.status == 400:
        answer.status = 404


def rename_state(answer: Answer) -> None:
    body = answer.json() if _is_show(answer) and answer.status == 200 else None
    if isinstance(body, dict) and "state" in body:
        body["status"] = body.pop("state")
        answer.set_json(body)


def rename_upload_url(answer: Answer) -> None:
    body = answer.json() if answer.method == "POST" and answer.status == 200 else None
    if isinstance(body, dict) and "data_uploading_url" in body:
        body["upload_url"] = body.pop("data_uploading_url")
        answer.set_json(body)


def unknown_state(answer: Answer) -> None:
    body = answer.json() if _is_show(answer) and answer.status == 200 else None
    if isinstance(body, dict) and body.get("state") == "CREATING":
        body["state"] = "DRAFT"
        answer.set_json(body)


def gateway_error_without_request_id(answer: Answer) -> None:
    body = answer.json() if answer.status == 401 else None
    if isinstance(body, dict):
        body.pop("request_id", None)
        answer.set_json(body)


def create_answers_500(answer: Answer) -> None:
    if answer.method == "POST" and answer.path.endswith("/short-jobs"):
        answer.status = 500


NEED_A_JOB = {
    "job-id-format",
    "commit-before-upload",
    "upload-wrong-type",
    "upload-wrong-method",
    "upload-zip",
    "show-created",
    "commit",
    "second-commit",
    "show-final",
    "show-result",
}

DRIFTS = [
    pytest.param(
        drop_request_id_on_show,
        {"unknown-job": "required-headers", "show-created": "required-headers"},
        # Every GET of a job path answers without it: the credential probes are such GETs.
        {
            "show-final": "required-headers",
            "wrong-token": "required-headers",
            "wrong-signature": "required-headers",
            "skewed-date": "required-headers",
            "route-trailing-slash": "required-headers",
        },
        set(),
        id="drops-x-request-id",
    ),
    pytest.param(
        not_found_as_404,
        {"unknown-job": "status", "commit-before-upload": "status", "second-commit": "status"},
        {"unknown-job": "code-family"},
        set(),
        id="404-where-the-spec-says-400",
    ),
    pytest.param(
        rename_state,
        {"show-created": "body-schema", "show-final": "body-schema"},
        {},
        {"show-result"},
        id="renames-state",
    ),
    pytest.param(
        rename_upload_url,
        {"create-cn": "body-schema", "create-en": "body-schema"},
        {},
        NEED_A_JOB,
        id="renames-data-uploading-url",
    ),
    pytest.param(
        create_answers_500,
        {"create-cn": "status", "create-en": "status"},
        {},
        NEED_A_JOB,
        id="create-answers-500",
    ),
    pytest.param(
        unknown_state,
        {"show-created": "body-schema"},
        {},
        set(),
        id="new-job-state",
    ),
    pytest.param(
        gateway_error_without_request_id,
        {"wrong-token": "gateway-request-id", "wrong-signature": "gateway-request-id"},
        {"skewed-date": "gateway-request-id"},
        set(),
        id="gateway-error-without-request-id",
    ),
]


@pytest.mark.parametrize(("drift", "drifted", "also", "not_tried"), DRIFTS)
def test_each_drift_is_reported_by_name_and_exits_5(
    mock: RunningMock,
    tmp_path: Path,
    drift: Any,
    drifted: dict[str, str],
    also: dict[str, str],
    not_tried: set[str],
) -> None:
    junit = tmp_path / "conformance.xml"
    with drifting_proxy(mock.url, drift) as proxy:
        result = conformance(env_for(mock, proxy.url), "--json", "--junit-xml", str(junit))
    assert result.exit_code == 5, (result.stdout, result.stderr)
    document = outcomes(parsed(result))
    for statement_id, check in {**drifted, **also}.items():
        entry = document[statement_id]
        assert entry["outcome"] == "drifted", entry
        assert check in {finding["check"] for finding in entry["findings"]}, entry
        assert entry["request_id"] or check == "required-headers"
    for statement_id in not_tried:
        assert document[statement_id]["outcome"] == "not tried", document[statement_id]
    # Nothing else is blamed: every other statement held.
    blamed = {*drifted, *also, *not_tried}
    others = {k: v["outcome"] for k, v in document.items() if k not in blamed}
    assert set(others.values()) == {"held"}, others
    failures = ElementTree.parse(junit).getroot().iter("testcase")
    failed = {case.get("name") for case in failures if case.find("failure") is not None}
    assert set(drifted) <= failed


def test_a_drift_line_names_the_check_and_quotes_the_request_id(mock: RunningMock) -> None:
    with drifting_proxy(mock.url, not_found_as_404) as proxy:
        result = conformance(env_for(mock, proxy.url))
    line = next(x for x in result.stdout.splitlines() if " unknown-job " in x)
    assert line.startswith("drifted")
    assert "status: expected 400, got 404 MSS.00000003" in line
    request_id = line.rsplit("request_id=", 1)[1]
    assert request_id in {a.headers.get("x-request-id") for a in proxy.seen}


def test_junit_xml_has_one_case_per_statement(mock: RunningMock, tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    conformance(env_for(mock), "--junit-xml", str(junit), "--max-jobs", "1")
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [s.id for s in STATEMENTS]
    skipped = [case.get("name") for case in cases if case.find("skipped") is not None]
    assert skipped == ["create-en"]
    failed = sum(case.find("failure") is not None for case in cases)
    assert suite.get("failures") == str(failed) and suite.get("tests") == str(len(STATEMENTS))


# --- the HAR recording ----------------------------------------------------------------------


def _wire_secrets(proxy_seen: list[Answer], server: RunningMock) -> set[str]:
    """Every secret that crossed the wire (as the proxy saw it), and the configured ones."""
    found = {server.sk, server.ak, server.token}
    for answer in proxy_seen:
        for name, value in answer.request_headers.items():
            if name.lower() == "authorization":
                for part in value.split(","):
                    key, _, secret = part.strip().rpartition("=")
                    if key.endswith(("Access", "Signature")):
                        found.add(secret)
            elif name.lower() in ("x-auth-token", "x-security-token"):
                found.add(value)
        body = answer.json() if answer.status == 200 and answer.body[:1] == b"{" else None
        if isinstance(body, dict) and "data_uploading_url" in body:
            query = httpx.URL(body["data_uploading_url"]).params
            found.update({query["AccessKeyId"], query["Signature"]})
    return {s for s in found if s}


def _url_forms(secret: str) -> set[str]:
    from urllib.parse import quote

    return {secret, quote(secret, safe=""), quote(secret)}


HAR_SCHEMA: dict[str, Any] = {
    # The required members of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/).
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "startedDateTime",
                            "time",
                            "request",
                            "response",
                            "cache",
                            "timings",
                        ],
                        "properties": {
                            "request": {
                                "type": "object",
                                "required": [
                                    "method",
                                    "url",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "queryString",
                                    "headersSize",
                                    "bodySize",
                                ],
                            },
                            "response": {
                                "type": "object",
                                "required": [
                                    "status",
                                    "statusText",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "content",
                                    "redirectURL",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "content": {"type": "object", "required": ["size", "mimeType"]}
                                },
                            },
                            "timings": {"type": "object", "required": ["send", "wait", "receive"]},
                        },
                    },
                },
            },
        }
    },
}


@pytest.mark.parametrize("auth", ["ak-sk", "token"])
def test_the_har_file_keeps_every_exchange_and_no_secret(
    mock: RunningMock, tmp_path: Path, auth: str
) -> None:
    import jsonschema

    har = tmp_path / "run.har"
    with drifting_proxy(mock.url) as proxy:
        env = env_for(mock, proxy.url)
        if auth == "token":
            del env["HUAWEICLOUD_SDK_AK"], env["HUAWEICLOUD_SDK_SK"]
            env["HUAWEICLOUD_SDK_TOKEN"] = mock.token
        result = conformance(env, "--record", str(har), "--json")
    text = har.read_text(encoding="utf-8")
    document = json.loads(text)
    jsonschema.validate(document, HAR_SCHEMA)
    entries = document["log"]["entries"]
    assert len(entries) == parsed(result)["spent"]["requests"]
    assert {entry["comment"] for entry in entries} >= {"unknown-job", "create-cn", "upload-zip"}
    secrets = _wire_secrets(proxy.seen, mock)
    assert len(secrets) >= (6 if auth == "ak-sk" else 4)
    for secret in secrets:
        for form in _url_forms(secret):
            assert form not in text, f"a secret survived: {form[:4]}..."
    assert "REDACTED" in text


def test_a_run_cut_short_still_writes_its_har(mock: RunningMock, tmp_path: Path) -> None:
    har = tmp_path / "refused.har"
    env = {**env_for(mock), "HUAWEICLOUD_SDK_SK": "not-the-secret-key"}
    result = conformance(env, "--record", str(har))
    assert result.exit_code == 1
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    assert [entry["response"]["status"] for entry in entries] == [401]


# --- the docs' example (docs/conformance.md) -----------------------------------------------------

README = ROOT / "docs" / "conformance.md"


def readme_conformance_block() -> tuple[dict[str, str], list[list[str]]]:
    """The variables exported and the command lines of the README's mock example."""
    blocks = re.findall(
        r"```sh\n# conformance against the mock\n(.*?)```", README.read_text("utf-8"), re.S
    )
    assert len(blocks) == 1, f"{README.name} has no (or several) conformance examples"
    env: dict[str, str] = {}
    commands = []
    for line in blocks[0].splitlines():
        words = shlex.split(line)
        if words[:1] == ["export"]:
            env.update(word.split("=", 1) for word in words[1:])  # type: ignore[misc]
        elif words[:1] == ["short-jobs"]:
            commands.append(words[1:])
    return env, commands


def test_the_readme_example_runs_against_the_mock(
    mock: RunningMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, commands = readme_conformance_block()
    assert env == {
        "HUAWEICLOUD_SDK_AK": mock.ak,
        "HUAWEICLOUD_SDK_SK": mock.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": mock.project_id,
    }
    assert len(commands) == 2
    monkeypatch.chdir(tmp_path)
    for words in commands:
        args = [mock.url if word == "http://127.0.0.1:8000" else word for word in words]
        result = CliRunner().invoke(app, args, env=env)
        if "--json" in args:
            drifted = {k for k, v in outcomes(parsed(result)).items() if v["outcome"] == "drifted"}
        else:
            drifted = {
                line.split()[1] for line in result.stdout.splitlines() if line.startswith("drifted")
            }
        assert not drifted, result.stdout
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "conformance.xml").is_file()
