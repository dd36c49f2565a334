"""Client unit tests (respx, no server, fake time): retries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from short_jobs import (
    InvalidRequestError,
    NetworkError,
    RetryPolicy,
    ServerError,
    ThrottledError,
)
from short_jobs.retry import is_transient, never_reached_service, retry_call
from short_jobs_client.models import JobState

from .client_fakes import COLLECTION, CREATED, ITEM, JOB, FakeTime, Surface, error_body, job_body

pytestmark = pytest.mark.usefixtures("clean_client_env")


def test_show_absorbs_429_with_retry_after_and_503(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get(ITEM).mock(
        side_effect=[
            httpx.Response(429, json=error_body("APIGW.0308", "t"), headers={"Retry-After": "3"}),
            httpx.Response(503, content=b"unavailable"),
            httpx.Response(200, json=job_body("PROCESSING")),
        ]
    )
    assert sj.show(JOB).state is JobState.PROCESSING
    assert route.call_count == 3
    # Retry-After is honoured exactly; then full jitter: rand() 0.5 * min(cap, base * 2**1)
    assert fake_time.sleeps == [3.0, 0.5]


def test_show_gives_up_after_the_policy_attempts(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    sj.retry = RetryPolicy(attempts=3, base=1.0, cap=1.5)
    route = mock.get(ITEM).respond(500, json=error_body("MSS.00000004", "Internal error"))
    with pytest.raises(ServerError):
        sj.show(JOB)
    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 0.75]  # 0.5 * min(1.5, 1.0), 0.5 * min(1.5, 2.0)


def test_show_retries_connection_errors(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get(ITEM).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=job_body("WAITING"))]
    )
    assert sj.show(JOB).state is JobState.WAITING
    assert route.call_count == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, content=b"unavailable"),
        httpx.Response(500, json=error_body("MSS.00000004", "Internal error")),
        httpx.ReadTimeout("the answer was lost"),
    ],
)
def test_create_is_not_retried_blindly(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime, answer: Any
) -> None:
    route = mock.post(COLLECTION).mock(side_effect=[answer, httpx.Response(200, json=CREATED)])
    with pytest.raises((ServerError, NetworkError)):
        sj.create()
    assert route.call_count == 1
    assert fake_time.sleeps == []


def test_commit_is_not_retried_blindly(sj: Surface, mock: respx.MockRouter) -> None:
    route = mock.post(ITEM).mock(
        side_effect=[httpx.Response(502, content=b"bad gateway"), httpx.Response(200)]
    )
    with pytest.raises(ServerError):
        sj.commit(JOB)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("Connection refused"),
        httpx.Response(429, json=error_body("APIGW.0308", "throttled")),
    ],
)
def test_create_is_resent_only_when_it_never_reached_the_service(
    sj: Surface, mock: respx.MockRouter, answer: Any
) -> None:
    route = mock.post(COLLECTION).mock(side_effect=[answer, httpx.Response(200, json=CREATED)])
    assert sj.create().job_id == JOB
    assert route.call_count == 2


def test_retry_policy_backoff_is_capped_full_jitter() -> None:
    policy = RetryPolicy(attempts=10, base=0.5, cap=4.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(10_000, lambda: 1.0) == 4.0  # no overflow for huge retry counts


def test_retry_policy_refuses_a_retry_after_beyond_its_limit() -> None:
    policy = RetryPolicy(max_retry_after=10)
    error = ThrottledError(status=429, retry_after=3600)
    assert policy.delay(0, error) is None
    assert policy.delay(0, ThrottledError(status=429, retry_after=10)) == 10


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base": -1.0}, {"cap": -1.0}])
def test_retry_policy_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=">="):
        RetryPolicy(**kwargs)


def test_retry_call_stops_before_a_deadline(fake_time: FakeTime) -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ServerError(status=503, retry_after=5)

    with pytest.raises(ServerError):
        retry_call(
            failing,
            RetryPolicy(attempts=10),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            deadline=fake_time.now + 12,
        )
    assert fake_time.sleeps == [5, 5]  # a third 5 s wait would pass the deadline
    assert len(calls) == 3


def test_transient_and_unsent_classification() -> None:
    unsent = NetworkError("refused")
    unsent.__cause__ = httpx.ConnectError("refused")
    lost = NetworkError("timeout")
    lost.__cause__ = httpx.ReadTimeout("timeout")
    assert is_transient(unsent) and is_transient(lost)
    assert never_reached_service(unsent) and not never_reached_service(lost)
    assert is_transient(ServerError(status=503)) and not never_reached_service(
        ServerError(status=503)
    )
    assert never_reached_service(ThrottledError(status=429))
    assert not is_transient(InvalidRequestError(status=400))
