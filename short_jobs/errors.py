"""The errors the client layer raises: one small typed tree, so callers catch what they can handle.

::

    ShortJobsError                 anything this package raises about the service
    ├── AuthError                  401 (APIGW.0301 / APIG.0301: signature, expired date, token...),
    │                              403 (APIGW.0302: not authorized)
    ├── InvalidRequestError        400 MSS.* (bad body or parameter, commit before the upload,
    │   │                          second commit), also 404 APIGW.0101 / 405 / 413 APIGW.0201
    │   ├── NotFoundError          400 MSS.00000003 answering a show: an unknown job
    │   └── JobNotCommittedError   wait() on a job still CREATING: it was never committed
    ├── ThrottledError             429 APIGW.0308, with ``retry_after`` (seconds) when sent
    ├── ServerError                any 5xx, declared (500 MSS.00000004) or not (502, 503...)
    ├── UploadError                the pre-signed upload URL answered an OBS XML error
    ├── JobFailedError             the job ended FAILED: ``job_failed_code``, ``job_failed_reason``
    ├── WaitTimeoutError           wait() ran out of time (also a builtin ``TimeoutError``)
    ├── NetworkError               no HTTP answer at all: connection refused, DNS, timeouts
    └── UsageError                 a mistake found before anything was sent (also a ValueError):
                                   credentials with invisible characters, a bad endpoint, an
                                   illegal header or URL, a missing file; never retried

Every error carries ``status`` (HTTP status, ``None`` when there was no answer), ``error_code``,
``error_msg`` and ``request_id``. The request id comes from the ``X-Request-Id`` response header
(what the official SDK reads, and what support asks for), falling back to the body's
``request_id`` (gateway errors carry it there too).

Classes rest on the status, the ``error_code`` and the operation, never on a message's wording
(which the service may reword or translate). Why MetaStudio's "not found" is a 400 subclass: the
service reports an unknown job as 400 ``MSS.00000003`` ("invalid parameter"), not as 404 (404 is
the gateway's "no such API"). ``MSS.00000003`` also answers a commit before the upload or a second
commit, so the code alone is not "not found": it is when it answers a *show*, whose only
parameters are the project and the job id (``error_from_response(..., lookup=True)``). A commit of
an unknown job is therefore an ``InvalidRequestError``; ``show`` tells which. ``NotFoundError``
keeps ``except InvalidRequestError`` working while letting callers single out the unknown job.

Anything unexpected still raises (an undeclared 418 is a plain ``ShortJobsError``, a 502 a
``ServerError``): no call of the facade ever answers ``None`` for an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import httpx

from short_jobs.redact import scrub

if TYPE_CHECKING:
    from short_jobs_client.models import ShowShortJobResponse

__all__ = [
    "AuthError",
    "InvalidRequestError",
    "JobFailedError",
    "JobNotCommittedError",
    "NetworkError",
    "NotFoundError",
    "ServerError",
    "ShortJobsError",
    "ThrottledError",
    "UploadError",
    "UsageError",
    "WaitTimeoutError",
    "error_from_response",
    "parse_retry_after",
    "upload_error_from_response",
]

REQUEST_ID_HEADER = "X-Request-Id"
_OBS_REQUEST_ID_HEADER = "x-obs-request-id"
_AUTH_CODE = re.compile(r"^APIG(W)?\.0301$")
_NOT_FOUND_CODE = "MSS.00000003"
_BODY_SNIPPET = 200
_MAX_XML = 64 * 1024
"""OBS error bodies are a few hundred bytes; a bigger "error" is not parsed as XML at all."""


class ShortJobsError(Exception):
    """Root of the tree; ``str()`` is one line with everything support needs."""

    status: int | None
    error_code: str | None
    error_msg: str | None
    request_id: str | None
    retry_after: float | None
    """Seconds the server asked to wait (``Retry-After``), on any error whose response sent it."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_code: str | None = None,
        error_msg: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(message or self._describe())

    def __str__(self) -> str:
        # scrubbed when shown, not when made: a secret may be remembered after the error exists
        return scrub(super().__str__())

    def __repr__(self) -> str:
        return scrub(super().__repr__())

    def _describe(self) -> str:
        parts = [f"HTTP {self.status}" if self.status is not None else None, self.error_code]
        head = " ".join(p for p in parts if p)
        text = f"{head}: {self.error_msg}" if head and self.error_msg else head or self.error_msg
        text = text or type(self).__name__
        return f"{text} (request_id {self.request_id})" if self.request_id else text


class AuthError(ShortJobsError):
    """The credentials were refused (401, APIGW.0301/APIG.0301) or are not allowed this API (403).

    ``error_msg`` says which check failed: signature mismatch, signature expired (clock more
    than 15 minutes off), unknown access key, token missing or expired, project mismatch.
    """


class InvalidRequestError(ShortJobsError):
    """The service refused the request as invalid (400 MSS.*); retrying it unchanged won't help."""


class NotFoundError(InvalidRequestError):
    """The job does not exist: 400 MSS.00000003 answering a show (MetaStudio never answers 404)."""


class JobNotCommittedError(InvalidRequestError):
    """``wait`` found the job still ``CREATING`` after the commit grace: nobody committed it.

    ``job`` is the last answer. Upload its zip and commit it, or start over with ``assess``.
    """

    def __init__(self, job: ShowShortJobResponse, grace: float) -> None:
        self.job = job
        self.job_id = job.job_id
        self.grace = grace
        super().__init__(
            f"job {job.job_id} was never committed (still {job.state.value} after {grace:g} s): "
            "upload its zip and commit it, or run assess to do every step"
        )


class ThrottledError(ShortJobsError):
    """Too many requests (429 APIGW.0308); ``retry_after`` is the server's hint in seconds."""


class ServerError(ShortJobsError):
    """The service failed (5xx); the idempotent calls retry these before raising."""


class UploadError(ShortJobsError):
    """The pre-signed upload URL refused the zip.

    OBS answers XML ``<Error><Code/><Message/><RequestId/>...``: ``error_code`` is its Code (e.g.
    ``SignatureDoesNotMatch``, ``AccessDenied``, ``EntityTooLarge``), ``error_msg`` its Message.
    """


class JobFailedError(ShortJobsError):
    """The job reached ``FAILED`` (or another failure state: ``SPLIT_FAILED``, ``AUDIT_FAILED``,
    ``USER_REVIEW_REJECT``); the recordings, not the request, are the problem."""

    def __init__(self, job: ShowShortJobResponse, request_id: str | None = None) -> None:
        self.job = job
        self.job_id = job.job_id
        self.job_failed_code = _text(job.job_failed_code)
        self.job_failed_reason = _text(job.job_failed_reason)
        super().__init__(
            f"job {job.job_id} failed: {self.job_failed_code or '?'}: "
            f"{self.job_failed_reason or 'no reason given'}",
            error_code=self.job_failed_code,
            error_msg=self.job_failed_reason,
            request_id=request_id,
        )


class WaitTimeoutError(ShortJobsError, TimeoutError):
    """``wait`` gave up: the job was still not in a final state after ``timeout`` seconds."""

    def __init__(self, job_id: str, timeout: float, last: ShowShortJobResponse | None) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.last = last
        state = last.state.value if last is not None else "unknown"
        super().__init__(f"job {job_id} still {state} after {timeout:g} s")


class NetworkError(ShortJobsError):
    """No HTTP answer (connection refused, DNS failure, timeout); ``__cause__`` is httpx's error."""


class UsageError(ShortJobsError, ValueError):
    """A mistake found on our side before anything was sent; retrying cannot help.

    ``problem`` is a template naming the caller's arguments as ``{name}`` fields (``names``), so
    each surface says it in its own terms: ``str()`` reads ``project_id=`` (Python), and the
    command line renders ``--project-id`` through :meth:`describe`. Also a ``ValueError``, what
    a bad argument raises in Python.
    """

    def __init__(self, problem: str, *, names: tuple[str, ...] = ()) -> None:
        self.problem = problem
        self.names = names
        super().__init__(self.describe(lambda name: f"{name}="))

    def describe(self, spell: Callable[[str], str]) -> str:
        """The message with every argument name spelled by ``spell`` (``"project_id"`` in)."""
        return self.problem.format_map({name: spell(name) for name in self.names})


def literal(text: str) -> str:
    """``text`` made safe to embed in a :class:`UsageError` template (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


def _text(value: object) -> str | None:
    """A generated model's optional string field, ``UNSET`` and empty read as ``None``."""
    return value if isinstance(value, str) and value else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from ``Retry-After``: delta-seconds (what the gateway sends) or an HTTP-date."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _json_error_body(content: bytes) -> dict[str, str]:
    """``error_code``, ``error_msg``, ``request_id`` of a JSON error body (``{}``: none)."""
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(body, dict):
        return {}
    keys = ("error_code", "error_msg", "request_id")
    return {k: v for k, v in body.items() if k in keys and isinstance(v, str)}


def _snippet(content: bytes) -> str | None:
    text = " ".join(content.decode("utf-8", "replace").split())
    return text[:_BODY_SNIPPET] or None


def _error_class(status: int, code: str | None, lookup: bool) -> type[ShortJobsError]:
    if (code and _AUTH_CODE.match(code)) or status in (401, 403):
        return AuthError
    if status == 429:
        return ThrottledError
    if status >= 500:
        return ServerError
    if lookup and status == 400 and code == _NOT_FOUND_CODE:
        return NotFoundError
    if status in (400, 404, 405, 413):
        return InvalidRequestError
    return ShortJobsError


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    parsed: object = None,
    *,
    lookup: bool = False,
) -> ShortJobsError:
    """The error for an API answer that is not the operation's success.

    ``lookup``: the answer is to a show (a lookup by job id), where 400 ``MSS.00000003`` means
    the job does not exist (:class:`NotFoundError`); see the module docstring.

    Takes what a generated ``Response`` holds (``status_code``, ``headers``, ``content``,
    ``parsed``); when ``parsed`` is not an ``ErrorResponse`` (an undeclared status, or a body the
    generated code could not read) the body is read here, and failing that a snippet of it
    becomes ``error_msg`` so the message still says what came back.
    """
    headers = httpx.Headers(headers)
    code = getattr(parsed, "error_code", None)
    msg = getattr(parsed, "error_msg", None)
    body_request_id = getattr(parsed, "request_id", None)
    if not isinstance(code, str):
        fields = _json_error_body(content)
        code, msg = fields.get("error_code"), fields.get("error_msg")
        body_request_id = fields.get("request_id")
        if code is None and msg is None:
            msg = _snippet(content) or f"unexpected HTTP status {status}"
    request_id = headers.get(REQUEST_ID_HEADER) or _text(body_request_id)
    cls = _error_class(status, code, lookup)
    return cls(
        status=status,
        error_code=code,
        error_msg=msg if isinstance(msg, str) else None,
        request_id=request_id,
        retry_after=parse_retry_after(headers.get("Retry-After")),
    )


def upload_error_from_response(
    status: int, headers: Mapping[str, str], content: bytes
) -> UploadError:
    """The error for a refused upload, from OBS's XML body (or a snippet of whatever came back)."""
    code: str | None = None
    msg: str | None = None
    body_request_id: str | None = None
    headers = httpx.Headers(headers)
    root: ElementTree.Element | None = None
    if len(content) <= _MAX_XML:
        try:
            root = ElementTree.fromstring(content)
        except ElementTree.ParseError:
            root = None
    if root is not None and root.tag == "Error":
        code = root.findtext("Code") or None
        msg = root.findtext("Message") or None
        body_request_id = root.findtext("RequestId") or None
    if code is None and msg is None:
        msg = _snippet(content) or f"unexpected HTTP status {status}"
    request_id = (
        headers.get(REQUEST_ID_HEADER) or headers.get(_OBS_REQUEST_ID_HEADER) or body_request_id
    )
    return UploadError(
        status=status,
        error_code=code,
        error_msg=msg,
        request_id=request_id,
        retry_after=parse_retry_after(headers.get("Retry-After")),
    )
