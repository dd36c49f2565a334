"""Fixtures of the client unit tests: fake time, the facade on each surface (sync, async), respx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import respx

from short_jobs import (
    AsyncShortJobs,
    ShortJobs,
)

from .client_fakes import AK, BASE, PROJECT, SK, FakeTime, Make, Surface


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(params=["sync", "async"])
def surface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(surface: str, fake_time: FakeTime) -> Iterator[Make]:
    """Build the facade of this test's surface; time is fake unless ``sleep`` etc. are given."""
    loop = asyncio.new_event_loop()
    made: list[Surface] = []

    def build(*args: Any, **kwargs: Any) -> Surface:
        kwargs.setdefault("clock", fake_time.clock)
        if surface == "sync":
            kwargs.setdefault("sleep", fake_time.sleep)
            facade: ShortJobs | AsyncShortJobs = ShortJobs(*args, **kwargs)
        else:
            kwargs.setdefault("sleep", fake_time.asleep)
            facade = AsyncShortJobs(*args, **kwargs)
        made.append(Surface(facade, loop))
        return made[-1]

    yield build
    for each in made:
        each.close()
    loop.close()


@pytest.fixture
def sj(make: Make) -> Surface:
    return make(BASE, project_id=PROJECT, ak=AK, sk=SK, rand=lambda: 0.5)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router
