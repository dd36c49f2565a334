"""The `short_jobs_mock` plugin, as a user's project meets it (pytester, a fresh pytest process).

Each project runs with plugin autoloading off and only this toolkit's plugin loaded by its entry
point name (`-p short_jobs_mock`): a user's environment, without the other plugins of our dev
environment (schemathesis, respx...) importing the very modules these tests look for.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from user_project import (
    INI_WARNINGS_ARE_ERRORS,
    SERVER_STACK,
    missing_extra,
)

pytest_plugins = ["pytester"]

NOT_AT_LOAD = (
    *SERVER_STACK,
    "httpx",
    "short_jobs",
    "mock_server.faces.inprocess",
    "mock_server.faces.fixture",
)


@pytest.fixture(autouse=True)
def _no_plugin_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run_user_suite(pytester: pytest.Pytester) -> pytest.RunResult:
    """pytest in a fresh process, in the user's project, with only our plugin loaded."""
    return pytester.runpytest_subprocess("-p", "short_jobs_mock", "-p", "no:cacheprovider")


@pytest.mark.slow
def test_loading_the_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI_WARNINGS_ARE_ERRORS)
    pytester.makepyfile(
        test_first=f"""
        import sys

        def test_the_plugin_is_loaded_and_nothing_heavy_is_imported(request):
            assert request.config.pluginmanager.has_plugin("short_jobs_mock")
            assert [name for name in {NOT_AT_LOAD!r} if name in sys.modules] == []
        """,
        test_second=f"""
        import sys

        def test_the_fixture_imports_the_mock_when_asked(short_jobs_mock):
            assert short_jobs_mock.reset() == 0
            assert [name for name in {SERVER_STACK[:3]!r} if name not in sys.modules] == []
        """,
    )
    run_user_suite(pytester).assert_outcomes(passed=2)


# A user's suite with `filterwarnings = error`, and the fixture without the `mock` extra, run in
# real fresh installs: tests/mock/faces/test_install.py (one copy each, not a pytester imitation).


@pytest.mark.slow
def test_without_the_mock_extra_short_jobs_mock_says_what_to_install() -> None:
    script = textwrap.dedent(
        f"""
        import sys

        for name in {SERVER_STACK!r}:
            sys.modules[name] = None
        sys.argv = ["short-jobs-mock", "--help"]
        from mock_server.faces.launcher import main

        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert re.fullmatch(f"error: {missing_extra('short-jobs-mock')}\n", done.stderr)


def test_the_handle_classes_are_still_importable_from_the_plugin() -> None:
    from mock_server import pytest_plugin
    from mock_server.faces import fixture as handle

    assert pytest_plugin.MockHandle is handle.MockHandle
    assert pytest_plugin.ControlPlaneError is handle.ControlPlaneError
    with pytest.raises(AttributeError):
        _ = pytest_plugin.NoSuchThing
