"""The pages (dashboard, docs) answer 200 or 400, never 5xx, for any query string and any state
the journal, the faults and the jobs can be in (issue 19, item 4). Real HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx
import plain_http
import pytest
from helpers import collection, create, item, token_client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from mock_server.core.spec import spec_document
from mock_server.pytest_plugin import MockHandle
from mock_server.samples import make_zip, speech_like_wav_bytes

PAGES = ("/_mock/ui/", "/ui/", "/openapi.json", "/openapi.yaml")
JOB_STATES: list[str] = spec_document()["components"]["schemas"]["JobState"]["enum"]
FAILURE_STATES = ("FAILED", "SPLIT_FAILED", "AUDIT_FAILED", "USER_REVIEW_REJECT")

# Query strings as they go on the wire: names and values of any text, percent-encoded with
# different safe sets (so `&`, `=`, `+`, `%` and malformed escapes occur raw), and the names
# the dashboard reads.
_text = st.text(st.characters(codec="utf-8"), max_size=12)
_encoded = st.builds(
    quote, _text, safe=st.sampled_from(["", "&=+%;", "&=", "%"]), encoding=st.just("utf-8")
)
_name = st.one_of(st.sampled_from(["refresh", "job_id", "operation", "x", ""]), _encoded)
_value = st.one_of(
    st.sampled_from(["", "0", "2", "-1", "%B2", "%C2%B2", "%D9%A3", "%zz", "9" * 5000, "1e3"]),
    _encoded,
)
QUERY = st.lists(st.tuples(_name, _value), max_size=4).map(
    lambda pairs: "&".join(f"{name}={value}" for name, value in pairs)
)


def raw_get(url: str, target: str) -> int:
    """GET `target` exactly as given (httpx would re-encode it); the status answered."""
    where = urlsplit(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_a_superscript_refresh_is_the_default_not_a_500(short_jobs_mock: MockHandle) -> None:
    response = plain_http.get(f"{short_jobs_mock.url}/_mock/ui/?refresh=%C2%B2")
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in response.text


def test_a_cut_upload_in_the_journal_shows_as_no_answer(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    server = short_jobs_mock.server
    with token_client(server) as client:
        job = create(client, server)
    short_jobs_mock.cut_next_upload()
    with pytest.raises(httpx.HTTPError):
        plain_http.put(
            job["data_uploading_url"],
            content=recordings.read_bytes(),
            headers={"Content-Type": "application/zip"},
        )
    page = plain_http.get(f"{short_jobs_mock.url}/_mock/ui/?refresh=0")
    assert page.status_code == 200
    assert "no answer" in page.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.sampled_from(PAGES), query=QUERY)
@example(page="/_mock/ui/", query="refresh=%C2%B2")
@example(page="/_mock/ui/", query="refresh=" + "9" * 5000)
def test_any_query_string_on_any_page(short_jobs_mock: MockHandle, page: str, query: str) -> None:
    assert raw_get(short_jobs_mock.url, f"{page}?{query}") in (200, 400)


class PagesInAnyState(RuleBasedStateMachine):
    """Interleaves what changes the journal, the faults and the jobs with looks at the pages."""

    handle: ClassVar[MockHandle]
    zip_bytes: ClassVar[bytes]

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[dict[str, str]] = []
        self.client = token_client(self.handle.server)

    def teardown(self) -> None:
        self.client.close()

    @initialize()
    def start_empty(self) -> None:
        self.handle.reset()

    # a field value cannot begin or end with whitespace (RFC 9110 5.5: the OWS around it is not
    # part of it), and h11 refuses to send one that does
    @rule(
        user=st.text(
            st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8
        ).filter(lambda user: user == user.strip(" \t"))
    )
    def create_job(self, user: str) -> None:
        server = self.handle.server
        headers = {b"X-App-UserId": user.encode("utf-8")}  # UTF-8 bytes on the wire
        response = self.client.post(
            collection(server), json={"job_type": "VOICE_ASSESS"}, headers=headers
        )
        if response.status_code == 200:
            self.jobs.append(response.json())

    @rule(data=st.data(), good=st.booleans())
    def upload(self, data: st.DataObject, good: bool) -> None:
        if self.jobs:
            job = data.draw(st.sampled_from(self.jobs))
            body = self.zip_bytes if good else b"not a zip"
            # an armed `cut` fault breaks the answer off on purpose: no answer is an outcome here
            with contextlib.suppress(httpx.TransportError):
                plain_http.put(
                    job["data_uploading_url"],
                    content=body,
                    headers={"Content-Type": "application/zip"},
                )

    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        if self.jobs:
            job = data.draw(st.sampled_from(self.jobs))
            self.client.post(item(self.handle.server, job["job_id"]))

    @rule(data=st.data(), state=st.sampled_from(JOB_STATES), reason=_text)
    def set_state(self, data: st.DataObject, state: str, reason: str) -> None:
        if not self.jobs:
            return
        job = data.draw(st.sampled_from(self.jobs))
        body: dict[str, Any] = {"state": state}
        if state in FAILURE_STATES and reason:
            body["job_failed_reason"] = reason
        plain_http.put(f"{self.handle.url}/_mock/jobs/{job['job_id']}/state", json=body)

    @rule(
        operation=st.sampled_from([None, "create_short_job", "show_short_job", "upload"]),
        kind=st.sampled_from(["error", "latency", "cut", "upload-fail"]),
        status=st.integers(400, 599),
        code=_text.filter(bool),
        times=st.integers(1, 3),
    )
    def arm_fault(
        self, operation: str | None, kind: str, status: int, code: str, times: int
    ) -> None:
        spec: dict[str, Any] = {"times": times}
        if kind in ("cut", "upload-fail"):
            spec.update(operation="upload", upload=kind.removeprefix("upload-"))
        elif kind == "latency":
            spec.update(latency_ms=0)
        else:
            spec.update(status=status, error_code=code, error_msg=code)
        if operation is not None and "upload" not in spec:
            spec["operation"] = operation
        plain_http.post(f"{self.handle.url}/_mock/faults", json=spec)

    @rule(data=st.data())
    def show(self, data: st.DataObject) -> None:
        job_id = data.draw(
            st.sampled_from([job["job_id"] for job in self.jobs])
            if self.jobs
            else _encoded.filter(bool)
        )
        # an armed fault or an odd id: what the journal records is the point
        with contextlib.suppress(httpx.HTTPError):
            self.client.get(item(self.handle.server, job_id))

    @rule(path=_encoded, query=_encoded)
    def odd_request(self, path: str, query: str) -> None:
        raw_get(self.handle.url, f"/{path}?{query}")

    @rule(which=st.sampled_from(["requests", "faults", "reset"]))
    def clear(self, which: str) -> None:
        if which == "reset":
            self.handle.reset()
            self.jobs.clear()
        elif which == "requests":
            self.handle.clear_requests()
        else:
            self.handle.clear_faults()

    @rule(page=st.sampled_from(PAGES), query=QUERY)
    def look(self, page: str, query: str) -> None:
        assert raw_get(self.handle.url, f"{page}?{query}") in (200, 400)
        assert raw_get(self.handle.url, "/_mock/ui/?refresh=0") == 200


def test_the_pages_answer_in_any_state(short_jobs_mock: MockHandle, tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "one.zip", {"one.wav": speech_like_wav_bytes(seconds=1.0)})
    PagesInAnyState.handle = short_jobs_mock
    PagesInAnyState.zip_bytes = archive.read_bytes()
    run_state_machine_as_test(
        PagesInAnyState,
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
