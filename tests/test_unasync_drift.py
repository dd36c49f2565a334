"""The sync facade is exactly what ``make unasync`` makes from the async one (no hand edits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "unasync_facade.py"


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
