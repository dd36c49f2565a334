"""Hand-written client layer for MetaStudio voice short jobs.

``ShortJobs`` / ``AsyncShortJobs`` are the entry point (see :mod:`short_jobs.client`); errors
form the tree drawn in :mod:`short_jobs.errors`; :class:`RetryPolicy` tunes the retries of the
idempotent calls. ``AkSkAuth`` and ``TokenAuth`` are the ``httpx.Auth`` classes the facade
installs, usable on their own with any httpx client.
"""

from short_jobs.auth import AkSkAuth, TokenAuth
from short_jobs.client import AsyncShortJobs, ShortJobs
from short_jobs.endpoints import region_endpoint, resolve_endpoint
from short_jobs.errors import (
    AuthError,
    InvalidRequestError,
    JobFailedError,
    JobNotCommittedError,
    NetworkError,
    NotFoundError,
    ServerError,
    ShortJobsError,
    ThrottledError,
    UploadError,
    UsageError,
    WaitTimeoutError,
)
from short_jobs.retry import NO_RETRY, RetryPolicy
from short_jobs.zipping import zip_recordings

__all__ = [
    "NO_RETRY",
    "AkSkAuth",
    "AsyncShortJobs",
    "AuthError",
    "InvalidRequestError",
    "JobFailedError",
    "JobNotCommittedError",
    "NetworkError",
    "NotFoundError",
    "RetryPolicy",
    "ServerError",
    "ShortJobs",
    "ShortJobsError",
    "ThrottledError",
    "TokenAuth",
    "UploadError",
    "UsageError",
    "WaitTimeoutError",
    "region_endpoint",
    "resolve_endpoint",
    "zip_recordings",
]
