"""The `short_jobs_mock` fixture's value: a running mock, its credentials, a client, its switches.

Client-side code only (httpx and the `short_jobs` facade); the server it drives is started by
`mock_server.faces.inprocess`. Import it from `mock_server.pytest_plugin` (`MockHandle`,
`ControlPlaneError`).
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from mock_server.faces.expectations import check_called, matching
from short_jobs import AsyncShortJobs, ShortJobs
from short_jobs.environment import tls_verify

if TYPE_CHECKING:
    from mock_server.core.config import Settings
    from mock_server.faces.inprocess import RunningMock


# Entries per GET /_mock/requests while `requests()` reads the whole journal (control.yaml's
# maximum: fewer round trips).
JOURNAL_PAGE = 10000


def tls_context() -> ssl.SSLContext:
    """The fixture's clients' TLS context: the process's one context for the CA setting
    (`short_jobs.environment.tls_verify`), so no client reads the CA bundle again."""
    context = tls_verify(True)
    assert isinstance(context, ssl.SSLContext)
    return context


class ControlPlaneError(Exception):
    """The control plane refused a call (a bad argument, or an unknown job)."""


class MockHandle:
    """The running mock, its credentials, a ready client, and the control plane's switches."""

    def __init__(self, server: RunningMock) -> None:
        self.server = server
        self._control = httpx.Client(
            base_url=f"{server.url}/_mock", timeout=30, verify=tls_context()
        )
        self._client: ShortJobs | None = None
        # What this handle moved the mock's clock by (since its last reset): its clients sign
        # with the mock's time, so a moved clock expires tokens and URLs, not their requests.
        self._offset = 0.0

    # -- where it is and who may call it -------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def project_id(self) -> str:
        return self.server.project_id

    @property
    def ak(self) -> str:
        return self.server.ak

    @property
    def sk(self) -> str:
        return self.server.sk

    @property
    def token(self) -> str:
        return self.server.token

    @property
    def iam_url(self) -> str:
        """The mock's IAM endpoint (`HUAWEICLOUD_SDK_IAM_ENDPOINT`)."""
        return self.server.iam_url

    @property
    def region(self) -> str:
        """The project's region: its name in IAM."""
        return self.server.region

    @property
    def iam_user(self) -> str:
        return self.server.iam_user

    @property
    def iam_password(self) -> str:
        return self.server.iam_password

    @property
    def settings(self) -> Settings:
        return self.server.settings

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    @property
    def client(self) -> ShortJobs:
        """A `ShortJobs` for this mock, AK/SK-signed like the official SDK (at the mock's time:
        `advance_clock` moves its signing clock too)."""
        if self._client is None:
            self._client = ShortJobs(
                self.url,
                project_id=self.project_id,
                ak=self.ak,
                sk=self.sk,
                poll_interval=0.05,
                signing_clock=self.mock_time,
                verify=tls_context(),
            )
        return self._client

    def mock_time(self) -> datetime:
        """The mock's clock as this handle moved it (UTC): what its clients sign with."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def async_client(self, **options: Any) -> AsyncShortJobs:
        """A new `AsyncShortJobs` for this mock (close it, or use `async with`)."""
        options.setdefault("poll_interval", 0.05)
        options.setdefault("signing_clock", self.mock_time)
        options.setdefault("verify", tls_context())
        return AsyncShortJobs(
            self.url, project_id=self.project_id, ak=self.ak, sk=self.sk, **options
        )

    def close(self) -> None:
        self._control.close()
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- the control plane -----------------------------------------------------------------------

    def reset(self) -> int:
        """Forget every job, upload, journal entry, fault, IAM token and temporary credential,
        and set the mock's clock back to now; answer how many jobs there were."""
        removed: int = self._call("POST", "/reset")["jobs_removed"]
        self._offset = 0.0
        return removed

    def advance_clock(self, seconds: float) -> float:
        """Move the mock's one clock on by `seconds` (>= 0), in every worker process and for every
        rule that reads time: IAM tokens and temporary credentials expire, upload URLs pass their
        `Expires`, a request signed with the wall clock falls outside the gateway's 15 minutes
        after a move of more than that (this handle's clients sign with the moved clock), a job
        in PROCESSING reaches its end. `POST /_mock/clock`, so it works the same against a mock
        in another process. Answers the clock's offset from the wall clock, seconds."""
        offset: float = self._call("POST", "/clock", json={"seconds": seconds})["offset_seconds"]
        self._offset = offset
        return offset

    def advance_iam_clock(self, seconds: float) -> None:
        """`advance_clock(seconds)`: IAM's clock is the mock's one clock (kept for 0.1 users)."""
        self.advance_clock(seconds)

    def requests(
        self,
        operation: str | None = None,
        *,
        method: str | None = None,
        status: int | None = None,
        path_contains: str | None = None,
        job_id: str | None = None,
        since_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """The journal of requests received, oldest first, filtered as asked: every matching
        entry, however many (the control plane answers in pages; this reads them all)."""
        filters = {
            "operation": operation,
            "method": method,
            "status": status,
            "path_contains": path_contains,
            "job_id": job_id,
        }
        params: dict[str, Any] = {key: value for key, value in filters.items() if value is not None}
        params["limit"] = JOURNAL_PAGE
        entries: list[dict[str, Any]] = []
        cursor = since_id
        while True:
            if cursor is not None:
                params["since_id"] = cursor
            page = self._call("GET", "/requests", params=params)
            entries += page["requests"]
            cursor = page.get("next_since_id")
            if not page.get("more") or cursor is None:
                return entries

    def last_signature_check(self) -> dict[str, Any] | None:
        """The `signature_check` of the newest journaled request whose signature was refused
        (gateway APIGW.0301 or the upload URL's SignatureDoesNotMatch), or None if there is none.

        Keys: canonical_request, string_to_sign, signed_headers, missing_headers,
        first_difference ({line, mock, rebuilt}) and more (docs: "Debugging your signer")."""
        for entry in reversed(self.requests()):
            check = entry.get("signature_check")
            if check:
                result: dict[str, Any] = check
                return result
        return None

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def fail_next(
        self,
        operation: str | None = None,
        *,
        status: int = 500,
        error_code: str = "MSS.00000004",
        error_msg: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        latency_ms: int | None = None,
    ) -> dict[str, Any]:
        """The next `times` matching API requests answer this error (every operation if None)."""
        return self._fault(
            operation=operation,
            status=status,
            error_code=error_code,
            error_msg=error_msg,
            retry_after=retry_after,
            times=times,
            latency_ms=latency_ms,
        )

    def delay_next(
        self, latency_ms: int, operation: str | None = None, *, times: int = 1
    ) -> dict[str, Any]:
        """The next `times` matching requests are answered normally, `latency_ms` late."""
        return self._fault(operation=operation, latency_ms=latency_ms, times=times)

    def fail_next_upload(
        self, *, status: int = 500, error_code: str = "InternalError", times: int = 1
    ) -> dict[str, Any]:
        """The next `times` uploads answer an OBS XML error."""
        return self._fault(
            operation="upload", upload="fail", status=status, error_code=error_code, times=times
        )

    def cut_next_upload(self, *, times: int = 1) -> dict[str, Any]:
        """The next `times` uploads are cut off: nothing is stored, the answer breaks off."""
        return self._fault(operation="upload", upload="cut", times=times)

    def faults(self) -> list[dict[str, Any]]:
        armed: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return armed

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_progress(self, mode: str) -> None:
        """How jobs created from now on progress: `timed`, `immediate`, `manual` or `polls:N`
        (one step every N show calls)."""
        self._call("PUT", "/progress", json={"mode": mode})

    def progress(self) -> str:
        mode: str = self._call("GET", "/progress")["mode"]
        return mode

    def set_job_progress(self, job_id: str, mode: str) -> dict[str, Any]:
        return self._call("PUT", f"/jobs/{job_id}/progress", json={"mode": mode})

    def advance(self, job_id: str) -> dict[str, Any]:
        """Move a committed job one step on; answers the job as show_short_job would."""
        return self._call("POST", f"/jobs/{job_id}/advance")

    def fail_job(self, job_id: str, job_failed_code: str, job_failed_reason: str) -> dict[str, Any]:
        body = {"job_failed_code": job_failed_code, "job_failed_reason": job_failed_reason}
        return self._call("POST", f"/jobs/{job_id}/fail", json=body)

    def succeed_job(
        self, job_id: str, assess_result: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {} if assess_result is None else {"assess_result": assess_result}
        return self._call("POST", f"/jobs/{job_id}/succeed", json=body)

    def set_state(
        self,
        job_id: str,
        state: str,
        *,
        job_failed_code: str | None = None,
        job_failed_reason: str | None = None,
        assess_result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Put a job in any JobState, pinned there (progress `manual`), with the fields the
        service shows in it; answers the job as show_short_job would (see control.yaml)."""
        body = {
            "state": state,
            "job_failed_code": job_failed_code,
            "job_failed_reason": job_failed_reason,
            "assess_result": assess_result,
        }
        sent = {key: value for key, value in body.items() if value is not None}
        return self._call("PUT", f"/jobs/{job_id}/state", json=sent)

    def make_job(
        self,
        state: str = "SUCCEED",
        *,
        assess_result: dict[str, Any] | None = None,
        job_failed_code: str | None = None,
        job_failed_reason: str | None = None,
        language: str = "CN",
        app_user_id: str | None = None,
    ) -> str:
        """A committed job of this mock's project in `state` (any JobState but CREATING), with
        its outcome, in one call: no upload, no assessment. Answers its job id.

        SUCCEED shows `assess_result` (default: a canned AssessResult, every value in range); a
        failure state shows `job_failed_code` / `job_failed_reason` (default MSS.29999999);
        WAITING and PROCESSING show neither and reach that outcome with `advance` (FAILED when
        a failure is given). Pinned like `set_state` (progress `manual`). `POST /_mock/jobs`.
        """
        body = {
            "state": state,
            "assess_result": assess_result,
            "job_failed_code": job_failed_code,
            "job_failed_reason": job_failed_reason,
            "language": language,
            "app_user_id": app_user_id,
        }
        sent = {key: value for key, value in body.items() if value is not None}
        job_id: str = self._call("POST", "/jobs", json=sent)["job_id"]
        return job_id

    def assert_called(
        self, operation: str | None, times: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Assert the journal has `times` requests (at least one if None) for `operation` (any
        if None) whose fields equal `filters` (job_id, status, error_code, method, path...);
        answers them. The AssertionError lists the matching journal lines."""
        __tracebackhide__ = True  # pytest shows the test's line, not ours
        everything = self.requests()
        found = [dict(e) for e in matching(everything, operation=operation, **filters)]
        named = ", ".join(f"{key}={value!r}" for key, value in filters.items())
        check_called(
            found,
            everything,
            (operation or "any operation") + (f" with {named}" if named else ""),
            times,
        )
        return found

    def _fault(self, **spec: Any) -> dict[str, Any]:
        body = {key: value for key, value in spec.items() if value is not None}
        return self._call("POST", "/faults", json=body)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if method not in ("GET", "HEAD"):
            # the control plane's guard: state-changing calls say JSON, body or not
            kwargs.setdefault("headers", {"Content-Type": "application/json"})
        response = self._control.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ControlPlaneError(
                f"{method} /_mock{path}: {response.status_code} {response.text}"
            )
        if response.status_code == 204:
            return {}
        result: dict[str, Any] = response.json()
        return result
