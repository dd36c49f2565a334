"""Operations that overlap across `--workers 2` processes (issue 19, item 1), over real HTTP.

One `python -m mock_server --workers 2 --control` serves the state machine; every request is
sent through the worker the rule chose (`worker_sockets.Workers` finds which process accepted a
connection). Overlap is real, not simulated:

- `together` writes two requests, one to each worker, before reading either answer (upload and
  upload, upload and commit, upload and reset, commit and commit, set_state and commit, ...);
- a slow upload sends its headers and half its body through one worker, and the rest only when
  a later rule says, so creates, uploads, commits, resets and set_state run while it is open;
- the assessment worker of each process assesses every committed job at once (the zips here are
  no audio, so it writes a FAILED outcome while the rules go on): set_state and reset meet it.

What must hold, whatever the interleaving:

- the answers of two requests sent together are those of one of their two orders (the model is
  a function of the operations: `apply`), and what is stored is what that order leaves;
- a commit sees exactly the upload complete when it arrived; an upload that finishes after its
  job was committed (or pinned by set_state) is refused in OBS' shape, 403 AccessDenied XML, one
  that finishes after a reset 404 NoSuchKey, and the stored object stays byte for byte;
- set_state wins over the worker: the job shows the state and fields the test set;
- a reset leaves nothing, no answer is a 5xx, no upload leaves a temporary file behind.

No answer is waited for by time: each read blocks until the server answers (bounded by the
socket timeout).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import sqlite3
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from helpers import free_port, machine_of, mock_process
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
from worker_sockets import AVAILABLE, Workers

from mock_server.core.config import DEFAULT_PROJECT_ID, DEFAULT_TOKEN

pytestmark = [
    pytest.mark.slow,  # a mock with --workers 2
    pytest.mark.skipif(not AVAILABLE, reason="finds the serving worker through Linux /proc"),
]

COLLECTION = f"/v1/{DEFAULT_PROJECT_ID}/voice-training-manage/user/short-jobs"
API = {"X-Auth-Token": DEFAULT_TOKEN, "Content-Type": "application/json"}
CONTROL = {"Content-Type": "application/json"}
ZIP = {"Content-Type": "application/zip"}

OPEN, CLOSED, GONE = "open", "closed", "gone"  # takes data; committed or pinned; reset
PROPERTY = {"expected": "a", "actual": "b", "suggestion": "", "suggestion_en": "", "status": 0}
SUGGESTION = "set by the test"
PINNED_RESULT: dict[str, Any] = {
    **dict.fromkeys(("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak"), PROPERTY),
    "suggestion": SUGGESTION,
}
FAILURE_STATES = ("FAILED", "SPLIT_FAILED", "AUDIT_FAILED", "USER_REVIEW_REJECT")
# set_state's targets: any state, CREATING (which reopens the upload) included
PIN_STATES = ("CREATING", "WAITING", "PROCESSING", "SUCCEED", *FAILURE_STATES, "AUDITING")
# set_job_progress's modes: with --processing-seconds 3600, `timed` never moves a job here
MODES = ("timed", "manual", "polls:1", "polls:2")
# What the assessment of every zip of this file decides (they hold no audio), as
# mock_server.assessment.assess_zip answers it: the outcome a polls:N step reaches
WORKER_CODE = "MSS.20000002"
STEPS = {"WAITING": "PROCESSING"}

# (state, job_failed_code, assess_result's suggestion): what a show answers beside the id
Shown = tuple[str, str | None, str | None]


# -- the model: what each operation answers and leaves, as a function ------------------------------


@dataclass(frozen=True)
class Entry:
    status: str = OPEN
    stored: bytes | None = None  # the job's object
    state: str = "CREATING"
    committed: bool = False  # since its last commit (set_state CREATING makes it uncommitted)
    progress: str = "timed"
    outcome: Shown | None = None  # one set_state stored; None: the assessment's, once committed
    counted: tuple[str, int] | None = None  # the shows counted in one state (polls:N)


@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None = None  # OBS' Code or the service's error_code
    detail: Any = None  # a show's Shown; a reset's count


Model = dict[str, Entry]
# How long the server may take to finish an upload whose client closed the connection (a bound).
CLOSE_SECONDS = 10.0
# ("upload", job_id, body), ("commit", job_id), ("reset",), ("show", job_id),
# ("set_state", job_id, state), ("progress", job_id, mode)
Op = tuple[Any, ...]


def apply(model: Model, op: Op) -> tuple[Answer, Model]:
    """What `op` answers in `model`, and the model after it."""
    kind = op[0]
    if kind == "reset":
        removed = sum(entry.status != GONE for entry in model.values())
        return Answer(200, None, removed), {job: Entry(GONE) for job in model}
    job = op[1]
    entry = model[job]
    after = dict(model)
    if kind == "upload":
        if entry.status == GONE:
            return Answer(404, "NoSuchKey"), model
        if entry.status == CLOSED:
            return Answer(403, "AccessDenied"), model
        after[job] = replace(entry, stored=op[2])
        return Answer(200), after
    if entry.status == GONE:  # commit, show, set_state, progress
        return Answer(400, "MSS.00000003"), model
    if kind == "commit":
        if entry.status != OPEN or entry.stored is None:
            return Answer(400, "MSS.00000003"), model
        after[job] = replace(entry, status=CLOSED, state="WAITING", committed=True)
        return Answer(200), after
    if kind == "show":
        entry = _count_show(entry)
    elif kind == "set_state":
        state = op[2]
        entry = replace(
            entry,
            status=OPEN if state == "CREATING" else CLOSED,
            state=state,
            progress="manual",
            counted=None,  # a fresh count from the set_state
            outcome=_pinned_outcome(job, state, entry),
            committed=entry.committed and state != "CREATING",  # reopened: its outcome gone
        )
    else:
        assert kind == "progress"
        entry = replace(entry, progress=op[2])
    after[job] = entry
    return Answer(200, None, _shown(entry)), after


def _pinned_outcome(job: str, state: str, entry: Entry) -> Shown | None:
    if state in FAILURE_STATES:
        return state, _code(job, state), None
    if state == "SUCCEED":
        return state, None, SUGGESTION
    return None if state == "CREATING" else entry.outcome


def _count_show(entry: Entry) -> Entry:
    """A show under polls:N: N shows in each state, then the step (steering.count_show)."""
    every = int(entry.progress.split(":")[1]) if entry.progress.startswith("polls:") else None
    if every is None or not entry.committed:
        return entry
    while True:
        before = entry.counted
        count = before[1] + 1 if before is not None and before[0] == entry.state else 1
        entry = replace(entry, counted=(entry.state, count))
        if count <= every:
            return entry
        if entry.state in STEPS:
            entry = replace(entry, state=STEPS[entry.state])
            continue  # the show that steps is the first in the new state
        if entry.state == "PROCESSING":  # to the outcome, once the assessment has one
            outcome = entry.outcome or ("FAILED", WORKER_CODE, None)
            return replace(entry, state=outcome[0], counted=None)
        return entry


def _code(job: str, state: str) -> str | None:
    return f"MSS.T{job[:8]}" if state in FAILURE_STATES else None


def _shown(entry: Entry) -> Shown:
    outcome = entry.outcome or (("FAILED", WORKER_CODE, None) if entry.committed else None)
    if outcome is not None and outcome[0] == entry.state:
        return outcome
    return entry.state, None, None


def stored(model: Model) -> dict[str, bytes]:
    return {
        job: entry.stored
        for job, entry in model.items()
        if entry.status != GONE and entry.stored is not None
    }


# -- the wire -------------------------------------------------------------------------------------


@dataclass
class Sent:
    """A request written to one worker's connection, its answer not read yet."""

    op: Op
    connection: http.client.HTTPConnection
    rest: bytes = b""  # the part of the body not sent yet (a slow upload)
    seen: set[str] = field(default_factory=set)  # the job's statuses while it was open

    def answer(self) -> Answer:
        try:
            if self.rest:
                # refused at its headers, the answer may be on its way already
                with contextlib.suppress(OSError):
                    self.connection.send(self.rest)
            response = self.connection.getresponse()
            body = response.read()
        finally:
            self.connection.close()
        assert response.status < 500, (self.op[0], response.status, body[:500])
        kind = response.getheader("content-type", "")
        if "xml" in kind:
            return Answer(response.status, ET.fromstring(body).findtext("Code"))
        data: dict[str, Any] = json.loads(body) if body else {}
        if response.status >= 400:
            return Answer(response.status, data["error_code"])
        if self.op[0] == "reset":
            return Answer(200, None, data["jobs_removed"])
        if self.op[0] in ("show", "set_state", "progress"):
            suggestion = (data.get("assess_result") or {}).get("suggestion")
            return Answer(200, None, (data["state"], data.get("job_failed_code"), suggestion))
        return Answer(response.status)


class Wire:
    """Requests to a chosen worker of the mock, and the job ids and URLs the mock gave."""

    def __init__(self, workers: Workers) -> None:
        self.workers = workers
        self.urls: dict[str, str] = {}

    def send(self, op: Op, worker: int, slow: bool = False) -> Sent:
        """Write `op` to a new connection to `worker` (with `slow`, only half its body)."""
        method, target, body, headers = self._request(op)
        connection = self.workers.connect_to(self.workers.pids[worker % 2])
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders()
        half = len(body) // 2 if slow else len(body)
        connection.send(body[:half])
        return Sent(op, connection, body[half:])

    def _request(self, op: Op) -> tuple[str, str, bytes, dict[str, str]]:
        kind = op[0]
        if kind == "reset":
            return "POST", "/_mock/reset", b"", CONTROL
        job = op[1]
        if kind == "upload":
            url = urlsplit(self.urls[job])
            return "PUT", f"{url.path}?{url.query}", op[2], ZIP
        if kind == "commit":
            return "POST", f"{COLLECTION}/{job}", b"", API
        if kind == "show":
            return "GET", f"{COLLECTION}/{job}", b"", API
        if kind == "progress":
            mode = json.dumps({"mode": op[2]}).encode()
            return "PUT", f"/_mock/jobs/{job}/progress", mode, CONTROL
        body: dict[str, Any] = {"state": op[2]}
        if op[2] == "SUCCEED":
            body["assess_result"] = PINNED_RESULT
        code = _code(job, op[2])
        if code is not None:
            body["job_failed_code"] = code
        return "PUT", f"/_mock/jobs/{job}/state", json.dumps(body).encode(), CONTROL

    def uploads_journaled(self, job: str) -> int:
        """How many uploads of `job` the journal holds (each once the server is done with it)."""
        connection = self.workers.connect_to(self.workers.pids[0])
        try:
            connection.request("GET", f"/_mock/requests?operation=upload&job_id={job}")
            response = connection.getresponse()
            body = json.loads(response.read())
        finally:
            connection.close()
        assert response.status == 200 and not body["more"], body
        return len(body["requests"])

    def create(self, worker: int) -> str:
        connection = self.workers.connect_to(self.workers.pids[worker % 2])
        try:
            connection.request("POST", COLLECTION, b'{"job_type": "VOICE_ASSESS"}', API)
            response = connection.getresponse()
            body = json.loads(response.read())
        finally:
            connection.close()
        assert response.status == 200, body
        self.urls[body["job_id"]] = body["data_uploading_url"]
        return str(body["job_id"])


# -- the state machine ----------------------------------------------------------------------------

_kinds = st.sampled_from(["upload", "commit", "reset", "show", "set_state", "progress"])
# set_state's state or set_job_progress's mode, whichever the kind takes
_arguments = st.sampled_from(PIN_STATES + MODES)


class AcrossWorkers(RuleBasedStateMachine):
    wire: Wire
    uploads: Path
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        reset = self.wire.send(("reset",), 0).answer()
        assert reset.status == 200
        self.model: Model = {}
        self.slow: list[Sent] = []
        self.zips = 0

    def teardown(self) -> None:
        # finish what is in flight (its answer is no longer checked), so no upload of this run
        # is still being received when the next one starts
        for upload in self.slow:
            upload.answer()

    def _op(self, kind: str, job: str, argument: str) -> Op:
        """The operation of `kind` on `job`; `argument`, a state or a mode, goes to the kind
        that takes it (to the other, its fixed counterpart: a mode's state, a state's mode)."""
        if kind == "upload":
            self.zips += 1
            return ("upload", job, _zip(self.zips))
        if kind == "reset":
            return ("reset",)
        if kind == "set_state":
            return ("set_state", job, argument if argument in PIN_STATES else "PROCESSING")
        if kind == "progress":
            return ("progress", job, argument if argument in MODES else "polls:1")
        return (kind, job)

    def _observe(self) -> None:
        for upload in self.slow:
            upload.seen.add(self.model[upload.op[1]].status)

    @rule(target=jobs, worker=st.integers(0, 1))
    def create(self, worker: int) -> str:
        job = self.wire.create(worker)
        self.model[job] = Entry()
        return job

    @rule(kind=_kinds, job=jobs, worker=st.integers(0, 1), argument=_arguments)
    def one(self, kind: str, job: str, worker: int, argument: str) -> None:
        op = self._op(kind, job, argument)
        expected, self.model = apply(self.model, op)
        assert self.wire.send(op, worker).answer() == expected, op[:2]
        self._observe()

    @rule(job=jobs, worker=st.integers(0, 1), times=st.integers(1, 4))
    def shows(self, job: str, worker: int, times: int) -> None:
        """Shows in a row, through one worker then the other (polls:N counts them all)."""
        for turn in range(times):
            self.one("show", job, worker + turn, "")

    @rule(job=jobs, worker=st.integers(0, 1), pin=st.one_of(st.none(), st.sampled_from(PIN_STATES)))
    def close(self, job: str, worker: int, pin: str | None) -> None:
        """A commit or a set_state: what closes a job's upload (drawn more often than by `one`,
        so that slow uploads meet it)."""
        self.one("commit" if pin is None else "set_state", job, worker, pin or "")

    @rule(
        kinds=st.tuples(_kinds, _kinds),
        jobs_=st.tuples(jobs, jobs),
        states=st.tuples(_arguments, _arguments),
        first=st.integers(0, 1),
    )
    def together(
        self,
        kinds: tuple[str, str],
        jobs_: tuple[str, str],
        states: tuple[str, str],
        first: int,
    ) -> None:
        """Two requests, one per worker, both written before either answer is read."""
        ops = [
            self._op(kind, job, state)
            for kind, job, state in zip(kinds, jobs_, states, strict=True)
        ]
        order = [first, 1 - first]
        sent = {index: self.wire.send(ops[index], index) for index in order}
        answers = [sent[0].answer(), sent[1].answer()]
        found = stored_now(self.uploads)
        orders = []
        for a, b in ((0, 1), (1, 0)):
            answer_a, middle = apply(self.model, ops[a])
            answer_b, after = apply(middle, ops[b])
            if (answers[a], answers[b]) == (answer_a, answer_b) and stored(after) == found:
                orders.append(after)
        assert orders, (
            f"{[op[:2] for op in ops]} answered {answers}, stored {sorted(found)}: in no order"
        )
        # both orders may answer alike (two set_states answer each its own state): the one the
        # store holds is the one that happened
        kept = [after for after in orders if self._holds(after, jobs_)] or orders
        self.model = kept[0]
        self._observe()

    @precondition(lambda self: len(self.slow) < 3)
    @rule(job=jobs, worker=st.integers(0, 1))
    def start_slow_upload(self, job: str, worker: int) -> None:
        upload = self.wire.send(self._op("upload", job, ""), worker, slow=True)
        upload.seen.add(self.model[job].status)
        self.slow.append(upload)

    @precondition(lambda self: self.slow)
    @rule(which=st.integers(0, 2))
    def finish_slow_upload(self, which: int) -> None:
        """The rest of a slow upload's body. It was checked at its headers in one of the
        statuses its job had while they were on their way (`seen`); if it passed that (open),
        it is installed, or refused, as the job is now."""
        upload = self.slow.pop(which % len(self.slow))
        answer = upload.answer()
        job = upload.op[1]
        at_headers = {apply({job: Entry(status)}, upload.op)[0] for status in upload.seen}
        allowed = at_headers - {Answer(200)}
        if OPEN in upload.seen:
            allowed.add(apply(self.model, upload.op)[0])
        assert answer in allowed, (answer, upload.seen, self.model[job].status)
        if answer == Answer(200):
            self.model = apply(self.model, upload.op)[1]

    @precondition(lambda self: not self.slow)
    @rule(job=jobs, worker=st.integers(0, 1), kind=_kinds, then=st.integers(0, 1))
    def upload_across_close(self, job: str, worker: int, kind: str, then: int) -> None:
        """A slow upload half sent, its connection closed by the client: nothing of it is
        stored, its temporary file goes, and the next request (through either worker) is
        answered as if it had never been sent."""
        before = self.wire.uploads_journaled(job)
        upload = self.wire.send(self._op("upload", job, ""), worker, slow=True)
        upload.connection.close()
        # the journal's entry is written once the server is done with the upload (its
        # temporary file removed): wait for that, bounded
        deadline = time.monotonic() + CLOSE_SECONDS
        while self.wire.uploads_journaled(job) == before:
            assert time.monotonic() < deadline, "the server never finished the closed upload"
            time.sleep(0.01)
        self.nothing_stored_is_lost_or_swapped()  # no temporary file left, nothing replaced
        self.one(kind, job, then, "polls:1")

    def _holds(self, model: Model, jobs_: tuple[str, str]) -> bool:
        """Whether the store (read as another SQLite reader) holds `jobs_` as `model` has them:
        state, mode, committed or not, and the shows counted in a state that steps."""
        uri = f"file:{self.uploads.parent / 'jobs.sqlite3'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            for job in set(jobs_):
                row = db.execute(
                    "SELECT state, progress, committed_at IS NOT NULL FROM jobs WHERE job_id = ?",
                    (job,),
                ).fetchone()
                entry = model[job]
                if row is None or entry.status == GONE:
                    if (row is None) != (entry.status == GONE):
                        return False
                    continue
                shows = db.execute(
                    "SELECT count FROM shows WHERE job_id = ? AND state = ?", (job, row[0])
                ).fetchone()
                counted = entry.counted[1] if entry.counted and entry.counted[0] == row[0] else 0
                if (row[0], row[1], bool(row[2])) != (entry.state, entry.progress, entry.committed):
                    return False
                if row[0] in ("WAITING", "PROCESSING") and (shows[0] if shows else 0) != counted:
                    return False
        return True

    @invariant()
    def nothing_stored_is_lost_or_swapped(self) -> None:
        assert stored_now(self.uploads) == stored(self.model)
        if not self.slow:
            assert list(self.uploads.glob(".incoming-*")) == []

    @invariant()
    def a_reset_leaves_no_row(self) -> None:
        """The store itself (read as another SQLite reader): the jobs are exactly those not
        reset, and nothing else names a job that was."""
        live = {job for job, entry in self.model.items() if entry.status != GONE}
        uri = f"file:{self.uploads.parent / 'jobs.sqlite3'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            assert {row[0] for row in db.execute("SELECT job_id FROM jobs")} == live
            assert {row[0] for row in db.execute("SELECT job_id FROM shows")} <= live


def stored_now(uploads: Path) -> dict[str, bytes]:
    return {path.stem: path.read_bytes() for path in uploads.glob("*.zip")}


def _zip(tag: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"take-{tag}.wav", f"not audio {tag}".encode() * 200)
    return out.getvalue()


@pytest.fixture(scope="module")
def across_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[AcrossWorkers]]:
    data = tmp_path_factory.mktemp("workers") / "data"
    port = free_port()
    options = ["--workers", "2", "--control", "--iam-port", "0", "--data-dir", str(data)]
    # a long processing time: committed jobs stay WAITING, whatever the assessment wrote
    options += ["--processing-seconds", "3600", "--log-level", "warning"]
    with mock_process(port, *options) as process:
        workers = Workers(process, port)
        workers.wait_started()
        AcrossWorkers.wire = Wire(workers)
        AcrossWorkers.uploads = data / "uploads"
        yield AcrossWorkers


def test_operations_through_two_workers_lose_or_swap_nothing(
    across_workers: type[AcrossWorkers],
) -> None:
    run_state_machine_as_test(
        across_workers,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_an_upload_through_one_worker_ending_after_a_commit_through_the_other(
    across_workers: type[AcrossWorkers],
) -> None:
    """The issue's input across processes: it started before the commit and ended after it."""
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(0))
        machine.one("upload", job, 0, "WAITING")
        first = machine.model[job].stored
        machine.start_slow_upload(job, 0)
        machine.one("commit", job, 1, "WAITING")
        machine.finish_slow_upload(0)  # 403 AccessDenied, asserted by the model
        machine.nothing_stored_is_lost_or_swapped()
        assert stored_now(machine.uploads)[job] == first


def test_commit_and_commit_together_one_wins(across_workers: type[AcrossWorkers]) -> None:
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(1))
        machine.one("upload", job, 1, "WAITING")
        machine.together(("commit", "commit"), (job, job), ("WAITING", "WAITING"), 0)
        machine.one("show", job, 0, "WAITING")


def test_set_state_together_with_the_commit_the_worker_assesses(
    across_workers: type[AcrossWorkers],
) -> None:
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(0))
        machine.one("upload", job, 0, "WAITING")
        machine.together(("commit", "set_state"), (job, job), ("WAITING", "SUCCEED"), 1)
        for worker in (0, 1):
            machine.one("show", job, worker, "WAITING")


def test_polls_counts_the_shows_of_both_workers(across_workers: type[AcrossWorkers]) -> None:
    """polls:2 through alternating workers: WAITING twice, PROCESSING twice, then the
    assessment's outcome (the model's answers)."""
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(0))
        machine.one("upload", job, 0, "")
        machine.one("commit", job, 1, "")
        machine.one("progress", job, 0, "polls:2")
        machine.shows(job, 1, 4)
        assert machine.model[job].state == "PROCESSING"
        machine.one("show", job, 0, "")
        assert machine.model[job].state == "FAILED"


def test_polls_counts_afresh_from_a_set_state(across_workers: type[AcrossWorkers]) -> None:
    """A show counted under polls:2, then set_state(WAITING) and polls:2 again: two more
    WAITING shows before PROCESSING, not one (the count starts at the set_state)."""
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(1))
        machine.one("upload", job, 1, "")
        machine.one("commit", job, 0, "")
        machine.one("progress", job, 1, "polls:2")
        machine.one("show", job, 0, "")
        machine.one("set_state", job, 1, "WAITING")
        machine.one("progress", job, 0, "polls:2")
        machine.shows(job, 0, 3)  # WAITING, WAITING, PROCESSING
        assert machine.model[job].state == "PROCESSING"


@pytest.mark.parametrize("pinned", ["SUCCEED", "FAILED"])
def test_a_reopened_job_is_assessed_afresh_on_its_recommit(
    across_workers: type[AcrossWorkers], pinned: str
) -> None:
    """Assessed (here: an outcome set by set_state), reopened by set_state(CREATING), uploaded
    again and re-committed: polls:1 leads it to the new assessment's outcome, never the old."""
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(0))
        machine.one("upload", job, 0, "")
        machine.one("commit", job, 1, "")
        machine.one("set_state", job, 0, pinned)
        machine.one("set_state", job, 1, "CREATING")
        machine.one("upload", job, 0, "")
        machine.one("commit", job, 1, "")
        machine.one("progress", job, 0, "polls:1")
        machine.shows(job, 1, 3)  # WAITING, PROCESSING, the assessment's FAILED
        assert machine.model[job].state == "FAILED"


def test_a_reopened_job_is_not_committed(across_workers: type[AcrossWorkers]) -> None:
    """set_state(CREATING) after a commit: until it is committed again, polls:N has nothing to
    count (a show of it stays where set_state puts it)."""
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(1))
        machine.one("upload", job, 1, "")
        machine.one("commit", job, 0, "")
        machine.one("set_state", job, 1, "CREATING")
        machine.one("set_state", job, 0, "WAITING")
        machine.one("progress", job, 1, "polls:1")
        machine.shows(job, 0, 3)
        assert machine.model[job].state == "WAITING"


def test_two_shows_together_are_two_counts(across_workers: type[AcrossWorkers]) -> None:
    """polls:1, one WAITING show counted; then two shows at once, one per worker: one takes the
    step to PROCESSING, the other, counted after it, the step to the outcome."""
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(0))
        machine.one("upload", job, 0, "")
        machine.one("commit", job, 1, "")
        machine.one("progress", job, 0, "polls:1")
        machine.one("show", job, 1, "")
        machine.together(("show", "show"), (job, job), ("", ""), 0)
        assert machine.model[job].state == "FAILED"


def test_an_upload_closed_half_way_leaves_nothing(across_workers: type[AcrossWorkers]) -> None:
    with machine_of(across_workers) as machine:
        job = cast(str, machine.create(0))
        machine.one("upload", job, 1, "")
        machine.upload_across_close(job, 0, "commit", 1)  # the first upload is what commits
        machine.upload_across_close(job, 1, "show", 0)  # refused at its headers: closed
