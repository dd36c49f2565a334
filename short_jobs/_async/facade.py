"""The facade's I/O, written once. ``short_jobs/_sync/facade.py`` is generated from this file
by ``make unasync`` (scripts/unasync_facade.py, with the ``unasync`` tool httpcore uses): edit
this one only; a test fails when the two drift apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from short_jobs._base import (
    DEFAULT_WAIT_TIMEOUT,
    PARSE_ERRORS,
    SEND_ERRORS,
    AsyncCall,
    AsyncSleep,
    FacadeBase,
    OnCreated,
    OnPoll,
    Settings,
    T,
    aremember,
    check_upload,
    error,
    last_response,
    path_job_id,
    retryable,
    success,
    transport_error,
    unreadable,
    upload_headers,
    upload_url,
)
from short_jobs.retry import aretry_call
from short_jobs.zipping import Progress, Source, afile_chunks, aprepared_zip
from short_jobs_client.api.short_jobs import commit_short_job, create_short_job, show_short_job
from short_jobs_client.models import CreateShortJobResponse, Language, ShowShortJobResponse
from short_jobs_client.types import Response


class AsyncShortJobs(FacadeBase):
    """The short-jobs API in a few calls; see :mod:`short_jobs.client` for the whole story.

    ``endpoint`` is a URL or a region name (else ``SHORT_JOBS_ENDPOINT``); every other keyword
    is described by :class:`short_jobs._base.Settings` (credentials, retries, timeouts, polling).
    ``sleep`` is injectable so tests never wait. Close it (``with``, or :meth:`close`) to
    release its connections. Mistakes found before sending raise :class:`UsageError` at once.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        sleep: AsyncSleep = asyncio.sleep,
        **settings: Unpack[Settings],
    ) -> None:
        super().__init__(endpoint, settings)
        self._sleep = sleep
        self._http = httpx.AsyncClient(**self._httpx_args(), event_hooks={"response": [aremember]})
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

    async def _send(self, call: AsyncCall[Response[T]], *, lookup: bool = False) -> Response[T]:
        """Run one generated call; no answer becomes NetworkError, an unparsable one its error."""
        token = last_response.set(None)
        try:
            return await call()
        except SEND_ERRORS as exc:
            raise transport_error(exc, self.endpoint) from exc
        except PARSE_ERRORS as exc:
            found = unreadable(exc, lookup)
            if found is None:
                raise
            raise found from exc
        finally:
            last_response.reset(token)  # do not keep the last answer alive

    async def _retry(
        self, call: AsyncCall[T], *, idempotent: bool, deadline: float | None = None
    ) -> T:
        return await aretry_call(
            call,
            self.retry,
            retryable=retryable(idempotent),
            sleep=self._sleep,
            rand=self._rand,
            clock=self._clock,
            deadline=deadline,
        )

    async def create(self, language: Language | str = Language.CN) -> CreateShortJobResponse:
        """Create a VOICE_ASSESS job; answers its ``job_id`` and ``data_uploading_url``.

        Not retried unless the request provably never reached the service (see retry.py): a
        blind retry could make a second job.
        """
        body = self._create_body(language)

        async def call() -> CreateShortJobResponse:
            response = await self._send(
                lambda: create_short_job.asyncio_detailed(
                    self.project_id, client=self.client, body=body, x_app_user_id=self._user
                )
            )
            return success(response, CreateShortJobResponse)

        return await self._retry(call, idempotent=False)

    async def upload(
        self,
        job_or_url: CreateShortJobResponse | str,
        source: Source,
        *,
        progress: Progress | None = None,
        on_zip: Progress | None = None,
    ) -> None:
        """PUT the recordings to the job's pre-signed URL, streamed in chunks.

        ``source`` is what :meth:`assess` takes: a zip (sent as it is, once checked to be one),
        a directory, WAV files, or a list of these (zipped first into a temporary file;
        ``on_zip(files_done, files_total)`` follows). Memory stays constant whatever the size;
        ``progress(sent, total)`` is called after each chunk. Retried on connection errors, 429
        and 5xx (a PUT of the same bytes is idempotent); an OBS refusal raises
        :class:`~short_jobs.errors.UploadError`, and so does a success whose ``ETag`` is not
        the MD5 of the bytes sent (``error_code`` ``ETagMismatch``); a bad source
        :class:`UsageError` before sending.
        """
        url = upload_url(job_or_url)
        async with aprepared_zip(source, on_zip) as path:
            await self._put(url, path, progress)

    async def _put(self, url: str, path: str | os.PathLike[str], progress: Progress | None) -> None:
        size = os.path.getsize(path)
        if self._upload_http is None:
            self._upload_http = httpx.AsyncClient(**self._upload_args())
        http = self._upload_http

        async def call() -> None:
            sent = hashlib.md5(usedforsecurity=False)  # of this attempt's bytes: the ETag's
            try:
                response = await http.put(
                    url,
                    content=afile_chunks(path, progress, digest=sent),
                    headers=upload_headers(size),
                )
            except SEND_ERRORS as exc:
                raise transport_error(exc, "the upload URL") from exc
            check_upload(response, sent.hexdigest())

        await self._retry(call, idempotent=True)

    async def commit(self, job_id: str) -> None:
        """Start the assessment of the uploaded zip.

        Not retried unless the request provably never reached the service: a commit whose
        answer was lost, sent again, answers 400 "already committed".
        """
        job_id = path_job_id(job_id)

        async def call() -> None:
            response = await self._send(
                lambda: commit_short_job.asyncio_detailed(
                    self.project_id, job_id, client=self.client, x_app_user_id=self._user
                )
            )
            if response.status_code != 200:
                raise error(response)

        await self._retry(call, idempotent=False)

    async def _show(self, job_id: str, deadline: float | None = None) -> Response[Any]:
        job_id = path_job_id(job_id)

        async def call() -> Response[Any]:
            response = await self._send(
                lambda: show_short_job.asyncio_detailed(
                    self.project_id, job_id, client=self.client, x_app_user_id=self._user
                ),
                lookup=True,
            )
            success(response, ShowShortJobResponse, lookup=True)
            return response

        return await self._retry(call, idempotent=True, deadline=deadline)

    async def show(self, job_id: str) -> ShowShortJobResponse:
        """The job's details (retried on transient errors); an unknown job: NotFoundError."""
        return success(await self._show(job_id), ShowShortJobResponse, lookup=True)

    async def wait(
        self,
        job_id: str,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        *,
        on_poll: OnPoll | None = None,
    ) -> ShowShortJobResponse:
        """Poll until the job is SUCCEED (answered) or FAILED (:class:`JobFailedError`).

        Every other state, including one this client does not know, is "not yet". Polls after
        0.2 s at first, backing off x1.5 to ``poll_cap``; after ``timeout`` seconds (``None``:
        no limit) raises :class:`WaitTimeoutError`; a job still CREATING after ``commit_grace``
        seconds raises :class:`JobNotCommittedError`. ``on_poll`` sees every answer.
        """
        started = self._clock()
        deadline = self._deadline(timeout)
        interval = self.poll_interval
        while True:
            response = await self._show(job_id, deadline)
            detail, pause = self._poll_step(job_id, response, timeout, started, interval, on_poll)
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
        on_zip: Progress | None = None,
        on_created: OnCreated | None = None,
        on_poll: OnPoll | None = None,
    ) -> ShowShortJobResponse:
        """Create, upload, commit and wait, in one call; answers the SUCCEED job.

        ``source``: a ``.zip`` file, a directory (its WAV files, recursively), WAV files, or a
        list of these; see :func:`short_jobs.zipping.collect_wavs`. The zip is made before the
        job is created, so a bad path fails without leaving a job behind.
        """
        async with aprepared_zip(source, on_zip) as zip_path:
            job = await self.create(language)
            if on_created is not None:
                on_created(job)
            await self._put(upload_url(job), zip_path, progress)
        await self.commit(job.job_id)
        return await self.wait(job.job_id, timeout, on_poll=on_poll)
