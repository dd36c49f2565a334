"""Headless Chromium (Debian's `chromium` package) for tests that check pages as a person sees them.

`render(url)` runs one Chromium process with a fresh, empty profile, lets the page's scripts run
(a virtual-time budget, so no real waiting for timers), and answers the DOM after they ran
(`--dump-dom`). Every switch that makes Chromium call home or update itself is off, so it sends
nothing anywhere but the URL it is given (127.0.0.1 in the tests).

Tests that need it take the `chromium` fixture (tests/conftest.py), which skips them with the
reason when Chromium is not installed; `.ci/run` installs it, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# Debian's package installs /usr/bin/chromium; other distributions name it otherwise.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MISSING = (
    "Chromium is not installed (Debian: apt-get install chromium); "
    "the browser tests need it and .ci/run installs it"
)


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM if set, else the first of CANDIDATES on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if shutil.which(configured) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    def __init__(self, executable: str) -> None:
        self.executable = executable

    def _command(self, profile: Path, *extra: str) -> list[str]:
        return [
            self.executable,
            "--headless",
            "--no-sandbox",  # tests run as root in CI
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-features=Translate,MediaRouter,OptimizationHints",
            "--metrics-recording-only",
            f"--user-data-dir={profile}",
            *extra,
        ]

    def _run(self, *args: str, timeout: float = 60) -> str:
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            result = subprocess.run(
                self._command(Path(profile), *args),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
        return result.stdout

    def dump_dom(self, url: str, *, budget_ms: int = 5000) -> str:
        """The page's DOM, serialised after its scripts had `budget_ms` of virtual time."""
        return self._run(f"--virtual-time-budget={budget_ms}", "--dump-dom", url)

    def screenshot(self, url: str, path: Path, *, budget_ms: int = 5000) -> Path:
        """A PNG of the page (1280x1024) after `budget_ms` of virtual time."""
        self._run(
            f"--virtual-time-budget={budget_ms}",
            "--window-size=1280,1024",
            f"--screenshot={path}",
            url,
        )
        return path
