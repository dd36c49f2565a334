"""Shared fixtures: a live mock over real HTTP on 127.0.0.1, and real zip files of WAVs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from mock_server.samples import sample_zip
from mock_server.testing import RunningMock, running_mock


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """One mock for the session; tests create their own jobs, so they do not interfere."""
    with running_mock(tmp_path_factory.mktemp("mock-data"), processing_seconds=0.2) as server:
        yield server


@pytest.fixture
def make_mock(tmp_path: Path) -> Callable[..., AbstractContextManager[RunningMock]]:
    """A mock with its own data directory and settings, for tests that need other settings."""

    def make(**overrides: Any) -> AbstractContextManager[RunningMock]:
        return running_mock(tmp_path / "mock-data", **overrides)

    return make


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip of three speech-like WAVs."""
    return sample_zip(tmp_path_factory.mktemp("zips") / "recordings.zip", count=3)
