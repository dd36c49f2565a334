"""Operations that overlap, over real HTTP (issue 19, item 1): a hypothesis state machine
interleaves creates, quick uploads, slow uploads that span other operations, commits, resets and
shows against one live mock, and checks after every step that nothing stored is lost or swapped.

The model: what a commit sees is exactly the upload complete when it arrived; an upload that
finishes after its job's commit is refused in OBS' shape (403 AccessDenied) and the committed
object stays byte for byte; one that finishes after a reset finds no job (404 NoSuchKey).
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import httpx
import plain_http
import pytest
from helpers import collection, item
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mock_server.faces.inprocess import RunningMock

HEADERS = {"Content-Type": "application/zip"}


def _zip(tag: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"take-{tag}.wav", f"not audio {tag}".encode() * 50)
    return out.getvalue()


@dataclass
class Job:
    job_id: str
    url: str
    complete: bytes | None = None  # the last upload that completed before any commit
    committed: bytes | None = None  # what the commit saw
    gone: bool = False  # removed by a reset


@dataclass
class SlowUpload:
    """A PUT whose last chunk waits until released: it spans whatever runs in between."""

    job: Job
    body: bytes
    release: threading.Event = field(default_factory=threading.Event)
    begun: threading.Event = field(default_factory=threading.Event)
    answer: list[httpx.Response] = field(default_factory=list)
    thread: threading.Thread | None = None
    refused_at_start: str | None = None  # "gone" or "committed": refused before its body

    def start(self) -> None:
        half = len(self.body) // 2

        def chunks() -> Iterator[bytes]:
            yield self.body[:half]
            self.begun.set()  # the headers and the first half are on the wire
            self.release.wait(30)
            yield self.body[half:]

        def send() -> None:
            with plain_http.client(timeout=60) as client:
                headers = {**HEADERS, "Content-Length": str(len(self.body))}
                self.answer.append(client.put(self.job.url, content=chunks(), headers=headers))

        self.thread = threading.Thread(target=send, daemon=True)
        self.thread.start()
        assert self.begun.wait(30), "the slow upload did not start"
        threading.Event().wait(0.05)  # and the server has read them (a bound, not a timing)

    def finish(self) -> httpx.Response:
        self.release.set()
        assert self.thread is not None
        self.thread.join(60)
        [answer] = self.answer
        return answer


class Overlaps(RuleBasedStateMachine):
    server: RunningMock

    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.http = plain_http.client(
            base_url=self.server.url, headers={"X-Auth-Token": self.server.token}, timeout=60
        )
        self.http.post("/_mock/reset", headers={"Content-Type": "application/json"})
        self.known: list[Job] = []
        self.slow: list[SlowUpload] = []
        self.tags = 0

    def teardown(self) -> None:
        for upload in self.slow:
            upload.release.set()
        for upload in self.slow:
            if upload.thread is not None:
                upload.thread.join(60)
        self.http.close()

    def _tag(self) -> bytes:
        self.tags += 1
        return _zip(self.tags)

    @rule(target=jobs)
    def create(self) -> Job:
        answer = self.http.post(collection(self.server), json={"job_type": "VOICE_ASSESS"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        job = Job(body["job_id"], body["data_uploading_url"])
        self.known.append(job)
        return job

    def _expect_upload(
        self, job: Job, body: bytes, answer: httpx.Response, refused_at_start: str | None = None
    ) -> None:
        """`refused_at_start`: why the job took no data when the upload's headers arrived (the
        endpoint answers that at once, whatever happens to the job while the body comes)."""
        if refused_at_start == "gone" or (refused_at_start is None and job.gone):
            assert answer.status_code == 404 and b"<Code>NoSuchKey</Code>" in answer.content
        elif refused_at_start == "committed" or job.committed is not None:
            assert answer.status_code == 403 and b"<Code>AccessDenied</Code>" in answer.content
        else:
            assert answer.status_code == 200, answer.text
            job.complete = body

    @rule(job=jobs)
    def upload(self, job: Job) -> None:
        body = self._tag()
        self._expect_upload(job, body, plain_http.put(job.url, content=body, headers=HEADERS))

    @precondition(lambda self: len(self.slow) < 3)
    @rule(job=jobs)
    def start_slow_upload(self, job: Job) -> None:
        upload = SlowUpload(job, self._tag())
        if job.gone:
            upload.refused_at_start = "gone"
        elif job.committed is not None:
            upload.refused_at_start = "committed"
        upload.start()
        self.slow.append(upload)

    @precondition(lambda self: self.slow)
    @rule(which=st.integers(min_value=0, max_value=2))
    def finish_slow_upload(self, which: int) -> None:
        upload = self.slow.pop(which % len(self.slow))
        self._expect_upload(upload.job, upload.body, upload.finish(), upload.refused_at_start)

    @rule(job=jobs)
    def commit(self, job: Job) -> None:
        answer = self.http.post(item(self.server, job.job_id))
        if job.gone:
            assert answer.status_code == 400 and answer.json()["error_code"] == "MSS.00000003"
        elif job.committed is not None or job.complete is None:
            assert answer.status_code == 400, answer.text
        else:
            assert answer.status_code == 200, answer.text
            job.committed = job.complete

    @rule(job=jobs)
    def show(self, job: Job) -> None:
        answer = self.http.get(item(self.server, job.job_id))
        if job.gone:
            assert answer.status_code == 400
        else:
            assert answer.status_code == 200, answer.text
            assert (answer.json()["state"] == "CREATING") == (job.committed is None)

    @rule()
    def reset(self) -> None:
        answer = self.http.post("/_mock/reset", headers={"Content-Type": "application/json"})
        assert answer.status_code == 200
        assert answer.json()["jobs_removed"] == sum(not job.gone for job in self.known)
        for job in self.known:
            job.gone = True

    @invariant()
    def nothing_stored_is_lost_or_swapped(self) -> None:
        area = self.server.app.service.uploads
        for job in self.known:
            if job.gone:
                assert not area.has(job.job_id)
            elif job.committed is not None:
                assert area.path(job.job_id).read_bytes() == job.committed
            elif job.complete is not None:
                assert area.path(job.job_id).read_bytes() == job.complete
            else:
                assert not area.has(job.job_id)


@pytest.fixture(scope="module")
def overlaps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[Overlaps]]:
    from mock_server.faces.inprocess import running_mock

    # a long processing time: the assessment (which reads the object) stays out of the way
    with running_mock(
        tmp_path_factory.mktemp("races"), processing_seconds=3600, control=True
    ) as server:
        Overlaps.server = server
        yield Overlaps


@pytest.mark.slow  # seconds of its own: a state machine over real HTTP
def test_overlapping_operations_lose_or_swap_nothing(overlaps: type[Overlaps]) -> None:
    run_state_machine_as_test(
        overlaps,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_an_upload_that_ends_after_the_commit_is_refused_and_changes_nothing(
    overlaps: type[Overlaps],
) -> None:
    """The issue's input: started before the commit, finished after it."""
    machine = overlaps()
    try:
        job = cast(Job, machine.create())
        machine.upload(job)
        first = job.complete
        machine.start_slow_upload(job)
        machine.commit(job)
        assert job.committed == first
        machine.finish_slow_upload(0)  # 403 AccessDenied, asserted by the model
        machine.nothing_stored_is_lost_or_swapped()
    finally:
        machine.teardown()
