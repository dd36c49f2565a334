"""The facade: ``ShortJobs`` (sync) and ``AsyncShortJobs`` (async), the package's entry point.

::

    sj = ShortJobs("cn-north-4", project_id=..., ak=..., sk=...)   # or token=...
    job = sj.create(language="CN")              # CreateShortJobResponse
    sj.upload(job, "recordings.zip")             # streamed PUT to the pre-signed URL
    sj.commit(job.job_id)
    detail = sj.wait(job.job_id, timeout=600)    # ShowShortJobResponse, SUCCEED
    detail = sj.assess("recordings/")            # all of the above, zipping WAV files first

Every API call goes through the generated client (``short_jobs_client``): the facade never builds
a request the generated code already builds. It only installs the auth (an ``httpx.Auth`` on the
httpx client it hands to the generated ``Client``), turns each generated ``Response`` into the
generated model or a :mod:`short_jobs.errors` exception, and adds what the generated code cannot
know: retries (:mod:`short_jobs.retry`), polling, zipping and the upload, which goes to a
pre-signed OBS URL outside the contract, through a separate plain httpx client so that neither
the AK/SK signature nor the token ever leaves for the storage service.

Credentials, when not passed: ``HUAWEICLOUD_SDK_AK``, ``HUAWEICLOUD_SDK_SK`` and
``HUAWEICLOUD_SDK_PROJECT_ID`` (the official SDK's variables; with temporary AK/SK also
``HUAWEICLOUD_SDK_SECURITY_TOKEN``), else ``HUAWEICLOUD_SDK_TOKEN``
(this toolkit's addition in the same style: the official SDK has no token auth). The endpoint
falls back to ``SHORT_JOBS_ENDPOINT``. Explicit arguments win over the environment (a token
passed leaves the AK/SK variables unread), and AK/SK wins over a token when both are only in
the environment.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from short_jobs.auth import AkSkAuth, TokenAuth
from short_jobs.endpoints import ENDPOINT_ENV, resolve_endpoint
from short_jobs.errors import (
    REQUEST_ID_HEADER,
    JobFailedError,
    NetworkError,
    ShortJobsError,
    WaitTimeoutError,
    error_from_response,
    upload_error_from_response,
)
from short_jobs.retry import (
    DEFAULT_RETRY,
    Predicate,
    RetryPolicy,
    aretry_call,
    is_transient,
    never_reached_service,
    retry_call,
)
from short_jobs.zipping import (
    Progress,
    Source,
    afile_chunks,
    aprepared_zip,
    file_chunks,
    prepared_zip,
)
from short_jobs_client import Client
from short_jobs_client.api.short_jobs import commit_short_job, create_short_job, show_short_job
from short_jobs_client.models import (
    CreateShortJobReq,
    CreateShortJobResponse,
    JobState,
    Language,
    ShortJobType,
    ShowShortJobResponse,
)
from short_jobs_client.types import UNSET, Response, Unset

__all__ = [
    "AK_ENV",
    "PROJECT_ID_ENV",
    "SK_ENV",
    "TOKEN_ENV",
    "AsyncShortJobs",
    "OnCreated",
    "OnPoll",
    "ShortJobs",
]

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
_POLL_GROWTH = 1.5
_APP_USER_ID = re.compile(r"[!-~]{1,64}")

OnCreated = Callable[[CreateShortJobResponse], None]
OnPoll = Callable[[ShowShortJobResponse], None]
T = TypeVar("T")

# The raw httpx answer of the generated call in flight, recorded by a response hook. Only read when
# the generated code fails to parse an answer (a non-JSON error body, an unknown enum value...),
# so even then the error carries the status and request id. A ContextVar keeps concurrent tasks
# and threads apart.
_last_response: ContextVar[httpx.Response | None] = ContextVar("_last_response", default=None)


def _remember(response: httpx.Response) -> None:
    _last_response.set(response)


async def _aremember(response: httpx.Response) -> None:
    _last_response.set(response)


def _credentials(
    ak: str | None,
    sk: str | None,
    token: str | None,
    project_id: str | None,
    security_token: str | None = None,
) -> tuple[httpx.Auth, str]:
    """The auth to install and the project id, from the arguments or else the environment.

    Each of AK, SK and project id not passed is read from its variable (so ``--ak`` on a command
    line can pair with an SK from the environment); the token variable is read only when no AK or
    SK is found at all, and a token passed explicitly leaves the AK/SK variables unread. The
    security token of temporary AK/SK is read from its variable (the official SDK's) only when
    the AK is too, so a permanent AK passed explicitly is never paired with a stale one.
    """
    env = os.environ
    if token is None:
        if ak is None and security_token is None:
            security_token = env.get(SECURITY_TOKEN_ENV) or None
        ak = ak or env.get(AK_ENV) or None
        sk = sk or env.get(SK_ENV) or None
        if ak is None and sk is None:
            token = env.get(TOKEN_ENV) or None
    project = project_id or env.get(PROJECT_ID_ENV)
    if not project:
        raise ValueError(f"a project id is required: pass project_id= or set {PROJECT_ID_ENV}")
    if token is not None and (ak is not None or sk is not None):
        raise ValueError("pass either ak= and sk= or token=, not both")
    if token:
        if security_token:
            raise ValueError("security_token= goes with temporary ak= and sk=, not a token")
        return TokenAuth(token), project
    if ak and sk:
        return AkSkAuth(ak, sk, project, security_token=security_token), project
    if ak or sk:
        raise ValueError("AK/SK auth needs both ak= and sk=")
    raise ValueError(
        f"no credentials: pass ak= and sk= (or token=), or set {AK_ENV} and {SK_ENV} "
        f"(or {TOKEN_ENV})"
    )


def _language(value: Language | str) -> Language:
    try:
        return value if isinstance(value, Language) else Language(value.upper())
    except ValueError:
        raise ValueError(f"language must be one of CN, EN, not {value!r}") from None


def _upload_url(job_or_url: CreateShortJobResponse | str) -> str:
    url = job_or_url if isinstance(job_or_url, str) else job_or_url.data_uploading_url
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an upload URL: {url!r}")
    return url


def _response_content(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:
        return b""


def _unreadable(exc: Exception) -> ShortJobsError | None:
    """The error for an answer the generated code could not parse, or ``None`` if none came."""
    raw = _last_response.get()
    if raw is None:
        return None
    content = _response_content(raw)
    if raw.status_code != 200:
        return error_from_response(raw.status_code, raw.headers, content)
    return ShortJobsError(
        status=raw.status_code,
        error_msg=f"unreadable answer: {type(exc).__name__}: {exc}",
        request_id=raw.headers.get(REQUEST_ID_HEADER),
    )


def _network_error(exc: httpx.TransportError, target: str) -> NetworkError:
    detail = str(exc) or type(exc).__name__
    return NetworkError(f"no answer from {target}: {detail}")


def _success(response: Response[Any], model: type[T]) -> T:
    """The parsed model of a 200 answer; any other answer raised as its error."""
    if response.status_code == 200 and isinstance(response.parsed, model):
        return response.parsed
    raise _error(response)


def _error(response: Response[Any]) -> ShortJobsError:
    return error_from_response(
        int(response.status_code), response.headers, response.content, response.parsed
    )


class _Facade:
    """What the sync and async facades share: configuration and turning answers into results."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        project_id: str | None = None,
        ak: str | None = None,
        sk: str | None = None,
        token: str | None = None,
        security_token: str | None = None,
        app_user_id: str | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        http_timeout: float | httpx.Timeout = DEFAULT_HTTP_TIMEOUT,
        verify: bool | str | ssl.SSLContext = True,
        poll_interval: float = POLL_START,
        poll_cap: float = POLL_CAP,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        endpoint = endpoint or os.environ.get(ENDPOINT_ENV)
        if not endpoint:
            raise ValueError(
                f"an endpoint is required: pass a URL or a region such as 'cn-north-4', "
                f"or set {ENDPOINT_ENV}"
            )
        if app_user_id is not None and not _APP_USER_ID.fullmatch(app_user_id):
            raise ValueError("app_user_id must be 1 to 64 visible ASCII characters")
        if poll_interval <= 0 or poll_cap < poll_interval:
            raise ValueError("need 0 < poll_interval <= poll_cap")
        self.endpoint = resolve_endpoint(endpoint)
        self.auth, self.project_id = _credentials(ak, sk, token, project_id, security_token)
        self.app_user_id = app_user_id
        self.retry = retry
        self.poll_interval = poll_interval
        self.poll_cap = poll_cap
        self._clock = clock
        self._rand = rand
        self._timeout = (
            http_timeout if isinstance(http_timeout, httpx.Timeout) else httpx.Timeout(http_timeout)
        )
        self._verify = verify
        # The generated Client gets the auth through httpx_args, so even the flavour (sync or
        # async) this facade does not use builds an authenticated httpx client if asked for one.
        self.client = Client(
            base_url=self.endpoint,
            timeout=self._timeout,
            verify_ssl=verify,
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

    def _create_body(self, language: Language | str) -> CreateShortJobReq:
        return CreateShortJobReq(job_type=ShortJobType.VOICE_ASSESS, language=_language(language))

    def _deadline(self, timeout: float | None) -> float | None:
        return None if timeout is None else self._clock() + timeout

    def _poll_step(
        self,
        job_id: str,
        response: Response[Any],
        timeout: float | None,
        deadline: float | None,
        interval: float,
        on_poll: OnPoll | None,
    ) -> tuple[ShowShortJobResponse, float | None]:
        """One poll's verdict: the detail, and how long to sleep (``None``: it is SUCCEED)."""
        detail = _success(response, ShowShortJobResponse)
        if on_poll is not None:
            on_poll(detail)
        if detail.state == JobState.SUCCEED:
            return detail, None
        if detail.state == JobState.FAILED:
            raise JobFailedError(detail, response.headers.get(REQUEST_ID_HEADER))
        if timeout is None or deadline is None:
            return detail, interval
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise WaitTimeoutError(job_id, timeout, detail)
        return detail, min(interval, remaining)

    def _next_interval(self, interval: float) -> float:
        return min(interval * _POLL_GROWTH, self.poll_cap)

    @staticmethod
    def _retryable(idempotent: bool) -> Predicate:
        """Idempotent calls retry transient errors; create and commit only provably unsent ones."""
        return is_transient if idempotent else never_reached_service

    def _check_upload(self, response: httpx.Response) -> None:
        if not 200 <= response.status_code < 300:
            raise upload_error_from_response(
                response.status_code, response.headers, _response_content(response)
            )

    @staticmethod
    def _upload_headers(size: int) -> dict[str, str]:
        # An explicit Content-Length makes httpx send a plain body, not chunked encoding (which
        # OBS refuses for a PUT Object), while the body still streams from the file.
        return {"Content-Type": ZIP_CONTENT_TYPE, "Content-Length": str(size)}


class ShortJobs(_Facade):
    """Synchronous facade over the short-jobs API; see the module docstring.

    ``endpoint`` is a URL or a region name; credentials are ``ak`` and ``sk`` (with
    ``security_token`` when they are temporary ones from IAM) or ``token``
    (falling back to the environment); ``app_user_id`` is sent as ``X-App-UserId``. ``retry``
    governs the retries; ``sleep``, ``clock`` and ``rand`` are injectable so tests never wait.
    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        project_id: str | None = None,
        ak: str | None = None,
        sk: str | None = None,
        token: str | None = None,
        security_token: str | None = None,
        app_user_id: str | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        http_timeout: float | httpx.Timeout = DEFAULT_HTTP_TIMEOUT,
        verify: bool | str | ssl.SSLContext = True,
        poll_interval: float = POLL_START,
        poll_cap: float = POLL_CAP,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            endpoint,
            project_id=project_id,
            ak=ak,
            sk=sk,
            token=token,
            security_token=security_token,
            app_user_id=app_user_id,
            retry=retry,
            http_timeout=http_timeout,
            verify=verify,
            poll_interval=poll_interval,
            poll_cap=poll_cap,
            clock=clock,
            rand=rand,
        )
        self._sleep = sleep
        self._http = httpx.Client(**self._httpx_args(), event_hooks={"response": [_remember]})
        self.client.set_httpx_client(self._http)
        self._upload_http: httpx.Client | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections (API and upload)."""
        self._http.close()
        if self._upload_http is not None:
            self._upload_http.close()

    def _send(self, call: Callable[[], Response[T]]) -> Response[T]:
        """Run one generated call; no answer becomes NetworkError, an unparsable one its error."""
        token = _last_response.set(None)
        try:
            return call()
        except httpx.TransportError as exc:
            raise _network_error(exc, self.endpoint) from exc
        except (ValueError, KeyError, TypeError) as exc:
            error = _unreadable(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            _last_response.reset(token)  # do not keep the last answer alive

    def _retry(
        self, call: Callable[[], T], *, idempotent: bool, deadline: float | None = None
    ) -> T:
        return retry_call(
            call,
            self.retry,
            retryable=self._retryable(idempotent),
            sleep=self._sleep,
            rand=self._rand,
            clock=self._clock,
            deadline=deadline,
        )

    def create(self, language: Language | str = Language.CN) -> CreateShortJobResponse:
        """Create a VOICE_ASSESS job; answers its ``job_id`` and ``data_uploading_url``.

        Not retried unless the request provably never reached the service (see retry.py): a
        blind retry could make a second job.
        """
        body = self._create_body(language)

        def call() -> CreateShortJobResponse:
            response = self._send(
                lambda: create_short_job.sync_detailed(
                    self.project_id, client=self.client, body=body, x_app_user_id=self._user
                )
            )
            return _success(response, CreateShortJobResponse)

        return self._retry(call, idempotent=False)

    def upload(
        self,
        job_or_url: CreateShortJobResponse | str,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> None:
        """PUT the zip at ``path`` to the job's pre-signed URL, streamed in chunks.

        Memory stays constant whatever the file's size; ``progress(sent, total)`` is called
        after each chunk. Retried on connection errors, 429 and 5xx (a PUT of the same bytes is
        idempotent); an OBS refusal raises :class:`~short_jobs.errors.UploadError`.
        """
        url = _upload_url(job_or_url)
        size = os.path.getsize(path)
        if self._upload_http is None:
            self._upload_http = httpx.Client(**self._upload_args())
        http = self._upload_http

        def call() -> None:
            try:
                response = http.put(
                    url, content=file_chunks(path, progress), headers=self._upload_headers(size)
                )
            except httpx.TransportError as exc:
                raise _network_error(exc, "the upload URL") from exc
            self._check_upload(response)

        self._retry(call, idempotent=True)

    def commit(self, job_id: str) -> None:
        """Start the assessment of the uploaded zip.

        Not retried unless the request provably never reached the service: a commit whose
        answer was lost, sent again, answers 400 "already committed".
        """

        def call() -> None:
            response = self._send(
                lambda: commit_short_job.sync_detailed(
                    self.project_id, job_id, client=self.client, x_app_user_id=self._user
                )
            )
            if response.status_code != 200:
                raise _error(response)

        self._retry(call, idempotent=False)

    def _show(self, job_id: str, deadline: float | None = None) -> Response[Any]:
        def call() -> Response[Any]:
            response = self._send(
                lambda: show_short_job.sync_detailed(
                    self.project_id, job_id, client=self.client, x_app_user_id=self._user
                )
            )
            _success(response, ShowShortJobResponse)
            return response

        return self._retry(call, idempotent=True, deadline=deadline)

    def show(self, job_id: str) -> ShowShortJobResponse:
        """The job's details (retried on transient errors)."""
        return _success(self._show(job_id), ShowShortJobResponse)

    def wait(
        self,
        job_id: str,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        *,
        on_poll: OnPoll | None = None,
    ) -> ShowShortJobResponse:
        """Poll until the job is SUCCEED (answered) or FAILED (:class:`JobFailedError`).

        Polls after 0.2 s at first, backing off x1.5 to ``poll_cap``; after ``timeout`` seconds
        (``None``: no limit) raises :class:`WaitTimeoutError`. ``on_poll`` sees every answer.
        """
        deadline = self._deadline(timeout)
        interval = self.poll_interval
        while True:
            response = self._show(job_id, deadline)
            detail, pause = self._poll_step(job_id, response, timeout, deadline, interval, on_poll)
            if pause is None:
                return detail
            self._sleep(pause)
            interval = self._next_interval(interval)

    def assess(
        self,
        source: Source,
        *,
        language: Language | str = Language.CN,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        progress: Progress | None = None,
        on_created: OnCreated | None = None,
        on_poll: OnPoll | None = None,
    ) -> ShowShortJobResponse:
        """Create, upload, commit and wait, in one call; answers the SUCCEED job.

        ``source`` is a ``.zip`` file, a directory (its WAV files, recursively, are zipped into
        a temporary file first) or a list of WAV files. The zip is made before the job is
        created, so a bad path fails without leaving a job behind.
        """
        with prepared_zip(source) as zip_path:
            job = self.create(language)
            if on_created is not None:
                on_created(job)
            self.upload(job, zip_path, progress=progress)
        self.commit(job.job_id)
        return self.wait(job.job_id, timeout, on_poll=on_poll)


class AsyncShortJobs(_Facade):
    """Asynchronous facade: the same methods as :class:`ShortJobs`, as coroutines.

    ``sleep`` is an async function (``asyncio.sleep`` by default). Use ``async with``, or
    ``await close()``.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        project_id: str | None = None,
        ak: str | None = None,
        sk: str | None = None,
        token: str | None = None,
        security_token: str | None = None,
        app_user_id: str | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        http_timeout: float | httpx.Timeout = DEFAULT_HTTP_TIMEOUT,
        verify: bool | str | ssl.SSLContext = True,
        poll_interval: float = POLL_START,
        poll_cap: float = POLL_CAP,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            endpoint,
            project_id=project_id,
            ak=ak,
            sk=sk,
            token=token,
            security_token=security_token,
            app_user_id=app_user_id,
            retry=retry,
            http_timeout=http_timeout,
            verify=verify,
            poll_interval=poll_interval,
            poll_cap=poll_cap,
            clock=clock,
            rand=rand,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(**self._httpx_args(), event_hooks={"response": [_aremember]})
        self.client.set_async_httpx_client(self._http)
        self._upload_http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections (API and upload)."""
        await self._http.aclose()
        if self._upload_http is not None:
            await self._upload_http.aclose()

    async def _send(self, call: Callable[[], Awaitable[Response[T]]]) -> Response[T]:
        """Run one generated call; no answer becomes NetworkError, an unparsable one its error."""
        token = _last_response.set(None)
        try:
            return await call()
        except httpx.TransportError as exc:
            raise _network_error(exc, self.endpoint) from exc
        except (ValueError, KeyError, TypeError) as exc:
            error = _unreadable(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            _last_response.reset(token)  # do not keep the last answer alive

    async def _retry(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        deadline: float | None = None,
    ) -> T:
        return await aretry_call(
            call,
            self.retry,
            retryable=self._retryable(idempotent),
            sleep=self._sleep,
            rand=self._rand,
            clock=self._clock,
            deadline=deadline,
        )

    async def create(self, language: Language | str = Language.CN) -> CreateShortJobResponse:
        """See :meth:`ShortJobs.create`."""
        body = self._create_body(language)

        async def call() -> CreateShortJobResponse:
            response = await self._send(
                lambda: create_short_job.asyncio_detailed(
                    self.project_id, client=self.client, body=body, x_app_user_id=self._user
                )
            )
            return _success(response, CreateShortJobResponse)

        return await self._retry(call, idempotent=False)

    async def upload(
        self,
        job_or_url: CreateShortJobResponse | str,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> None:
        """See :meth:`ShortJobs.upload`; the file is read in a thread, chunk by chunk."""
        url = _upload_url(job_or_url)
        size = os.path.getsize(path)
        if self._upload_http is None:
            self._upload_http = httpx.AsyncClient(**self._upload_args())
        http = self._upload_http

        async def call() -> None:
            try:
                response = await http.put(
                    url, content=afile_chunks(path, progress), headers=self._upload_headers(size)
                )
            except httpx.TransportError as exc:
                raise _network_error(exc, "the upload URL") from exc
            self._check_upload(response)

        await self._retry(call, idempotent=True)

    async def commit(self, job_id: str) -> None:
        """See :meth:`ShortJobs.commit`."""

        async def call() -> None:
            response = await self._send(
                lambda: commit_short_job.asyncio_detailed(
                    self.project_id, job_id, client=self.client, x_app_user_id=self._user
                )
            )
            if response.status_code != 200:
                raise _error(response)

        await self._retry(call, idempotent=False)

    async def _show(self, job_id: str, deadline: float | None = None) -> Response[Any]:
        async def call() -> Response[Any]:
            response = await self._send(
                lambda: show_short_job.asyncio_detailed(
                    self.project_id, job_id, client=self.client, x_app_user_id=self._user
                )
            )
            _success(response, ShowShortJobResponse)
            return response

        return await self._retry(call, idempotent=True, deadline=deadline)

    async def show(self, job_id: str) -> ShowShortJobResponse:
        """See :meth:`ShortJobs.show`."""
        return _success(await self._show(job_id), ShowShortJobResponse)

    async def wait(
        self,
        job_id: str,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        *,
        on_poll: OnPoll | None = None,
    ) -> ShowShortJobResponse:
        """See :meth:`ShortJobs.wait`."""
        deadline = self._deadline(timeout)
        interval = self.poll_interval
        while True:
            response = await self._show(job_id, deadline)
            detail, pause = self._poll_step(job_id, response, timeout, deadline, interval, on_poll)
            if pause is None:
                return detail
            await self._sleep(pause)
            interval = self._next_interval(interval)

    async def assess(
        self,
        source: Source,
        *,
        language: Language | str = Language.CN,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        progress: Progress | None = None,
        on_created: OnCreated | None = None,
        on_poll: OnPoll | None = None,
    ) -> ShowShortJobResponse:
        """See :meth:`ShortJobs.assess`; zipping runs in a thread."""
        async with aprepared_zip(source) as zip_path:
            job = await self.create(language)
            if on_created is not None:
                on_created(job)
            await self.upload(job, zip_path, progress=progress)
        await self.commit(job.job_id)
        return await self.wait(job.job_id, timeout, on_poll=on_poll)
