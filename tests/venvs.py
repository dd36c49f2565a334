"""Fresh virtualenvs for the install and wheel tests: uv (pinned in the dev extra), a clean run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

UV = Path(sys.executable).parent / "uv"


def run_clean(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `command` outside our venv (no VIRTUAL_ENV, no PYTHONPATH), output captured."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
