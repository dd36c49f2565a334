"""Shared fixtures: a live mock over real HTTP on 127.0.0.1, and real zip files of WAVs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from browser import MISSING, Chromium, find_chromium
from hypothesis import settings
from spec_exchanges import VIOLATIONS, Watcher

from mock_server.faces.fixture import MockHandle
from mock_server.faces.inprocess import WATCHERS, RunningMock, running_mock
from mock_server.samples import make_zip, sample_zip

# CI (CI=true): the property tests draw the same examples on every run, so a submission is judged
# on its code, not on the draw. Developers' runs keep drawing new inputs (and replay the failures
# they found from .hypothesis/); what they find becomes an @example.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# Every in-process mock of the suite is watched: an answer its spec does not declare fails the
# test that got it (spec_exchanges.py; issue 21, item 5).
WATCHERS.append(Watcher)


@pytest.fixture(autouse=True)
def answers_are_declared() -> Iterator[None]:
    VIOLATIONS.clear()
    yield
    found, VIOLATIONS[:] = list(VIOLATIONS), []
    assert not found, "answers the specs do not declare:\n  " + "\n  ".join(dict.fromkeys(found))


@pytest.fixture
def mock(short_jobs_mock: MockHandle) -> RunningMock:
    """The plugin's mock (reset for this test), for tests that talk to it over plain HTTP."""
    return short_jobs_mock.server


@pytest.fixture
def make_mock(tmp_path: Path) -> Callable[..., AbstractContextManager[RunningMock]]:
    """A mock with its own data directory and settings, for tests that need other settings."""

    def make(**overrides: Any) -> AbstractContextManager[RunningMock]:
        return running_mock(tmp_path / "mock-data", **overrides)

    return make


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip of three speech-like WAVs, 2.5 s each.

    Every mock that assesses it scores its DNSMOS windows once (a cache per process): a 2.5 s
    take, doubled to 10 s, is one window, where the 4 s default is four (doubled to 16 s, seven
    windows a second apart, four distinct). That is most of an assessment's time, paid by each
    xdist worker and by every mock of its own process (kill -9 and restart, gunicorn workers)."""
    return sample_zip(tmp_path_factory.mktemp("zips") / "recordings.zip", count=3, seconds=2.5)


@pytest.fixture(scope="session")
def broken_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip whose one WAV is not a RIFF/WAVE file: its job fails with MSS.20000002."""
    path = tmp_path_factory.mktemp("broken") / "broken.zip"
    return make_zip(path, {"recordings/broken.wav": b"this is not a RIFF/WAVE file"})


# Every test that starts a process (a mock, a venv, a browser, a CLI in a subprocess) is marked
# `slow`, so that `-m "not slow"` is the quick loop it promises. Python's audit events see every
# way a process starts; a test that starts one unmarked fails, naming what it started.
SPAWN_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.forkpty"}
)
_spawned: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in SPAWN_EVENTS:
        _spawned.append(f"{event} {args[1] if event == 'subprocess.Popen' else args[:1]!r}")


sys.addaudithook(_audit)


def _fail_unmarked_spawn(item: pytest.Item) -> None:
    started, _spawned[:] = _spawned[:1], []
    if started and item.get_closest_marker("slow") is None:
        pytest.fail(f"starts a process ({started[0][:200]}) but is not marked slow", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _spawned.clear()
    result = yield
    _fail_unmarked_spawn(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    _spawned.clear()
    result = yield
    _fail_unmarked_spawn(item)
    return result


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `slow` tests first, so that the longest start early, not last. Under xdist this needs
    `--dist worksteal` (as `make test` runs): `--dist load` hands them all to one worker in its
    first chunk, and keeps them there."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header() -> str:
    found = find_chromium()
    return f"chromium: {found} (browser tests run)" if found else f"chromium: none; {MISSING}"


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Headless Chromium for tests that look at pages; skips the test when it is not installed."""
    executable = find_chromium()
    if executable is None:
        pytest.skip(MISSING)
    return Chromium(executable)


CLIENT_ENV_PREFIXES = ("HUAWEICLOUD_SDK_", "SHORT_JOBS_")


@pytest.fixture
def clean_client_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own credentials and endpoint must not leak into client tests: every
    variable the client reads (the official SDK's `HUAWEICLOUD_SDK_*`, our `SHORT_JOBS_*`; the
    mock's own `SHORT_JOBS_MOCK_*` stay) is removed for the test."""
    for name in list(os.environ):
        if name.startswith(CLIENT_ENV_PREFIXES) and not name.startswith("SHORT_JOBS_MOCK_"):
            monkeypatch.delenv(name)
