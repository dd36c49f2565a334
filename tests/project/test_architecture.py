"""The layers' import rules (pyproject.toml's [tool.importlinter], ARCHITECTURE.md) are enforced:
`lint-imports` passes on the tree as it is and fails on a copy with a forbidden import planted,
one per contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = {"mock_server": ROOT / "mock_server", "short_jobs": ROOT / "short_jobs"}
GENERATED = ROOT / "generated" / "short_jobs_client"

# (module file, the import planted, the contract that must break)
PLANTED = [
    ("mock_server/service/store.py", "import starlette.responses", "framework"),
    ("mock_server/core/text.py", "import connexion", "framework"),
    ("mock_server/obs/area.py", "from mock_server.http import gateway", "layers"),
    ("mock_server/core/config.py", "import mock_server.service.store", "layers"),
    ("mock_server/iam/model.py", "import mock_server.obs.area", "layers"),
    ("short_jobs/retry.py", "import mock_server.core.text", "client"),
    ("short_jobs_client/types.py", "import short_jobs.signing", "generated"),
]


def _copy_tree(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name, source in PACKAGES.items():
        shutil.copytree(source, into / name, ignore=ignore)
    shutil.copytree(GENERATED, into / "short_jobs_client", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # the copy first on the path, so its packages shadow the installed (editable) ones
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("layers")
    _copy_tree(made)
    return made


@pytest.mark.slow
def test_the_tree_as_it_is_keeps_every_contract(tree: Path) -> None:
    done = _lint(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("module", "planted", "contract"), PLANTED)
def test_a_planted_forbidden_import_breaks_its_contract(
    tree: Path, module: str, planted: str, contract: str
) -> None:
    path = tree / module
    original = path.read_text(encoding="utf-8")
    path.write_text(f"{original}\n{planted}  # planted by the test\n", encoding="utf-8")
    try:
        done = _lint(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode != 0, done.stdout
    names = {
        "framework": "Only the HTTP layer imports connexion or starlette BROKEN",
        "layers": "The mock's layers import only downwards BROKEN",
        "client": "The client never imports the mock BROKEN",
        "generated": "The generated client imports nothing hand-written BROKEN",
    }
    assert names[contract] in done.stdout, done.stdout
    assert "1 broken" in done.stdout, done.stdout
