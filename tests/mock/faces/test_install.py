"""The toolkit installed as a user installs it, in fresh virtualenvs: what each extra brings.

`pip install .` must give the client and a working `short-jobs` without the server stack, and
`pip install '.[mock]'` must add a working `short-jobs-mock` and the fixture. Our dev environment
has everything installed, so only a fresh virtualenv can show what the package's own metadata
brings. The venvs are made and filled by uv (pinned in the dev extra; `uv pip install` resolves
like `pip install`, from the same metadata) at the versions of constraints.txt, from uv's cache:
about a second each instead of half a minute with pip. The toolkit itself is always rebuilt from
this checkout. These tests are `slow`; one more checks the client's imports in our own
environment, where the mock is installed and so could be imported by mistake.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from user_project import (
    INI_WARNINGS_ARE_ERRORS,
    SERVER_STACK,
    TESTS_WITH_THE_FIXTURE,
    TESTS_WITHOUT_THE_EXTRA,
    fixture_error_lines,
    missing_extra,
)
from venvs import UV, run_clean

DISTRIBUTION = "short-jobs-toolkit"
# The distributions the `mock` extra adds, as pip names them.
SERVER_DISTRIBUTIONS = {"connexion", "uvicorn", "starlette", "numpy", "jsonschema", "pyyaml"}
# Python that prints, as JSON, the modules loaded after importing the client and running the
# command line's --help.
CLIENT_IMPORTS = """
import json, sys
import short_jobs, short_jobs.signing, short_jobs_client
from short_jobs.cli import main
sys.argv = ["short-jobs", "--help"]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _fresh_venv(where: Path, extra: str) -> Path:
    """A new virtualenv with the toolkit (`extra`: "" or "[mock]") and pytest; its bin/."""
    venv = where / "venv"
    made = run_clean(UV, "venv", "--quiet", "--python", sys.executable, venv)
    assert made.returncode == 0, made.stderr
    requirement = f"{DISTRIBUTION}{extra} @ {ROOT.as_uri()}"
    installed = run_clean(
        UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
        "--constraints", ROOT / "constraints.txt",
        "--refresh-package", DISTRIBUTION,  # never a wheel built from an older checkout
        requirement, "pytest",
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return venv / "bin"


def _distributions(bin_dir: Path) -> set[str]:
    frozen = run_clean(UV, "pip", "freeze", "--python", bin_dir / "python")
    assert frozen.returncode == 0, frozen.stderr
    return {re.split(r"[=@ ]", line, maxsplit=1)[0].lower() for line in frozen.stdout.split()}


@pytest.fixture(scope="module")
def client_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("client-only"), "")


@pytest.fixture(scope="module")
def with_mock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("with-mock"), "[mock]")


@pytest.mark.slow
def test_the_plain_install_has_no_server_stack(client_only: Path) -> None:
    installed = _distributions(client_only)
    assert DISTRIBUTION in installed
    assert not installed & SERVER_DISTRIBUTIONS


def _client_imports(python: Path) -> set[str]:
    done = run_clean(python, "-c", CLIENT_IMPORTS)
    assert done.returncode == 0, done.stderr
    return {name.partition(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


@pytest.mark.slow
def test_the_client_imports_nothing_of_the_mock_even_when_it_is_installed() -> None:
    loaded = _client_imports(Path(sys.executable))  # our dev environment: the mock is there
    assert "short_jobs" in loaded
    assert not loaded & {"mock_server", *SERVER_STACK}


@pytest.mark.slow
def test_the_client_and_its_command_import_nothing_of_the_mock(client_only: Path) -> None:
    loaded = _client_imports(client_only / "python")
    assert "short_jobs" in loaded
    assert not loaded & {"mock_server", *SERVER_STACK}


@pytest.mark.slow
def test_the_packages_say_they_are_typed(client_only: Path) -> None:
    packages = ("short_jobs", "short_jobs_client", "mock_server")
    check = f"""
import importlib.util, pathlib
for name in {packages!r}:
    folder = pathlib.Path(importlib.util.find_spec(name).origin).parent
    assert (folder / "py.typed").is_file(), name
"""
    done = run_clean(client_only / "python", "-c", check)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_short_jobs_works_without_the_mock_extra(client_only: Path) -> None:
    done = run_clean(client_only / "short-jobs", "--help")
    assert done.returncode == 0, done.stderr
    assert "assess" in done.stdout


@pytest.mark.slow
def test_short_jobs_mock_names_the_extra_it_needs(client_only: Path) -> None:
    done = run_clean(client_only / "short-jobs-mock", "--help")
    assert done.returncode == 1
    assert re.fullmatch(f"error: {missing_extra('short-jobs-mock')}\n", done.stderr)


@pytest.mark.slow
def test_the_fixture_names_the_extra_it_needs(client_only: Path, tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(TESTS_WITHOUT_THE_EXTRA, "utf-8")
    done = run_clean(client_only / "python", "-m", "pytest", "-p", "no:cacheprovider", cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    assert "1 passed, 1 error" in done.stdout, done.stdout
    [line] = fixture_error_lines(done.stdout.splitlines())
    assert re.fullmatch(missing_extra("the short_jobs_mock fixture"), line), done.stdout


@pytest.mark.slow
def test_the_samples_name_the_extra_they_need(client_only: Path) -> None:
    """A user's test importing `mock_server.samples` (the README's fixture example does) in an
    install without the extra: the same one line, not numpy's ModuleNotFoundError."""
    done = run_clean(client_only / "python", "-c", "import mock_server.samples")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"mock_server\.faces\.extra\.MockExtraMissing: " + missing_extra("mock_server.samples"),
        last,
    ), done.stderr


@pytest.mark.slow
def test_the_mock_extra_adds_a_working_short_jobs_mock(with_mock: Path) -> None:
    assert _distributions(with_mock) >= SERVER_DISTRIBUTIONS
    done = run_clean(with_mock / "short-jobs-mock", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not even a warning
    assert "Usage: short-jobs-mock" in done.stdout


@pytest.mark.slow
def test_a_user_suite_with_warnings_as_errors_passes(with_mock: Path, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(INI_WARNINGS_ARE_ERRORS, "utf-8")
    (tmp_path / "test_user.py").write_text(TESTS_WITH_THE_FIXTURE, "utf-8")
    done = run_clean(with_mock / "python", "-m", "pytest", "-p", "no:cacheprovider", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout
