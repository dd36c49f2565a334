"""`make check-generated` catches a spec edited without regenerating (what CI relies on)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check_generated(workdir: Path) -> subprocess.CompletedProcess[str]:
    # -o: the copied pyproject.toml is newer than the set-up stamp; don't reinstall the venv.
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.setup-done", "check-generated"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "MAKEFLAGS": ""},
        timeout=300,
        check=False,
    )


def test_a_one_character_spec_change_fails_the_drift_check(tmp_path: Path) -> None:
    for name in ("Makefile", "openapi.yaml", "openapi-generator.yaml", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "generator-templates", tmp_path / "generator-templates")
    shutil.copytree(
        ROOT / "generated",
        tmp_path / "generated",
        ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache"),
    )
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")

    clean = _check_generated(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    spec = tmp_path / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "summary: Show a short job" in text
    spec.write_text(text.replace("summary: Show a short job", "summary: Show a short jog"), "utf-8")

    drifted = _check_generated(tmp_path)
    assert drifted.returncode != 0
    assert "Show a short jog" in drifted.stdout
    assert "make generate" in drifted.stderr
