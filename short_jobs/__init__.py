"""Hand-written client layer for MetaStudio voice short jobs.

``ShortJobs`` / ``AsyncShortJobs`` are the entry point (see :mod:`short_jobs.client`); errors
form the tree drawn in :mod:`short_jobs.errors`; :class:`RetryPolicy` tunes the retries of the
idempotent calls. ``AkSkAuth`` and ``TokenAuth`` are the ``httpx.Auth`` classes the facade
installs, usable on their own with any httpx client.

The names are loaded on first use (PEP 562 ``__getattr__``): importing one module of the package
(``short_jobs.signing``, ``short_jobs.endpoints``, as the mock does) does not import the client,
httpx and the generated client with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each public name and the module that holds it.
_HOMES = {
    "AkSkAuth": "auth",
    "TokenAuth": "auth",
    "AsyncShortJobs": "client",
    "ShortJobs": "client",
    "region_endpoint": "endpoints",
    "resolve_endpoint": "endpoints",
    **dict.fromkeys(
        (
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
        ),
        "errors",
    ),
    "NO_RETRY": "retry",
    "RetryPolicy": "retry",
    "zip_recordings": "zipping",
}


if not TYPE_CHECKING:  # type checkers see the imports above, so a misspelt name stays an error

    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
        globals()[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


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
