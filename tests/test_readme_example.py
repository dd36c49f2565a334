"""Every Python example in README.md runs, as written, against the mock.

The examples are written for `make mock`: `http://127.0.0.1:8000` and the mock's default
credentials. Each runs in a fresh interpreter, in a directory holding the `recordings/` folder of
WAVs and the `recordings.zip` the README speaks of, with the address replaced by the test's mock
(which has those same default credentials). The one that is a test file
(`# test_my_uploader.py`) is run by pytest in a fresh project (pytester, a subprocess), where
only the installed `pytest11` entry point can provide the `short_jobs_mock` fixture.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.config import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK
from mock_server.samples import sample_zip, speech_like_wav
from mock_server.testing import RunningMock

README = Path(__file__).resolve().parent.parent / "README.md"
MAKE_MOCK_URL = "http://127.0.0.1:8000"
TEST_FILE = "# test_my_uploader.py\n"
pytest_plugins = ["pytester"]


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text("utf-8"), re.S | re.M)


def scripts() -> list[str]:
    return [block for block in python_blocks() if not block.startswith(TEST_FILE)]


def readme_test_file() -> str:
    blocks = [block for block in python_blocks() if block.startswith(TEST_FILE)]
    assert len(blocks) == 1, "README.md has no (or several) test_my_uploader.py examples"
    return blocks[0]


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
def test_the_readme_test_file_passes_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_my_uploader=readme_test_file())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
