"""The journal answers in explicit pages and the fixture reads them all; the dashboard says how
many jobs and requests there are even when it shows only the newest: a count is never wrong
(issue 19, item 6). Real HTTP on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import plain_http
import pytest
from browser import parse
from helpers import create, item, token_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.pages import dashboard
from mock_server.pytest_plugin import MockHandle


def test_1001_shows_are_counted_1001_times(short_jobs_mock: MockHandle) -> None:
    server = short_jobs_mock.server
    with token_client(server) as client:
        job = create(client, server)
        for _ in range(1001):
            assert client.get(item(server, job["job_id"])).status_code == 200

    short_jobs_mock.assert_called("show_short_job", times=1001)
    assert len(short_jobs_mock.requests()) == 1002
    first = plain_http.get(f"{server.url}/_mock/requests").json()
    assert len(first["requests"]) == 1000  # the default page
    assert first["more"] is True
    rest = plain_http.get(
        f"{server.url}/_mock/requests", params={"since_id": first["next_since_id"]}
    ).json()
    assert len(rest["requests"]) == 2
    assert rest == {**rest, "more": False, "next_since_id": None}


def _read_pages(url: str, limit: int, params: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    since: int | None = None
    while True:
        query = {**params, "limit": limit, **({"since_id": since} if since is not None else {})}
        page = plain_http.get(f"{url}/_mock/requests", params=query).json()
        assert len(page["requests"]) <= limit
        assert (page["next_since_id"] is None) is (not page["more"])
        entries += page["requests"]
        if not page["more"]:
            return entries
        assert page["next_since_id"] == page["requests"][-1]["id"]
        since = page["next_since_id"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    calls=st.lists(st.sampled_from(["show", "unknown", "create"]), max_size=25),
    limit=st.integers(1, 7),
    wanted=st.sampled_from(
        [{}, {"operation": "show_short_job"}, {"status": 400}, {"method": "post"}]
    ),
)
def test_every_page_together_is_the_whole_filtered_journal(
    short_jobs_mock: MockHandle, calls: list[str], limit: int, wanted: dict[str, Any]
) -> None:
    short_jobs_mock.reset()
    server = short_jobs_mock.server
    with token_client(server) as client:
        job = create(client, server)
        for call in calls:
            if call == "create":
                create(client, server)
            else:
                job_id = job["job_id"] if call == "show" else "no-such-job"
                client.get(item(server, job_id))

    whole = plain_http.get(f"{server.url}/_mock/requests", params={**wanted, "limit": 10000}).json()
    assert whole["more"] is False
    paged = _read_pages(server.url, limit, wanted)
    assert paged == whole["requests"]
    assert short_jobs_mock.requests(**wanted) == whole["requests"]
    shows = calls.count("show") + calls.count("unknown")
    short_jobs_mock.assert_called("show_short_job", times=shows)


# -- the dashboard's counts ----------------------------------------------------------------------


def _dashboard(url: str, query: str = "") -> tuple[str, list[str]]:
    """The jobs table's heading and its rows' job ids."""
    page = parse(plain_http.get(f"{url}/_mock/ui/?refresh=0{query}").text)
    table = page.find("table", id="jobs")
    heading = next(h2.text for h2 in page.find_all("h2") if h2.text.startswith("Jobs ("))
    return heading, [
        row.find("td", cls="id").text.strip() for row in table.find_all("tr", cls="job")
    ]


def test_201_jobs_are_counted_201_on_the_dashboard_and_the_oldest_is_found(
    short_jobs_mock: MockHandle,
) -> None:
    """The page shows the newest 200 jobs: its heading said "Jobs (200)" for 201, and the
    oldest job's own filter (`?job_id=`) found nothing."""
    jobs = [short_jobs_mock.make_job("WAITING") for _ in range(dashboard.MAX_JOBS + 1)]
    heading, shown = _dashboard(short_jobs_mock.url)
    assert heading == f"Jobs ({len(jobs)}, newest {dashboard.MAX_JOBS} shown)"
    assert shown == jobs[:0:-1]
    assert _dashboard(short_jobs_mock.url, f"&job_id={jobs[0]}") == ("Jobs (1)", [jobs[0]])


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(made=st.integers(0, 7), page=st.integers(1, 4), pick=st.integers(0, 6))
def test_the_dashboard_counts_every_job_and_finds_each(
    short_jobs_mock: MockHandle, made: int, page: int, pick: int
) -> None:
    short_jobs_mock.reset()
    jobs = [short_jobs_mock.make_job("SUCCEED") for _ in range(made)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dashboard, "MAX_JOBS", page)
        heading, shown = _dashboard(short_jobs_mock.url)
        more = f", newest {page} shown" if made > page else ""
        assert heading == f"Jobs ({made}{more})"
        assert shown == jobs[::-1][:page]
        if jobs:
            wanted = jobs[pick % made]
            assert _dashboard(short_jobs_mock.url, f"&job_id={wanted}") == ("Jobs (1)", [wanted])
        assert _dashboard(short_jobs_mock.url, "&job_id=no-such-job") == ("Jobs (0)", [])
