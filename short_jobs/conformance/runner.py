"""Drive an endpoint through every statement of :data:`.statements.STATEMENTS` and judge it.

The API calls go through the generated client (``short_jobs_client``) on an httpx client that
carries the caller's auth (the facade's) and the HAR recorder's hook; the upload goes to the
pre-signed URL on a plain httpx client with no credentials, as the facade's does. Every answer
is judged by the same three layers: the spec (:class:`.spec.Contract`), the reference's error
rules (:mod:`.checks`), and the statement's own ``then``.

Order and cost: the probes that need no job come first (unknown job, unknown routes, bad
credentials: all GETs of a random job id), so wrong credentials stop the run before anything is
created. Then one job (CN) goes the whole way: commit before the upload, the two refused
uploads, the upload, show, commit, a second commit, polling to a final state; a second job (EN)
is only created. ``max_jobs`` caps the jobs; nothing is ever deleted (the API has no such call).
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from short_jobs.auth import AkSkAuth
from short_jobs.conformance.audio import SECONDS, recordings_zip
from short_jobs.conformance.checks import error_code, reference_checks
from short_jobs.conformance.exchange import Exchange, Finding
from short_jobs.conformance.har import Recorder
from short_jobs.conformance.report import Outcome, Report, Result
from short_jobs.conformance.spec import Contract
from short_jobs.conformance.statements import (
    FINAL_STATES,
    STATEMENTS,
    UPLOAD,
    Facts,
    Need,
    Statement,
    by_id,
)
from short_jobs.environment import tls_verify
from short_jobs.errors import AuthError, NetworkError
from short_jobs_client import Client
from short_jobs_client.api.short_jobs import commit_short_job, create_short_job, show_short_job
from short_jobs_client.models import CreateShortJobReq, Language, ShortJobType
from short_jobs_client.types import UNSET, Unset

__all__ = ["SKEW", "Options", "Target", "plan", "run"]

SKEW = timedelta(minutes=20)
"""How far off the skewed-date probe signs: beyond the gateway's 15 minutes (reference 3)."""
ZIP_CONTENT_TYPE = "application/zip"
WRONG_CONTENT_TYPE = "application/octet-stream"
INVALID_TOKEN = "short-jobs-conformance-invalid-token"
_TRANSIENT = frozenset({429, 500, 502, 503, 504})
_SIGNATURE = re.compile(r"(Signature=)([0-9a-fA-F]+)")


@dataclass(frozen=True)
class Target:
    """Where to run, and as whom.

    ``auth`` is the working credentials (the facade's ``auth``); ``keys`` the AK and SK when
    they are AK/SK ones, for the signature probes (``None`` with a token: those are not tried).
    """

    endpoint: str
    project_id: str
    auth: httpx.Auth
    keys: tuple[str, str] | None = None
    app_user_id: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class Options:
    max_jobs: int = 2
    """Jobs the run may create (CN first, then EN)."""
    timeout: float = 600.0
    """Seconds to wait for the committed job to reach a final state."""
    http_timeout: float = 60.0
    poll_interval: float = 0.2
    """First pause between polls, seconds (a small job is often done in a second); grows x1.5
    up to ``poll_cap``, so a long job costs few requests."""
    poll_cap: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def plan(target: Target, options: Options, zip_bytes: int) -> str:
    """What the run will spend, said before it starts (reference: cost and safety)."""
    jobs = min(options.max_jobs, 2)
    which = ["CN", "EN"][:jobs]
    created = f"create at most {jobs} job(s) ({', '.join(which)})" if jobs else "create no job"
    assess = (
        f"upload one zip of {SECONDS:g} s of generated audio ({zip_bytes} bytes) to the CN job "
        "and commit it (one assessment)"
        if jobs
        else "upload nothing and commit nothing"
    )
    wrong = (
        "2 of them signed wrongly on purpose (the gateway locks an AK for 5 minutes after 5 "
        "failures)"
        if target.keys
        else "none signed with AK/SK (a token is in use)"
    )
    # The probes (4, and 2 more with AK/SK), the CN job's 8 calls, the EN job's create.
    requests = 4 + 2 * (target.keys is not None) + 8 * (jobs > 0) + (jobs > 1)
    return (
        f"conformance: {target.endpoint} (project {target.project_id}). This run will {created}, "
        f"{assess}, and send {requests} requests plus the polls, {wrong}. "
        "It sends no destructive call: the API has none, and nothing is deleted."
    )


class _Tampered(httpx.Auth):
    """Signs with the working AK/SK auth, then changes one hex digit of the signature."""

    requires_request_body = True

    def __init__(self, inner: httpx.Auth) -> None:
        self._inner = inner

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = next(iter(self._inner.auth_flow(request)))
        header = signed.headers.get("Authorization", "")
        signed.headers["Authorization"] = _SIGNATURE.sub(
            lambda m: m[1] + m[2][:-1] + ("0" if m[2][-1] != "0" else "1"), header, count=1
        )
        yield signed


class _Run:
    def __init__(
        self, target: Target, options: Options, contract: Contract, recorder: Recorder
    ) -> None:
        self.target = target
        self.options = options
        self.contract = contract
        self.recorder = recorder
        self.facts = Facts()
        self.report = Report(target.endpoint)
        self.results: dict[str, Result] = {}
        timeout = httpx.Timeout(options.http_timeout, connect=10.0)
        hooks = recorder.hooks()
        self._verify = tls_verify(target.verify)  # one TLS context for all the run's clients
        self.api = httpx.Client(
            base_url=target.endpoint,
            auth=target.auth,
            timeout=timeout,
            verify=self._verify,
            event_hooks=hooks,
        )
        # No auth, no base URL: the upload URL and the bad-credential probes carry their own.
        self.plain = httpx.Client(timeout=timeout, verify=self._verify, event_hooks=hooks)
        self.client = Client(base_url=target.endpoint).set_httpx_client(self.api)
        self.random_job = str(uuid.uuid4())
        self.creates_sent = 0

    def close(self) -> None:
        self.api.close()
        self.plain.close()

    # --- judging -----------------------------------------------------------------------------

    def judge(
        self, statement: Statement, exchanges: Sequence[Exchange], *, reused: bool = False
    ) -> Result:
        """Check the answers; ``reused``: another statement's answers, already checked against
        the spec and the reference, so only this statement's ``then`` applies."""
        findings: list[Finding] = []
        for exchange in () if reused else exchanges:
            declared = True
            if statement.operation != UPLOAD:
                declared = self.contract.response(statement.operation, exchange.status) is not None
                findings += self.contract.check(statement.operation, exchange)
            findings += reference_checks(statement, exchange, declared)
        if statement.then is not None and not findings:
            findings += statement.then(exchanges, self.facts)
        last = exchanges[-1]
        outcome = Outcome.DRIFTED if findings else Outcome.HELD
        got = last.summary()
        if statement.operation == UPLOAD and last.status >= 400:
            got = f"{last.status} {error_code(last, UPLOAD)}"
        return Result(statement, outcome, got, last.request_id, tuple(findings))

    def record(self, result: Result) -> Result:
        self.results[result.statement.id] = result
        return result

    def missing(self, statement: Statement) -> str | None:
        """Why ``statement`` cannot be tried now, or ``None`` if it can."""
        have = {
            Need.AK_SK: self.target.keys is not None,
            Need.JOB: self.facts.job_id is not None,
            Need.UPLOADED: self.facts.uploaded,
            Need.COMMITTED: self.facts.committed,
            Need.FINAL: self.facts.final is not None,
        }
        for need in statement.needs:
            if not have[need]:
                if need is Need.JOB and self.options.max_jobs < 1:
                    return "a created job (--max-jobs 0)"
                return need.value
        # Creates sent, not jobs answered: a create that failed may still have made a job.
        sent = self.creates_sent
        if statement.creates_jobs and sent + statement.creates_jobs > self.options.max_jobs:
            return f"a job more than --max-jobs {self.options.max_jobs} allows"
        return None

    @contextmanager
    def trying(self, statement_id: str) -> Iterator[Statement | None]:
        """The statement if it can be tried (exchanges labelled with its id), else ``None``."""
        statement = by_id(statement_id)
        reason = self.missing(statement)
        if reason is not None:
            self.record(Result(statement, Outcome.NOT_TRIED, reason=reason))
            yield None
            return
        with self.recorder.step(statement_id):
            yield statement

    def send(self, call: Callable[[], object]) -> Exchange:
        """Send one request; the recorded answer, whatever the generated client made of it."""
        before = len(self.recorder.exchanges)
        try:
            call()
        except httpx.TransportError as exc:
            raise NetworkError(f"no answer from {self.target.endpoint}: {exc}") from exc
        except (ValueError, KeyError, TypeError):
            # The generated client could not read the answer; the checks will say why.
            pass
        if len(self.recorder.exchanges) == before:
            raise RuntimeError("the request went out but no answer was recorded")
        self.report.spent.requests += 1
        return self.recorder.exchanges[-1]

    def one(self, statement: Statement, call: Callable[[], object]) -> Exchange:
        exchange = self.send(call)
        self.record(self.judge(statement, [exchange]))
        return exchange

    # --- the calls -----------------------------------------------------------------------------

    @property
    def _user(self) -> str | Unset:
        return self.target.app_user_id if self.target.app_user_id is not None else UNSET

    def show(self, job_id: str, client: Client | None = None) -> Callable[[], object]:
        return lambda: show_short_job.sync_detailed(
            self.target.project_id, job_id, client=client or self.client, x_app_user_id=self._user
        )

    def commit(self, job_id: str) -> Callable[[], object]:
        return lambda: commit_short_job.sync_detailed(
            self.target.project_id, job_id, client=self.client, x_app_user_id=self._user
        )

    def create(self, language: Language) -> Callable[[], object]:
        self.creates_sent += 1
        body = CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS, language=language)
        return lambda: create_short_job.sync_detailed(
            self.target.project_id, client=self.client, body=body, x_app_user_id=self._user
        )

    def path(self, job_id: str | None = None) -> str:
        base = f"/v1/{self.target.project_id}/voice-training-manage/user/short-jobs"
        return base if job_id is None else f"{base}/{job_id}"

    def with_auth(self, auth: httpx.Auth) -> Client:
        http = httpx.Client(
            base_url=self.target.endpoint,
            auth=auth,
            timeout=self.api.timeout,
            verify=self._verify,
            event_hooks=self.recorder.hooks(),
        )
        return Client(base_url=self.target.endpoint).set_httpx_client(http)

    # --- the steps -----------------------------------------------------------------------------

    def probes(self) -> None:
        with self.trying("unknown-job") as statement:
            assert statement is not None
            answer = self.one(statement, self.show(self.random_job))
            if answer.status in (401, 403):
                body = answer.json_object()
                raise AuthError(
                    f"the endpoint refused the credentials ({answer.summary()}); "
                    "check --ak/--sk or --token and --project-id",
                    status=answer.status,
                    error_code=body.get("error_code"),
                    error_msg=body.get("error_msg"),
                    request_id=answer.request_id,
                )
        with self.trying("route-get-on-create") as statement:
            if statement:
                self.one(statement, lambda: self.api.get(self.path()))
        with self.trying("route-trailing-slash") as statement:
            if statement:
                self.one(statement, lambda: self.api.get(self.path(self.random_job) + "/"))
        with self.trying("wrong-token") as statement:
            if statement:
                url = self.target.endpoint + self.path(self.random_job)
                headers = {"X-Auth-Token": INVALID_TOKEN}
                self.one(statement, lambda: self.plain.get(url, headers=headers))
        with self.trying("wrong-signature") as statement:
            if statement:
                client = self.with_auth(_Tampered(self.target.auth))
                with client:
                    self.one(statement, self.show(self.random_job, client))
        with self.trying("skewed-date") as statement:
            if statement and self.target.keys:
                ak, sk = self.target.keys
                skewed = AkSkAuth(
                    ak, sk, self.target.project_id, clock=lambda: datetime.now(UTC) - SKEW
                )
                with self.with_auth(skewed) as client:
                    self.one(statement, self.show(self.random_job, client))

    def create_cn(self) -> None:
        with self.trying("create-cn") as statement:
            if statement:
                answer = self.one(statement, self.create(Language.CN))
                self.created(answer)
        with self.trying("job-id-format") as statement:
            if statement and self.facts.created is not None:
                self.record(self.judge(statement, [self.facts.created], reused=True))

    def created(self, answer: Exchange) -> None:
        if 200 <= answer.status < 300:
            self.report.spent.jobs_created += 1
        body = answer.json_object()
        job_id, url = body.get("job_id"), body.get("data_uploading_url")
        if answer.status == 200 and isinstance(job_id, str) and isinstance(url, str):
            self.facts.job_id, self.facts.upload_url, self.facts.created = job_id, url, answer
            self.recorder.add_secret_url(url)

    def uploads(self, zip_path: Path) -> None:
        data = zip_path.read_bytes()
        with self.trying("commit-before-upload") as statement:
            if statement and self.facts.job_id:
                self.one(statement, self.commit(self.facts.job_id))
        url = self.facts.upload_url or ""
        with self.trying("upload-wrong-type") as statement:
            if statement:
                headers = {"Content-Type": WRONG_CONTENT_TYPE}
                self.one(statement, lambda: self.plain.put(url, content=data, headers=headers))
        with self.trying("upload-wrong-method") as statement:
            if statement:
                self.one(statement, lambda: self.plain.get(url))
        with self.trying("upload-zip") as statement:
            if statement:
                headers = {"Content-Type": ZIP_CONTENT_TYPE}
                answer = self.one(
                    statement, lambda: self.plain.put(url, content=data, headers=headers)
                )
                if 200 <= answer.status < 300:
                    self.facts.uploaded = True
                    self.report.spent.bytes_uploaded += len(data)

    def lifecycle(self) -> None:
        job_id = self.facts.job_id or ""
        with self.trying("show-created") as statement:
            if statement:
                self.one(statement, self.show(job_id))
        with self.trying("commit") as statement:
            if statement:
                answer = self.one(statement, self.commit(job_id))
                if answer.status == 200:
                    self.facts.committed = True
                    self.report.spent.jobs_committed += 1
        with self.trying("second-commit") as statement:
            if statement:
                self.one(statement, self.commit(job_id))
        with self.trying("show-final") as statement:
            if statement:
                self.poll(statement, job_id)
        with self.trying("show-result") as statement:
            if statement and self.facts.final is not None:
                self.record(self.judge(statement, [self.facts.final], reused=True))

    def poll(self, statement: Statement, job_id: str) -> None:
        deadline = self.options.clock() + self.options.timeout
        pause = self.options.poll_interval
        seen: list[Exchange] = []
        while True:
            answer = self.send(self.show(job_id))
            if answer.status not in _TRANSIENT:
                seen.append(answer)
                state = answer.json_object().get("state")
                # Keep polling through states, even ones the spec does not know (a drift the
                # checks report); stop on an answer that is no job at all.
                if answer.status != 200 or not isinstance(state, str) or state in FINAL_STATES:
                    break
            if self.options.clock() + pause > deadline:
                break
            self.options.sleep(pause)
            pause = min(pause * 1.5, self.options.poll_cap)
        if not seen:
            seen.append(answer)
        result = self.judge(statement, seen)
        state = seen[-1].json_object().get("state")
        if state in FINAL_STATES and seen[-1].status == 200:
            self.facts.final = seen[-1]
        elif result.outcome is Outcome.DRIFTED and result.findings[0].check == "final-state":
            # Still running at the deadline: slow, not a drift of the contract.
            self.report.timed_out = True
            result = Result(
                statement,
                Outcome.NOT_TRIED,
                request_id=seen[-1].request_id,
                reason=f"a final state within {self.options.timeout:g} s (still {state})",
            )
        self.record(result)

    def create_en(self) -> None:
        with self.trying("create-en") as statement:
            if statement:
                answer = self.one(statement, self.create(Language.EN))
                if 200 <= answer.status < 300:
                    self.report.spent.jobs_created += 1
                url = answer.json_object().get("data_uploading_url")
                if isinstance(url, str):
                    self.recorder.add_secret_url(url)


def run(
    target: Target,
    options: Options,
    contract: Contract,
    recorder: Recorder,
    say: Callable[[str], None] = lambda _: None,
) -> Report:
    """Try every statement against ``target``; the report lists them in the list's order.

    Raises :class:`~short_jobs.errors.NetworkError` when the endpoint does not answer, and
    :class:`~short_jobs.errors.AuthError` when it refuses the credentials outright.
    """
    recorder.add_secret(target.keys[1] if target.keys else None)
    state = _Run(target, options, contract, recorder)
    try:
        with tempfile.TemporaryDirectory(prefix="short-jobs-conformance-") as tmp:
            zip_path = recordings_zip(Path(tmp))
            say(plan(target, options, zip_path.stat().st_size))
            state.probes()
            state.create_cn()
            state.uploads(zip_path)
            state.lifecycle()
            state.create_en()
    finally:
        state.close()
    report = state.report
    report.results = [state.results[s.id] for s in STATEMENTS]
    return report
