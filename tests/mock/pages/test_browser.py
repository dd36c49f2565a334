"""The docs page and the dashboard as a person sees them: rendered by headless Chromium.

Swagger UI builds its page with JavaScript, so these read the DOM Chromium has after the
scripts ran (`--dump-dom` with a virtual-time budget), not the HTML the server sent. Skipped,
with the reason, when Chromium is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

from pathlib import Path

import plain_http
import pytest
from browser import Chromium, Node, parse
from helpers import item

from mock_server.core.spec import spec_document
from mock_server.pytest_plugin import MockHandle

# every test here starts a browser
pytestmark = pytest.mark.slow


def rows(page: Node, table_id: str, row_class: str) -> list[dict[str, str]]:
    """The rows of a dashboard table, as {cell class or index: text}."""
    table = page.find("table", id=table_id)
    return [
        {
            (cell.classes[0] if cell.classes else str(i)): cell.text.strip()
            for i, cell in enumerate(row.find_all("td"))
        }
        for row in table.find_all("tr", cls=row_class)
    ]


def test_the_docs_page_shows_the_three_operations_of_the_spec(
    short_jobs_mock: MockHandle, chromium: Chromium
) -> None:
    page = parse(chromium.dump_dom(f"{short_jobs_mock.url}/ui/"))

    expected = {
        op["operationId"]: (method.upper(), path, op["summary"])
        for path, methods in spec_document()["paths"].items()
        for method, op in methods.items()
        if method != "parameters"
    }
    assert len(expected) == 3
    shown = {}
    for block in page.find_all("div", cls="opblock"):
        operation = block.attrs["id"].rsplit("-", 1)[-1]
        shown[operation] = (
            block.find(cls="opblock-summary-method").text,
            block.find(cls="opblock-summary-path").attrs["data-path"],
            block.find(cls="opblock-summary-description").text,
        )
    assert shown == expected
    # "Try it out" goes to this mock: the first server is the URL the page came from
    servers = page.find("div", cls="servers").find_all("option")
    assert servers[0].attrs["value"] == short_jobs_mock.url


def test_the_dashboard_shows_a_new_job_its_state_and_the_requests(
    short_jobs_mock: MockHandle, chromium: Chromium, recordings: Path
) -> None:
    m = short_jobs_mock
    m.set_progress("manual")
    job = m.client.create()
    m.client.upload(job, recordings)
    m.client.commit(job.job_id)
    m.fail_next("show_short_job", status=429, error_code="APIGW.0308", times=3)

    page = parse(chromium.dump_dom(f"{m.url}/_mock/ui/?refresh=0"))

    jobs = rows(page, "jobs", "job")
    assert [(j["id"], j["state"]) for j in jobs] == [(job.job_id, "WAITING")]
    requests = rows(page, "requests", "request")
    assert [(r["method"], r["operation"], r["status"]) for r in requests] == [
        ("POST", "commit_short_job", "200"),
        ("PUT", "upload", "200"),
        ("POST", "create_short_job", "200"),
    ]  # newest first
    assert all(r["path"].endswith(job.job_id) for r in requests[:1])
    (fault,) = rows(page, "faults", "fault")
    assert (fault["1"], fault["2"]) == ("show_short_job", "3")
    assert "manual" in page.find("p", id="progress").text


def test_values_a_client_sent_show_as_text_and_run_no_script(
    short_jobs_mock: MockHandle, chromium: Chromium
) -> None:
    m = short_jobs_mock
    # visible ASCII, as the spec allows in X-App-UserId; each payload would mark the page if run
    user = '"><script>document.body.dataset.pwned=1</script>'
    client = plain_http.client(base_url=m.url, headers={"X-Auth-Token": m.token}, timeout=30)
    with client:
        created = client.post(
            f"/v1/{m.project_id}/voice-training-manage/user/short-jobs",
            json={"job_type": "VOICE_ASSESS"},
            headers={"X-App-UserId": user},
        )
        assert created.status_code == 200, created.text
        # a space, not a control character: a path segment with one is no API (404, unjournaled)
        hostile_id = "<svg onload=document.body.dataset.pwned=2>"
        shown = client.get(item(m.server, hostile_id.replace(" ", "%20")))
        assert shown.status_code == 400

    dom = chromium.dump_dom(f"{m.url}/_mock/ui/?refresh=0")
    page = parse(dom)

    body = page.find("body")
    assert "data-pwned" not in body.attrs and "data-pwned" not in dom
    assert page.find_all("script") == [] and page.find_all("svg") == []
    (job,) = rows(page, "jobs", "job")
    assert job["user"] == user
    requests = rows(page, "requests", "request")
    assert requests[0]["path"].endswith("/" + hostile_id)
    assert requests[1]["user"] == user
