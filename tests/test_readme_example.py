"""Every Python example in README.md runs, as written, against the mock.

The examples are written for `make mock`: `http://127.0.0.1:8000` and the mock's default
credentials. Each runs in a fresh interpreter, in a directory holding the `recordings/` folder of
WAVs and the `recordings.zip` the README speaks of, with the address replaced by the test's mock
(which has those same default credentials). Those that are test files (a first line
`# test_NAME.py`: `test_my_uploader.py`, the IAM section's `test_sign_in.py`) are run by pytest
in a fresh project (pytester, a subprocess), where only the installed `pytest11` entry point can
provide the `short_jobs_mock` fixture; they take every address from it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.core.config import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK
from mock_server.faces.inprocess import RunningMock
from mock_server.samples import sample_zip, speech_like_wav

README = Path(__file__).resolve().parent.parent / "README.md"
MAKE_MOCK_URL = "http://127.0.0.1:8000"
TEST_FILE = re.compile(r"# (test_\w+)\.py\n")
pytest_plugins = ["pytester"]


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text("utf-8"), re.S | re.M)


def scripts() -> list[str]:
    return [block for block in python_blocks() if not TEST_FILE.match(block)]


def readme_test_files() -> dict[str, str]:
    """Module name -> the test file's text."""
    found: dict[str, str] = {}
    for block in python_blocks():
        named = TEST_FILE.match(block)
        if named is not None:
            assert named[1] not in found, f"README.md has two {named[1]}.py examples"
            found[named[1]] = block
    return found


def test_the_test_files_are_there() -> None:
    assert {"test_my_uploader", "test_sign_in"} <= set(readme_test_files())


def _first_import(block: str) -> str:
    return next(line for line in block.splitlines() if line.startswith(("from ", "import ")))


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the examples run: `recordings/` (two WAVs) and `recordings.zip`."""
    where = tmp_path_factory.mktemp("readme")
    (where / "recordings").mkdir()
    for n in range(2):
        speech_like_wav(where / "recordings" / f"take-{n}.wav", seconds=2)
    sample_zip(where / "recordings.zip", count=1)
    return where


def test_the_examples_are_written_for_make_mock() -> None:
    assert len(scripts()) >= 3
    for block in scripts():
        assert MAKE_MOCK_URL in block, block
    defaults = (DEFAULT_AK, DEFAULT_SK, DEFAULT_PROJECT_ID)
    assert all(value in README.read_text("utf-8") for value in defaults)


@pytest.mark.parametrize("example", scripts(), ids=_first_import)
def test_the_readme_example_runs(example: str, mock: RunningMock, user_dir: Path) -> None:
    assert (mock.ak, mock.sk, mock.project_id) == (DEFAULT_AK, DEFAULT_SK, DEFAULT_PROJECT_ID)
    done = subprocess.run(
        [sys.executable, "-c", example.replace(MAKE_MOCK_URL, mock.url)],
        cwd=user_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{example}\n{done.stdout}\n{done.stderr}"
    assert "Warning" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(readme_test_files()))
def test_the_readme_test_file_passes_in_a_fresh_project(
    name: str, pytester: pytest.Pytester
) -> None:
    text = readme_test_files()[name]
    pytester.makepyfile(**{name: text})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(re.findall(r"^def test_", text, re.M)))
