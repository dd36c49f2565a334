"""The sync facade is exactly what ``make unasync`` makes from the async one (no hand edits)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from helpers import ROOT

from short_jobs import AsyncShortJobs, ShortJobs

SCRIPT = ROOT / "scripts" / "unasync_facade.py"


@pytest.mark.slow
def test_the_sync_facade_is_generated_from_the_async_one() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sync_facade_has_no_async_left() -> None:
    text = (ROOT / "short_jobs" / "_sync" / "facade.py").read_text("utf-8")
    for word in ("async ", "await ", "asyncio", "AsyncClient", "aclose"):
        assert word not in text


def test_both_facades_offer_the_same_methods_with_the_same_arguments() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")
        }

    sync, asynchronous = public(ShortJobs), public(AsyncShortJobs)
    assert sync.keys() == asynchronous.keys() >= {"create", "upload", "commit", "show", "wait"}
    for name, signature in sync.items():
        assert list(signature.parameters) == list(asynchronous[name].parameters), name
        assert inspect.iscoroutinefunction(getattr(AsyncShortJobs, name))
        assert not inspect.iscoroutinefunction(getattr(ShortJobs, name))


def test_an_unknown_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match="retries"):
        ShortJobs("http://127.0.0.1:1", project_id="p", token="t", retries=3)  # type: ignore[call-arg]
