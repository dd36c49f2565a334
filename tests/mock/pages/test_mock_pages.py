"""The docs paths and the dashboard over plain HTTP: what they answer, to whom, and what not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import plain_http
import pytest
import yaml
from browser import parse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.core.spec import control_document, spec_document
from mock_server.faces.inprocess import RunningMock, running_mock
from mock_server.http.routing import Route, RouteTable
from mock_server.pytest_plugin import MockHandle

# -- the contract and the docs page ---------------------------------------------------------------


def test_the_contract_is_served_as_json_and_yaml_without_credentials(mock: RunningMock) -> None:
    as_json = plain_http.get(f"{mock.url}/openapi.json")
    as_yaml = plain_http.get(f"{mock.url}/openapi.yaml")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert "x-request-id" in as_json.headers
    document = as_json.json()
    assert yaml.safe_load(as_yaml.text) == document
    # the contract, with this mock first among its servers
    contract = spec_document()
    assert document["servers"][0]["url"] == mock.url
    assert document["servers"][1:] == [s for s in contract["servers"] if s["url"] != mock.url]
    assert {k: v for k, v in document.items() if k != "servers"} == {
        k: v for k, v in contract.items() if k != "servers"
    }


def test_the_docs_page_is_swagger_ui_loading_the_contract(mock: RunningMock) -> None:
    page = plain_http.get(f"{mock.url}/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'url: "/openapi.json"' in page.text
    for asset in re.findall(r'(?:src|href)="\./([^"]+)"', page.text):
        response = plain_http.get(f"{mock.url}/ui/{asset}")
        assert response.status_code == 200, asset
    assert plain_http.get(f"{mock.url}/ui/index.html").text == page.text


@pytest.fixture(scope="module")
def default_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """One mock with the default settings (no control plane), shared by the cases below: each
    asks it for a path that is no API, which changes nothing (a mock per case was 8 starts)."""
    with running_mock(tmp_path_factory.mktemp("default-mock")) as server:
        yield server


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ui"),  # no redirects: only /ui/ is a page
        ("GET", "/ui/index.j2"),  # the template, not a page
        ("GET", "/ui/nothing-here.js"),
        ("GET", "/openapi.yml"),
        ("GET", "/openapi.json/"),
        ("POST", "/openapi.json"),
        ("DELETE", "/ui/"),
        ("GET", "/_mock/ui/"),  # without --control
    ],
)
def test_anything_else_near_the_docs_is_no_api(
    default_mock: RunningMock, method: str, path: str
) -> None:
    response = plain_http.request(method, default_mock.url + path)
    assert response.status_code == 404
    assert response.json()["error_code"] == "APIGW.0101"
    assert "location" not in response.headers


def test_the_route_table_holds_the_pages_on_exact_paths() -> None:
    pages = {"/openapi.json", "/ui/", "/_mock/ui/"}
    table = RouteTable.from_specs(spec_document(), control_document(), pages)
    for method, path in [("GET", "/openapi.json"), ("HEAD", "/ui/"), ("GET", "/_mock/ui/")]:
        assert table.match(method, path) == Route(path, {}, control=False, page=True)
    for method, path in [
        ("POST", "/openapi.json"),
        ("GET", "/openapi.json/"),
        ("GET", "/ui"),
        ("GET", "/ui//"),
        ("GET", "/_mock/ui"),
        ("PUT", "/_mock/ui/"),
    ]:
        assert table.match(method, path) is None, (method, path)
    # pages are no operations: faults, the journal and the gateway know none of them
    assert (
        table.operations()
        == RouteTable.from_specs(spec_document(), control_document()).operations()
    )


def test_pages_are_not_journaled(short_jobs_mock: MockHandle) -> None:
    for path in ("/openapi.json", "/openapi.yaml", "/ui/", "/ui/swagger-ui.css", "/_mock/ui/"):
        assert plain_http.get(short_jobs_mock.url + path).status_code == 200
    assert short_jobs_mock.requests() == []


# -- the dashboard --------------------------------------------------------------------------------


def test_the_dashboard_filters_the_journal_by_job_and_operation(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    m = short_jobs_mock
    first, second = m.client.create(), m.client.create()
    m.client.upload(first, recordings)
    m.client.show(second.job_id)

    def table(query: str, table_id: str, cls: str) -> list[list[str]]:
        response = plain_http.get(f"{m.url}/_mock/ui/{query}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        rows = parse(response.text).find("table", id=table_id).find_all("tr", cls=cls)
        return [[cell.text.strip() for cell in row.find_all("td")] for row in rows]

    everything = table("", "requests", "request")
    newest_first = ["show_short_job", "upload", "create_short_job", "create_short_job"]
    assert [r[4] for r in everything] == newest_first
    assert [int(r[0]) for r in everything] == sorted((int(r[0]) for r in everything), reverse=True)
    only_first = table(f"?job_id={first.job_id}", "requests", "request")
    assert [r[4] for r in only_first] == ["upload", "create_short_job"]
    assert [r[0] for r in table(f"?job_id={first.job_id}", "jobs", "job")] == [first.job_id]
    only_shows = table("?operation=show_short_job", "requests", "request")
    assert [(r[4], r[3].rsplit("/", 1)[-1]) for r in only_shows] == [
        ("show_short_job", second.job_id)
    ]
    assert table("?operation=nothing", "requests", "request") == []


def test_the_dashboard_refreshes_itself_unless_told_not_to(short_jobs_mock: MockHandle) -> None:
    def refresh(query: str) -> list[str]:
        page = parse(plain_http.get(f"{short_jobs_mock.url}/_mock/ui/{query}").text)
        return [m.attrs["content"] for m in page.find_all("meta", **{"http-equiv": "refresh"})]

    assert refresh("") == ["2"]
    assert refresh("?refresh=10") == ["10"]
    assert refresh("?refresh=0") == []
    assert refresh("?refresh=soon") == ["2"]


def test_the_dashboard_shows_faults_progress_and_outcomes(short_jobs_mock: MockHandle) -> None:
    m = short_jobs_mock
    m.set_progress("polls:3")
    m.delay_next(250, "create_short_job", times=2)
    job = m.client.create()
    m.set_state(job.job_id, "AUDIT_FAILED", job_failed_code="MSS.X", job_failed_reason="why <b>")

    page = parse(plain_http.get(f"{m.url}/_mock/ui/").text)
    assert "polls:3" in page.find("p", id="progress").text
    (fault,) = page.find("table", id="faults").find_all("tr", cls="fault")
    cells = [cell.text for cell in fault.find_all("td")]
    assert cells[1:3] == ["create_short_job", "1"] and cells[6] == "250"
    (row,) = page.find("table", id="jobs").find_all("tr", cls="job")
    assert row.find("td", cls="state").text == "AUDIT_FAILED"
    assert row.find("td", cls="outcome").text == "MSS.X: why <b>"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64))
@example(user='"><script>alert(1)</script>')
@example(user="&lt;&amp;'\"`")
def test_any_app_user_id_shows_as_the_same_text(short_jobs_mock: MockHandle, user: str) -> None:
    """Every X-App-UserId the spec allows (visible ASCII) reads back as itself: escaped, never
    markup, in both the jobs table and the journal."""
    m = short_jobs_mock
    created = plain_http.post(
        f"{m.url}/v1/{m.project_id}/voice-training-manage/user/short-jobs",
        json={"job_type": "VOICE_ASSESS"},
        headers={"X-Auth-Token": m.token, "X-App-UserId": user},
    )
    assert created.status_code == 200, created.text
    job_id = created.json()["job_id"]
    text = plain_http.get(f"{m.url}/_mock/ui/", params={"job_id": job_id}).text
    page = parse(text)
    cells = [cell.text for cell in page.find_all("td", cls="user")]
    assert cells == [user, user]  # the job, and its create request
    assert not {"script", "img", "svg", "iframe"} & {node.tag for node in page.iter()}


def test_a_job_id_filter_is_echoed_escaped(short_jobs_mock: MockHandle) -> None:
    hostile = '"><script>alert(1)</script>'
    text = plain_http.get(f"{short_jobs_mock.url}/_mock/ui/", params={"job_id": hostile}).text
    page = parse(text)
    assert page.find("input", name="job_id").attrs["value"] == hostile
    assert page.find_all("script") == []


def test_without_swagger_ui_bundle_the_contract_is_still_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mock_server.faces import banner
    from mock_server.http import docs

    monkeypatch.setattr(docs, "swagger_ui_dir", lambda: None)
    monkeypatch.setattr(banner, "swagger_ui_dir", lambda: None)
    without = docs.Docs(spec_document())
    assert not without.has_ui
    assert without.paths() == {"/openapi.json", "/openapi.yaml"}  # and no /ui/ page
    assert "pip install 'connexion[swagger-ui]'" in banner.startup_line(Settings(port=8000))
