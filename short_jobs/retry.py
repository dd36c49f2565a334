"""When and how the client repeats a request: capped exponential backoff with full jitter.

What is retried, and why:

- ``show`` (a GET), every poll of ``wait``, and the upload (a PUT of the same bytes to the same
  key) are idempotent: repeating them cannot change the outcome. They retry on
  :func:`is_transient` errors: no answer at all (connection refused or reset, timeouts), 429
  and any 5xx.
- ``create`` and ``commit`` are not idempotent and are never retried blindly. A create whose
  answer was lost may still have made a job, and a retry makes a second one (an orphan nobody
  commits). A commit whose answer was lost may have gone through, and a retry answers 400 "already
  committed", turning a success into an error. So they are repeated only when the request
  provably never reached the service (:func:`never_reached_service`): the connection could not
  even be opened, or the API gateway throttled it (429 is decided at the gateway, before the
  service sees the request). A 5xx or a timeout after sending is raised to the caller, who knows
  whether a duplicate job matters.

Backoff: before retry ``n`` (0-based) the client sleeps ``uniform(0, min(cap, base * 2**n))``
("full jitter", which spreads clients that failed together so they do not come back together),
unless the answer carried ``Retry-After``: then it waits exactly that long, as the server asked.
A ``Retry-After`` longer than ``max_retry_after`` is not waited out; the error is raised.

``sleep``, ``clock`` and the random source are parameters so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from short_jobs.errors import NetworkError, ShortJobsError

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "RetryPolicy",
    "aretry_call",
    "is_transient",
    "never_reached_service",
    "retry_call",
]

T = TypeVar("T")
Predicate = Callable[[ShortJobsError], bool]
_log = logging.getLogger("short_jobs.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``attempts`` counts every try, the first included (``1`` means never retry); ``base`` is the
    first backoff ceiling in seconds and ``cap`` the largest; a ``Retry-After`` above
    ``max_retry_after`` seconds is not waited for.
    """

    attempts: int = 5
    base: float = 0.5
    cap: float = 10.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be >= 1 (1 means no retries)")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("base, cap and max_retry_after must be >= 0")

    def backoff(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter delay before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(retry, 62))
        return ceiling * rand()

    def delay(
        self, retry: int, error: ShortJobsError, rand: Callable[[], float] = random.random
    ) -> float | None:
        """Seconds to wait before retry ``retry`` after ``error``; ``None``: do not retry."""
        if retry + 1 >= self.attempts:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        return self.backoff(retry, rand)


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


def is_transient(error: ShortJobsError) -> bool:
    """No answer, 429 or 5xx: worth repeating an idempotent request for."""
    if isinstance(error, NetworkError):
        return True
    return error.status is not None and (error.status == 429 or error.status >= 500)


def never_reached_service(error: ShortJobsError) -> bool:
    """True only when the request certainly was not processed, so even a create may be resent.

    That is: the TCP/TLS connection was never established, or the gateway throttled it (429).
    """
    if isinstance(error, NetworkError):
        return isinstance(error.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
    return error.status == 429


def _next_delay(
    policy: RetryPolicy,
    retry: int,
    error: ShortJobsError,
    retryable: Predicate,
    rand: Callable[[], float],
    clock: Callable[[], float],
    deadline: float | None,
) -> float | None:
    if not retryable(error):
        return None
    delay = policy.delay(retry, error, rand)
    if delay is None or (deadline is not None and clock() + delay > deadline):
        return None
    _log.info("retrying in %.2f s (retry %d) after: %s", delay, retry + 1, error)
    return delay


def retry_call(
    call: Callable[[], T],
    policy: RetryPolicy = DEFAULT_RETRY,
    *,
    retryable: Predicate = is_transient,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
    deadline: float | None = None,
) -> T:
    """``call()``, repeated on ``retryable`` errors as ``policy`` allows; raises the last error.

    ``deadline`` (a ``clock()`` value) stops retrying when the next sleep would pass it.
    """
    retry = 0
    while True:
        try:
            return call()
        except ShortJobsError as error:
            delay = _next_delay(policy, retry, error, retryable, rand, clock, deadline)
            if delay is None:
                raise
        sleep(delay)
        retry += 1


async def aretry_call(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy = DEFAULT_RETRY,
    *,
    retryable: Predicate = is_transient,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
    deadline: float | None = None,
) -> T:
    """The ``async`` twin of :func:`retry_call`."""
    retry = 0
    while True:
        try:
            return await call()
        except ShortJobsError as error:
            delay = _next_delay(policy, retry, error, retryable, rand, clock, deadline)
            if delay is None:
                raise
        await sleep(delay)
        retry += 1
