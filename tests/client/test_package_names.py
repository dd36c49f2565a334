"""`short_jobs`' public names load on first use (PEP 562), each from the module that holds it.

A module of the package imported alone (as the mock imports `short_jobs.endpoints`) does not
bring the client, httpx or the generated client; every name of `__all__` still resolves, to the
same object as its home module's, and an unknown name is an AttributeError.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import short_jobs

HEAVY = ("httpx", "short_jobs.client", "short_jobs_client")


@pytest.mark.slow  # a fresh interpreter each
@pytest.mark.parametrize("module", ["short_jobs.signing", "short_jobs.endpoints", "short_jobs"])
def test_one_module_alone_imports_no_client(module: str) -> None:
    probe = f"import sys, {module}; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.parametrize("name", short_jobs.__all__)
def test_every_public_name_is_its_homes_object(name: str) -> None:
    value = getattr(short_jobs, name)
    homes = [
        module
        for module in ("auth", "client", "endpoints", "errors", "retry", "zipping")
        if getattr(importlib.import_module(f"short_jobs.{module}"), name, None) is value
    ]
    assert homes, name
    assert name in dir(short_jobs)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = short_jobs.NoSuchName  # type: ignore[attr-defined]
