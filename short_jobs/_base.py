"""What ``ShortJobs`` and ``AsyncShortJobs`` share and that does no I/O: settings, credentials,
turning generated answers into models or errors, and the polling verdict.

The two facades' I/O is written once, in :mod:`short_jobs._async.facade`; the sync one is
generated from it (``make unasync``). Everything here is plain code both call.
"""

from __future__ import annotations

import os
import random
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any, TypedDict, TypeVar

import httpx

from short_jobs import redact
from short_jobs.auth import AkSkAuth, TokenAuth
from short_jobs.endpoints import ENDPOINT_ENV, resolve_endpoint
from short_jobs.environment import check_http_environment, tls_verify
from short_jobs.errors import (
    REQUEST_ID_HEADER,
    JobFailedError,
    JobNotCommittedError,
    NetworkError,
    ShortJobsError,
    UploadError,
    UsageError,
    WaitTimeoutError,
    error_from_response,
    literal,
    upload_error_from_response,
)
from short_jobs.identifiers import VISIBLE as _VISIBLE
from short_jobs.identifiers import job_id_problem, project_id_problem
from short_jobs.retry import DEFAULT_RETRY, Predicate, RetryPolicy, is_transient
from short_jobs.retry import never_reached_service as _never_reached_service
from short_jobs_client import Client
from short_jobs_client.models import (
    CreateShortJobReq,
    CreateShortJobResponse,
    JobState,
    Language,
    ShortJobType,
    ShowShortJobResponse,
)
from short_jobs_client.types import UNSET, Response, Unset

AK_ENV = "HUAWEICLOUD_SDK_AK"
SK_ENV = "HUAWEICLOUD_SDK_SK"
PROJECT_ID_ENV = "HUAWEICLOUD_SDK_PROJECT_ID"
TOKEN_ENV = "HUAWEICLOUD_SDK_TOKEN"
SECURITY_TOKEN_ENV = "HUAWEICLOUD_SDK_SECURITY_TOKEN"

ZIP_CONTENT_TYPE = "application/zip"
"""Part of the pre-signed URL's signature: any other Content-Type is refused by OBS."""

DEFAULT_HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_WAIT_TIMEOUT = 600.0
POLL_START = 0.2
"""First polling interval: a small job is often done within a second, so look early..."""
POLL_CAP = 5.0
"""...then back off (x1.5 per poll) to this, so a long job costs few requests."""
COMMIT_GRACE = 3.0
"""Seconds ``wait`` lets a job stay CREATING before saying it was never committed.

The mock (and, as far as the API reference says, the service) leaves CREATING at the commit
itself, so a CREATING job is one nobody committed; the grace only absorbs a service that shows a
commit a moment late. Short, so a forgotten commit is reported in seconds, not after ``timeout``.
"""
_POLL_GROWTH = 1.5

FAILURE_STATES = frozenset(
    {JobState.FAILED, JobState.SPLIT_FAILED, JobState.AUDIT_FAILED, JobState.USER_REVIEW_REJECT}
)
"""The states a job never leaves and that end it without a result (JobState in the SDK): ``wait``
raises :class:`JobFailedError` on each. The service's voice-assessment pages name only FAILED;
the other three belong to its training jobs, and a job shown in one of them will not move on."""
_APP_USER_ID = re.compile(r"[!-~]{1,64}")

T = TypeVar("T")
OnCreated = Callable[[CreateShortJobResponse], None]
OnPoll = Callable[[ShowShortJobResponse], None]
Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]
Call = Callable[[], T]
AsyncCall = Callable[[], Awaitable[T]]


class Settings(TypedDict, total=False):
    """The facades' keyword arguments besides ``endpoint`` and ``sleep`` (all optional).

    ``project_id``, ``ak``, ``sk``, ``token``: credentials, falling back to the environment (see
    :mod:`short_jobs.client`); ``security_token``: the one temporary AK/SK from IAM come with
    (sent, signed, as ``X-Security-Token``); ``app_user_id``: sent as ``X-App-UserId`` (1-64
    visible ASCII);
    ``retry``: a :class:`RetryPolicy`; ``http_timeout``: seconds or an ``httpx.Timeout``;
    ``verify``: TLS verification as httpx takes it; ``poll_interval`` / ``poll_cap``: the first
    and largest seconds between polls; ``commit_grace``: seconds a job may stay CREATING in
    ``wait`` (:data:`COMMIT_GRACE`); ``clock`` (monotonic seconds) and ``rand`` ([0, 1)) are
    injectable so tests never wait; ``signing_clock`` (an aware UTC datetime) is the time AK/SK
    requests are signed with (``X-Sdk-Date``; the wall clock by default), for a mock whose clock
    a test moved.
    """

    project_id: str | None
    ak: str | None
    sk: str | None
    token: str | None
    security_token: str | None
    app_user_id: str | None
    retry: RetryPolicy
    http_timeout: float | httpx.Timeout
    verify: bool | str | ssl.SSLContext
    poll_interval: float
    poll_cap: float
    commit_grace: float
    clock: Callable[[], float]
    rand: Callable[[], float]
    signing_clock: Callable[[], datetime]


# The raw httpx answer of the generated call in flight, recorded by a response hook. Only read when
# the generated code fails to parse an answer (a non-JSON error body, a field of the wrong type...),
# so even then the error carries the status and request id. A ContextVar keeps concurrent tasks
# and threads apart.
last_response: ContextVar[httpx.Response | None] = ContextVar("last_response", default=None)


def remember(response: httpx.Response) -> None:
    last_response.set(response)


async def aremember(response: httpx.Response) -> None:
    last_response.set(response)


@dataclass(frozen=True)
class _Credential:
    value: str
    name: str
    """The argument's name, or the variable it came from."""
    from_env: bool


def _pick(value: str | None, name: str, variable: str) -> _Credential | None:
    if value:
        return _Credential(value, name, False)
    found = os.environ.get(variable)
    return _Credential(found, variable, True) if found else None


def _visible(credential: _Credential | None) -> str | None:
    """The credential's value, refused (naming where it came from) if it has invisible or
    non-ASCII characters: they would make an illegal header, or a signature that never matches.
    """
    if credential is None:
        return None
    value = credential.value
    if _VISIBLE.fullmatch(value):
        return value
    index, char = next((i, c) for i, c in enumerate(value) if not _VISIBLE.fullmatch(c))
    where = "at the end" if index == len(value) - 1 else f"at position {index + 1}"
    source = literal(credential.name) if credential.from_env else f"{{{credential.name}}}"
    raise UsageError(
        f"{source} has an invisible or non-ASCII character {literal(repr(char))} {where} "
        "(a stray newline or space from a copy-paste?): remove it",
        names=() if credential.from_env else (credential.name,),
    )


def _project_id(credential: _Credential | None) -> str | None:
    """The project id, refused (naming where it came from) unless it is one
    (:func:`~short_jobs.identifiers.project_id_problem`: it goes into every request's path)."""
    value = _visible(credential)
    if credential is None or value is None:
        return None
    problem = project_id_problem(value)
    if problem is None:
        return value
    source = literal(credential.name) if credential.from_env else f"{{{credential.name}}}"
    raise UsageError(
        f"{source} {literal(problem)}", names=() if credential.from_env else (credential.name,)
    )


def path_job_id(job_id: str) -> str:
    """``job_id``, refused unless the generated client can send it in its place in the path
    (:func:`~short_jobs.identifiers.job_id_problem`; the rest it percent-encodes)."""
    problem = job_id_problem(job_id)
    if problem is not None:
        # No {job_id} template: the command line's JOB_ID is an argument, not an option.
        raise UsageError(f"job id {literal(repr(job_id))} {literal(problem)}")
    return job_id


def check_app_user_id(value: str | None, variable: str | None = None) -> None:
    """Refuse an ``X-App-UserId`` that is not 1-64 visible ASCII characters (the header's rule),
    naming ``variable`` when the value came from one, else the ``app_user_id`` argument."""
    if value is None or _APP_USER_ID.fullmatch(value):
        return
    where = literal(variable) if variable else "{app_user_id}"
    raise UsageError(
        f"{where} must be 1 to 64 visible ASCII characters",
        names=() if variable else ("app_user_id",),
    )


def credentials(
    ak: str | None,
    sk: str | None,
    token: str | None,
    project_id: str | None,
    security_token: str | None = None,
    signing_clock: Callable[[], datetime] | None = None,
) -> tuple[httpx.Auth, str]:
    """The auth to install and the project id, from the arguments or else the environment.

    Each of AK, SK and project id not passed is read from its variable (so ``--ak`` on a command
    line can pair with an SK from the environment); the token variable is read only when no AK or
    SK is found at all, and a token passed explicitly leaves the AK/SK variables unread. The
    security token of temporary AK/SK is read from its variable (the official SDK's) only when
    the AK is too, so a permanent AK passed explicitly is never paired with a stale one. Raises
    :class:`UsageError` for missing, conflicting or malformed credentials, before any request.
    """
    project = _project_id(_pick(project_id, "project_id", PROJECT_ID_ENV))
    if not project:
        raise UsageError(
            f"a project id is required: pass {{project_id}} or set {PROJECT_ID_ENV}",
            names=("project_id",),
        )
    found_ak = found_sk = found_token = found_security = None
    if security_token:
        found_security = _visible(_Credential(security_token, "security_token", False))
    if token is None:
        if not ak and security_token is None:
            found_security = _visible(_pick(None, "security_token", SECURITY_TOKEN_ENV))
        found_ak = _visible(_pick(ak, "ak", AK_ENV))
        found_sk = _visible(_pick(sk, "sk", SK_ENV))
        if found_ak is None and found_sk is None:
            found_token = _visible(_pick(None, "token", TOKEN_ENV))
    else:
        found_token = _visible(_pick(token, "token", TOKEN_ENV))
        if ak or sk:
            raise UsageError(
                "pass either {ak} and {sk} or {token}, not both", names=("ak", "sk", "token")
            )
    for secret in (found_sk, found_token, found_security):
        redact.remember(secret)
    if found_token:
        if security_token:
            raise UsageError(
                "{security_token} goes with temporary {ak} and {sk}, not {token}",
                names=("security_token", "ak", "sk", "token"),
            )
        return TokenAuth(found_token), project
    if found_ak and found_sk:
        auth = AkSkAuth(
            found_ak, found_sk, project, security_token=found_security, clock=signing_clock
        )
        return auth, project
    if found_ak or found_sk:
        raise UsageError(
            f"AK/SK auth needs both {{ak}} and {{sk}} (or {AK_ENV} and {SK_ENV})",
            names=("ak", "sk"),
        )
    raise UsageError(
        f"no credentials: pass {{ak}} and {{sk}} (or {{token}}), or set {AK_ENV} and {SK_ENV} "
        f"(or {TOKEN_ENV})",
        names=("ak", "sk", "token"),
    )


def language(value: Language | str) -> Language:
    # The generated enums keep unknown values (forward compatibility, for answers); what a
    # caller asks for is checked against the values this client knows.
    chosen = value if isinstance(value, Language) else Language(str(value).upper())
    if not chosen.is_known:
        known = ", ".join(member.value for member in Language)
        raise UsageError(
            f"{{language}} must be one of {known}, not {literal(repr(value))}", names=("language",)
        )
    return chosen


def upload_url(job_or_url: CreateShortJobResponse | str) -> str:
    url = job_or_url if isinstance(job_or_url, str) else job_or_url.data_uploading_url
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"not an upload URL: {literal(repr(url))}")
    return url


def response_content(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:
        return b""


def unreadable(exc: Exception, lookup: bool) -> ShortJobsError | None:
    """The error for an answer the generated code could not parse, or ``None`` if none came."""
    raw = last_response.get()
    if raw is None:
        return None
    content = response_content(raw)
    if raw.status_code != 200:
        return error_from_response(raw.status_code, raw.headers, content, lookup=lookup)
    return ShortJobsError(
        status=raw.status_code,
        error_msg=f"unreadable answer: {type(exc).__name__}: {exc}",
        request_id=raw.headers.get(REQUEST_ID_HEADER),
    )


# Raised by httpx (or h11 under it) while *building* a request, before a byte is sent: an illegal
# header value, a URL it cannot send to. Our side's mistake, so never a NetworkError, never retried.
_LOCAL_ERRORS = (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL)


def local_error(exc: Exception, target: str) -> UsageError:
    detail = literal(str(exc) or type(exc).__name__)
    return UsageError(f"request to {literal(target)} not sent: {detail}")


def transport_error(exc: httpx.TransportError | httpx.InvalidURL, target: str) -> ShortJobsError:
    """What a failure of httpx to get an answer means: our mistake, or no answer at all."""
    if isinstance(exc, _LOCAL_ERRORS):
        return local_error(exc, target)
    detail = str(exc) or type(exc).__name__
    return NetworkError(f"no answer from {target}: {detail}")


SEND_ERRORS = (httpx.TransportError, httpx.InvalidURL)
PARSE_ERRORS = (ValueError, KeyError, TypeError)


def success(response: Response[Any], model: type[T], *, lookup: bool = False) -> T:
    """The parsed model of a 200 answer; any other answer raised as its error."""
    if response.status_code == 200 and isinstance(response.parsed, model):
        return response.parsed
    raise error(response, lookup=lookup)


def error(response: Response[Any], *, lookup: bool = False) -> ShortJobsError:
    return error_from_response(
        int(response.status_code),
        response.headers,
        response.content,
        response.parsed,
        lookup=lookup,
    )


def retryable(idempotent: bool) -> Predicate:
    """Idempotent calls retry transient errors; create and commit only provably unsent ones."""
    return is_transient if idempotent else _never_reached_service


def check_upload(response: httpx.Response, sent_md5: str | None = None) -> None:
    """Raise the :class:`UploadError` for a refused upload, or for a success whose ``ETag``
    (OBS answers a PUT Object with the object's MD5 as quoted hex) is not ``sent_md5``, the
    MD5 (hex) of the bytes sent: what was stored is not what was sent. No ETag: not checked."""
    if not 200 <= response.status_code < 300:
        raise upload_error_from_response(
            response.status_code, response.headers, response_content(response)
        )
    etag = response.headers.get("ETag")
    if sent_md5 is None or etag is None:
        return
    stored = etag.strip().removeprefix("W/").strip('"').lower()
    if stored != sent_md5.lower():
        raise UploadError(
            status=response.status_code,
            error_code=ETAG_MISMATCH,
            error_msg=(
                f"the upload URL answered ETag {literal(repr(etag))}, not the MD5 of the "
                f"bytes sent ({sent_md5}): the stored object is not what was sent"
            ),
            request_id=response.headers.get(REQUEST_ID_HEADER)
            or response.headers.get("x-obs-request-id"),
        )


# UploadError's code for a stored object whose ETag is not the MD5 of what was sent (the
# client's finding, not an OBS code).
ETAG_MISMATCH = "ETagMismatch"


def upload_headers(size: int) -> dict[str, str]:
    # An explicit Content-Length makes httpx send a plain body, not chunked encoding (which
    # OBS refuses for a PUT Object), while the body still streams from the file.
    return {"Content-Type": ZIP_CONTENT_TYPE, "Content-Length": str(size)}


class FacadeBase:
    """Configuration and the verdicts both facades share (no I/O here)."""

    def __init__(self, endpoint: str | None, settings: Settings) -> None:
        get: Mapping[str, Any] = settings
        unknown = set(get) - set(Settings.__annotations__)
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
        endpoint_from_env = not endpoint
        endpoint = endpoint or os.environ.get(ENDPOINT_ENV)
        if not endpoint:
            raise UsageError(
                "an endpoint is required: pass {endpoint} (a URL or a region such as "
                f"'cn-north-4'), or set {ENDPOINT_ENV}",
                names=("endpoint",),
            )
        app_user_id = settings.get("app_user_id")
        check_app_user_id(app_user_id)
        self.poll_interval = settings.get("poll_interval", POLL_START)
        self.poll_cap = settings.get("poll_cap", POLL_CAP)
        if self.poll_interval <= 0 or self.poll_cap < self.poll_interval:
            raise ValueError("need 0 < poll_interval <= poll_cap")
        self.commit_grace = settings.get("commit_grace", COMMIT_GRACE)
        try:
            self.endpoint = resolve_endpoint(endpoint)
        except ValueError as exc:
            where = f"{ENDPOINT_ENV}: " if endpoint_from_env else ""
            raise UsageError(where + literal(str(exc))) from None
        self.auth, self.project_id = credentials(
            settings.get("ak"),
            settings.get("sk"),
            settings.get("token"),
            settings.get("project_id"),
            settings.get("security_token"),
            settings.get("signing_clock"),
        )
        self.app_user_id = app_user_id
        self.retry = settings.get("retry", DEFAULT_RETRY)
        self._clock = settings.get("clock", monotonic)
        self._rand = settings.get("rand", random.random)
        timeout = settings.get("http_timeout", DEFAULT_HTTP_TIMEOUT)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._verify = settings.get("verify", True)
        # Before any httpx client is built: a proxy or CA variable httpx cannot use is the
        # user's to fix, named, not a bare ValueError from inside httpx.
        check_http_environment(self._verify)
        self._verify = tls_verify(self._verify)  # one TLS context for every client (see there)
        # The generated Client gets the auth through httpx_args, so even the flavour (sync or
        # async) this facade does not use builds an authenticated httpx client if asked for one.
        self.client = Client(
            base_url=self.endpoint,
            timeout=self._timeout,
            verify_ssl=self._verify,
            httpx_args={"auth": self.auth},
        )
        """The generated client, authenticated, for anything the facade does not cover."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint!r}, project_id={self.project_id!r})"

    def _httpx_args(self) -> dict[str, Any]:
        return {
            "base_url": self.endpoint,
            "auth": self.auth,
            "timeout": self._timeout,
            "verify": self._verify,
        }

    def _upload_args(self) -> dict[str, Any]:
        # No auth, no base URL, no default headers: the pre-signed URL is its own credential.
        return {"timeout": self._timeout, "verify": self._verify, "follow_redirects": False}

    @property
    def _user(self) -> str | Unset:
        return self.app_user_id if self.app_user_id is not None else UNSET

    def _create_body(self, chosen: Language | str) -> CreateShortJobReq:
        return CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS, language=language(chosen))

    def _deadline(self, timeout: float | None) -> float | None:
        return None if timeout is None else self._clock() + timeout

    def _poll_step(
        self,
        job_id: str,
        response: Response[Any],
        timeout: float | None,
        started: float,
        interval: float,
        on_poll: OnPoll | None,
    ) -> tuple[ShowShortJobResponse, float | None]:
        """One poll's verdict: the detail, and how long to sleep (``None``: it is SUCCEED).

        SUCCEED and the :data:`FAILURE_STATES` are final. Any other state, listed or one this
        client does not know (a newer service's), means "not yet": keep polling until
        ``timeout``. A CREATING job past the commit grace was never committed, and polling would
        never end.
        """
        detail = success(response, ShowShortJobResponse, lookup=True)
        if on_poll is not None:
            on_poll(detail)
        if detail.state == JobState.SUCCEED:
            return detail, None
        if detail.state in FAILURE_STATES:
            raise JobFailedError(detail, response.headers.get(REQUEST_ID_HEADER))
        elapsed = self._clock() - started
        if detail.state == JobState.CREATING:
            if elapsed >= self.commit_grace:
                raise JobNotCommittedError(detail, self.commit_grace)
            # Look again right when the grace ends, so the verdict comes at the grace, not later.
            interval = min(interval, self.commit_grace - elapsed)
        if timeout is None:
            return detail, interval
        remaining = timeout - elapsed
        if remaining <= 0:
            raise WaitTimeoutError(job_id, timeout, detail)
        return detail, min(interval, remaining)

    def _next_interval(self, interval: float) -> float:
        return min(interval * _POLL_GROWTH, self.poll_cap)
