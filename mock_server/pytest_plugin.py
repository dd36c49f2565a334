"""pytest plugin: the `short_jobs_mock` fixture, for testing code that calls the short-jobs API.

Installed with this toolkit (entry point `pytest11`), so any project that depends on it gets:

    def test_my_code(short_jobs_mock):
        short_jobs_mock.fail_next("create_short_job", status=429, error_code="APIGW.0308",
                                  retry_after=1)
        my_code(endpoint=short_jobs_mock.url, project_id=short_jobs_mock.project_id, ...)
        assert [r["status"] for r in short_jobs_mock.requests()] == [429, 200]

One real mock server (in-process, 127.0.0.1, a free port, a temporary data dir, the control plane
on, responses validated against the spec) serves the whole session; the fixture resets it before
each test, so every test starts with no jobs, no journal, no faults and `timed` progress.
Set `short_jobs_mock_processing_seconds` in the pytest ini to change how long jobs take (0).

pytest loads this plugin in every run; it then imports only pytest and the standard library. The
server stack (the `mock` extra) is imported when a test first asks for the fixture; without that
extra the fixture errors with one line saying what to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from mock_server.faces.extra import MockExtraMissing, import_server_module

if TYPE_CHECKING:
    from mock_server.faces.fixture import ControlPlaneError, MockHandle
    from mock_server.faces.inprocess import RunningMock

__all__ = ["ControlPlaneError", "MockHandle"]

PROCESSING_INI = "short_jobs_mock_processing_seconds"
FIXTURE = "short_jobs_mock"


def __getattr__(name: str) -> Any:
    # `MockHandle` and `ControlPlaneError` need httpx and the client: loaded on first use, so that
    # loading this plugin (every pytest run in an environment with the toolkit) stays cheap.
    if name in __all__:
        from mock_server.faces import fixture as handle

        return getattr(handle, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        PROCESSING_INI, "seconds a committed job takes in the short_jobs_mock fixture", default="0"
    )


@pytest.fixture(scope="session")
def short_jobs_mock_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningMock]:
    """The session's mock server; use `short_jobs_mock` in tests, which resets it first."""
    testing = _import_testing()
    seconds = float(request.config.getini(PROCESSING_INI))
    data_dir = tmp_path_factory.mktemp("short-jobs-mock")
    with testing.running_mock(data_dir, control=True, processing_seconds=seconds) as server:
        yield server


def _import_testing() -> ModuleType:
    try:
        return import_server_module(
            "mock_server.faces.inprocess", needed_by=f"the {FIXTURE} fixture"
        )
    except MockExtraMissing as missing:
        problem = str(missing)
    # Outside the `except`: the test's report is this one line, not the chain of import errors.
    pytest.fail(problem, pytrace=False)


@pytest.fixture
def short_jobs_mock(short_jobs_mock_server: RunningMock) -> Iterator[MockHandle]:
    """A reset mock for this test: `.url`, credentials, `.client`, and the control plane."""
    from mock_server.faces.fixture import MockHandle

    handle = MockHandle(short_jobs_mock_server)
    handle.reset()
    try:
        yield handle
    finally:
        handle.close()
