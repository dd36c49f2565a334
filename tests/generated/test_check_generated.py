"""`make check-generated`: the suite's one drift check, and the proof that it catches drift.

One regeneration does both. The check runs on a copy of the repository whose spec has one
character changed, so it must fail, and its diff must be exactly that character's echo in the
generated code: anything else in the diff means the committed `generated/` is not what the pinned
generator makes from the committed spec (run `make generate`). `make test` runs no other drift
check; `make check-generated` by hand runs the same target on the repository itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

CHANGE = ("summary: Show a short job", "summary: Show a short jog")
# The change's echo in the generated module's docstrings, as `diff -ru` shows it (old is the
# regenerated side, new the committed one).
ECHO = ('-    """Show a short jog', '+    """Show a short job')


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


def _changed_lines(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++ ", "--- "))
    ]


@pytest.mark.slow
def test_generated_matches_the_spec_and_a_one_character_change_fails(tmp_path: Path) -> None:
    for name in ("Makefile", "openapi.yaml", "openapi-generator.yaml", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "generator-templates", tmp_path / "generator-templates")
    shutil.copytree(
        ROOT / "generated",
        tmp_path / "generated",
        ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache"),
    )
    # the environment running the suite (the checkout's .venv under `make test`), as
    # test_assess_cli.py does: a checkout without its own .venv (a git worktree) has the tools too
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    spec = tmp_path / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    assert text.count(CHANGE[0]) == 1
    spec.write_text(text.replace(*CHANGE), "utf-8")

    drifted = _check_generated(tmp_path)

    output = drifted.stdout + drifted.stderr
    assert drifted.returncode != 0, output
    assert "run 'make generate'" in drifted.stderr, output
    assert "Only in" not in drifted.stdout, f"files added or missing: run `make generate`\n{output}"
    changed = _changed_lines(drifted.stdout)
    assert changed, output
    unexpected = [line for line in changed if line not in ECHO]
    assert not unexpected, f"generated/ is stale: run `make generate`\n{output}"
    assert changed.count(ECHO[0]) == changed.count(ECHO[1]) >= 1, output
    # The spec's only change reached one module, the one that documents the operation.
    files = re.findall(r"^diff -ru .* (generated/\S+)$", drifted.stdout, re.M)
    assert files == ["generated/short_jobs_client/api/short_jobs/show_short_job.py"], output
