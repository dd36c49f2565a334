"""The server stack (the toolkit's `mock` extra): import it quietly, or say which extra is missing.

The mock's modules import connexion, uvicorn, starlette, jsonschema, numpy and PyYAML. Those are
installed only with `pip install 'short-jobs-toolkit[mock]'`, so everything that enters the mock
from outside (the `short_jobs_mock` fixture, `short-jobs-mock`, `python -m mock_server`) imports
it through `import_server_module`, which turns a missing dependency into `MockExtraMissing`: one
line naming the extra.

connexion 3.3 warns while it is imported, about deprecations in its own dependencies (jsonschema's
`RefResolver`, starlette's test client, which the mock never uses). `quiet_imports` ignores exactly
those warnings, for the duration of the import only (`warnings.catch_warnings`), so a user's suite
running with `filterwarnings = error` is not broken by them and the process's warning filters are
left as they were. This module imports nothing outside the standard library.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

MOCK_EXTRA = "mock"
INSTALL_MOCK_EXTRA = "pip install 'short-jobs-toolkit[mock]'"

# (message regex, category, module regex): the import-time warnings of connexion 3.3's imports.
# Matched on the message's start and the module that warns, so any other warning still shows.
_CONNEXION = r"connexion\."
_IMPORT_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    # connexion.json_schema imports jsonschema's deprecated RefResolver and RefResolutionError.
    (r"jsonschema\.RefResolver is deprecated", DeprecationWarning, _CONNEXION),
    (r"jsonschema\.exceptions\.RefResolutionError is deprecated", DeprecationWarning, _CONNEXION),
    # connexion.apps.abstract imports starlette.testclient (a UserWarning subclass in starlette 1).
    (r"Using `httpx` with `starlette\.testclient` is deprecated", Warning, _CONNEXION),
)


class MockExtraMissing(ImportError):
    """The server stack is not installed: the message says which extra to install."""


@contextmanager
def quiet_imports() -> Iterator[None]:
    """Within the block, ignore the server stack's known import-time warnings, and only those.

    The filters in force before the block are restored when it ends (`warnings.catch_warnings`).
    """
    with warnings.catch_warnings():
        for message, category, module in _IMPORT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category, module=module)
        yield


def import_server_module(name: str, *, needed_by: str) -> ModuleType:
    """Import `name` (a module of the mock) and the server stack it needs, quietly.

    Raises `MockExtraMissing` (an `ImportError`) with a one-line message that names `needed_by`
    and the `mock` extra when a module it imports is not installed.
    """
    try:
        with quiet_imports():
            return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        raise missing_extra(missing, needed_by=needed_by) from missing


def missing_extra(missing: ModuleNotFoundError, *, needed_by: str) -> ImportError:
    """The error to raise for `missing`: `MockExtraMissing` naming `needed_by` and the `mock`
    extra, or `missing` itself when what is missing is a module of the mock's own."""
    # the distribution's import name, not the submodule that happened to be imported first
    package = None if missing.name is None else missing.name.partition(".")[0]
    if package is None or package == "mock_server":
        return missing
    return MockExtraMissing(
        f"{needed_by} needs the toolkit's `{MOCK_EXTRA}` extra ({package} is not "
        f"installed): {INSTALL_MOCK_EXTRA}",
        name=package,
    )
