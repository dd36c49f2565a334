"""The release artefacts as a user gets them: the wheel `make dist` builds, installed on its own.

The sdist and the wheel are built once per test session with `build` (as `make dist` does: the
wheel is built from the sdist, so a file the sdist forgets fails here too). The wheel, not the
checkout, is installed with its `mock` extra into a fresh virtualenv (uv, at the versions of
constraints.txt, as tests/mock/faces/test_install.py does), and the installed commands are run
from there.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ROOT
from venvs import UV, run_clean

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path
    version: str


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    built = run_clean(sys.executable, "-m", "build", "--outdir", out, ROOT)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as zf:
        [metadata] = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        match = re.search(r"^Version: (\S+)$", zf.read(metadata).decode("utf-8"), re.M)
    assert match is not None
    return Dist(wheel, sdist, match[1])


@pytest.fixture(scope="session")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh virtualenv holding the wheel with its `mock` extra, and nothing else."""
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    made = run_clean(UV, "venv", "--quiet", "--python", sys.executable, venv)
    assert made.returncode == 0, made.stderr
    done = run_clean(
        UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
        "--constraints", ROOT / "constraints.txt",
        f"short-jobs-toolkit[mock] @ {dist.wheel.as_uri()}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def test_the_version_is_the_declared_one(dist: Dist) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert dist.version == declared
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?", dist.version)  # SemVer, PEP 440
    assert dist.wheel.name == f"short_jobs_toolkit-{dist.version}-py3-none-any.whl"


def test_twine_check_passes(dist: Dist) -> None:
    done = run_clean(BIN / "twine", "check", "--strict", dist.wheel, dist.sdist)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_holds_the_contract_specs_templates_and_licenses(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as zf:
        names = set(zf.namelist())
        shipped_spec = zf.read("mock_server/openapi.yaml")
    for needed in (
        "mock_server/openapi.yaml",
        "mock_server/control.yaml",
        "mock_server/iam.yaml",
        "mock_server/pages/templates/dashboard.html",
        "mock_server/py.typed",
        "short_jobs/py.typed",
        "short_jobs_client/py.typed",
        f"short_jobs_toolkit-{dist.version}.dist-info/licenses/LICENSE",
        f"short_jobs_toolkit-{dist.version}.dist-info/licenses/THIRD_PARTY_NOTICES.md",
    ):
        assert needed in names, needed
    assert shipped_spec == (ROOT / "openapi.yaml").read_bytes()
    # the checkout's own tooling stays out of the wheel
    assert not [n for n in names if n.startswith(("tests/", "docs/", "scripts/", "generated/"))]


def test_the_sdist_holds_what_builds_tests_and_documents_it(dist: Dist) -> None:
    listed = subprocess.run(
        ["tar", "tzf", str(dist.sdist)], capture_output=True, text=True, check=True
    ).stdout.split()
    top = f"short_jobs_toolkit-{dist.version}/"
    for needed in ("pyproject.toml", "LICENSE", "CHANGELOG.md", "mkdocs.yml", "openapi.yaml"):
        assert top + needed in listed, needed
    assert any(n.startswith(top + "docs/") for n in listed)
    assert not [n for n in listed if "__pycache__" in n or "/.venv/" in n]


def test_both_commands_start_from_the_wheel(installed: Path) -> None:
    for command, usage in (("short-jobs", "assess"), ("short-jobs-mock", "Usage: short-jobs-mock")):
        done = run_clean(installed / command, "--help")
        assert done.returncode == 0, (command, done.stderr)
        assert usage in done.stdout, (command, done.stdout)
    # the installed package is the wheel's, not this checkout
    where = run_clean(
        installed / "python",
        "-c",
        "import short_jobs; print(short_jobs.__file__)",
        cwd=installed,  # not the checkout, which `python -c` would put first on sys.path
    )
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout, where.stdout


def test_short_jobs_version_is_the_wheels(installed: Path, dist: Dist) -> None:
    for command in ("short-jobs", "short-jobs-mock"):
        done = run_clean(installed / command, "--version")
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{command} {dist.version}\n"


def test_the_git_url_install_of_the_readme_works(tmp_path: Path) -> None:
    """README's third way: pip (here uv, the same metadata) clones a commit and builds it."""
    head = run_clean("git", "-C", ROOT, "rev-parse", "HEAD")
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    venv = tmp_path / "venv"
    assert run_clean(UV, "venv", "--quiet", "--python", sys.executable, venv).returncode == 0
    done = run_clean(
        UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
        "--constraints", ROOT / "constraints.txt",
        f"short-jobs-toolkit @ git+{ROOT.as_uri()}@{head.stdout.strip()}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    version = run_clean(venv / "bin" / "short-jobs", "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert re.fullmatch(r"short-jobs \d+\.\d+\.\d+\S*\n", version.stdout), version.stdout
