"""The journal answers in explicit pages and the fixture reads them all: a count is never wrong
(issue 19, item 6). Real HTTP on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx
from helpers import create, item, token_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.pytest_plugin import MockHandle


def test_1001_shows_are_counted_1001_times(short_jobs_mock: MockHandle) -> None:
    server = short_jobs_mock.server
    with token_client(server) as client:
        job = create(client, server)
        for _ in range(1001):
            assert client.get(item(server, job["job_id"])).status_code == 200

    short_jobs_mock.assert_called("show_short_job", times=1001)
    assert len(short_jobs_mock.requests()) == 1002
    first = httpx.get(f"{server.url}/_mock/requests").json()
    assert len(first["requests"]) == 1000  # the default page
    assert first["more"] is True
    rest = httpx.get(
        f"{server.url}/_mock/requests", params={"since_id": first["next_since_id"]}
    ).json()
    assert len(rest["requests"]) == 2
    assert rest == {**rest, "more": False, "next_since_id": None}


def _read_pages(url: str, limit: int, params: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    since: int | None = None
    while True:
        query = {**params, "limit": limit, **({"since_id": since} if since is not None else {})}
        page = httpx.get(f"{url}/_mock/requests", params=query).json()
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

    whole = httpx.get(f"{server.url}/_mock/requests", params={**wanted, "limit": 10000}).json()
    assert whole["more"] is False
    paged = _read_pages(server.url, limit, wanted)
    assert paged == whole["requests"]
    assert short_jobs_mock.requests(**wanted) == whole["requests"]
    shows = calls.count("show") + calls.count("unknown")
    short_jobs_mock.assert_called("show_short_job", times=shows)
