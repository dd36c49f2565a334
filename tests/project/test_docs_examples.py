"""Every Python block, and every runnable shell block, of README.md and docs/ runs as written.

The blocks are found by Sybil's Markdown lexers (fenced code blocks and HTML-comment directives);
this module only says how each kind runs:

- A Python block whose first line is ``# test_NAME.py`` is a test file: pytest runs it in a fresh
  project (pytester, a subprocess), where only the installed `pytest11` entry point can provide the
  `short_jobs_mock` fixture; it takes every address from it. All its tests must pass in a
  project with `filterwarnings = error`.
- Any other Python block is a script written for `make mock` (`http://127.0.0.1:8000`, IAM on
  `:8001`, the mock's default credentials). It runs in a fresh interpreter, in a folder holding the
  files the docs speak of (`recordings/`, `recordings.zip`, ...), with those addresses replaced by
  the test's mock (which has the same default credentials), and must exit 0 under `-W error`
  without a warning (an unclosed client's ResourceWarning included).
- A shell block right after a ``<!-- runnable -->`` comment runs the same way with
  ``bash -euo pipefail``, with this environment's commands first on PATH and none of the user's
  HUAWEICLOUD_SDK_* or SHORT_JOBS_* variables. Shell blocks without the mark are illustrations
  (the real service, placeholders such as JOB_ID); some of those are run by the tests of their
  own feature (tests/client/conformance/test_conformance.py, tests/mock/faces/test_assess_cli.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ROOT, WITHOUT_DEV_PLUGINS
from sybil import Document, Region
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer

from mock_server.core.config import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK
from mock_server.faces.fixture import MockHandle
from mock_server.samples import sample_zip, speech_like_wav

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAKE_MOCK_URL = "http://127.0.0.1:8000"
MAKE_MOCK_IAM = "http://127.0.0.1:8001"
TEST_FILE = re.compile(r"# (test_\w+)\.py\n")
RUNNABLE = "runnable"
CLOSE = re.compile(r"\s*-*>?\s*")
pytest_plugins = ["pytester"]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def test_file(self) -> str | None:
        named = TEST_FILE.match(self.source)
        return named[1] if named else None


def _regions(page: Path, lexer: object) -> list[Region]:
    document = Document(page.read_text("utf-8"), str(page))
    return list(lexer(document))  # type: ignore[operator]


def blocks(language: str, *, runnable_only: bool = False) -> list[Block]:
    """The fenced `language` blocks of every page (those after `<!-- runnable -->` if asked)."""
    found = []
    for page in PAGES:
        text = page.read_text("utf-8")
        marks = _regions(page, DirectiveInHTMLCommentLexer(directive=RUNNABLE))
        for region in _regions(page, FencedCodeBlockLexer(language)):
            # a mark's region ends before its closing `-->`: only that and blanks may follow
            marked = any(
                mark.end <= region.start and CLOSE.fullmatch(text[mark.end : region.start])
                for mark in marks
            )
            if runnable_only and not marked:
                continue
            line = text.count("\n", 0, region.start) + 1
            found.append(Block(page, line, language, str(region.lexemes["source"])))
    return found


PYTHON = blocks("python")
SCRIPTS = [b for b in PYTHON if b.test_file is None]
TEST_FILES = [b for b in PYTHON if b.test_file is not None]
SHELL = blocks("sh", runnable_only=True)


def test_the_pages_have_the_blocks_the_docs_promise() -> None:
    """Sybil found the blocks: a change of marker or fence that hid them all fails here."""
    assert len(SCRIPTS) >= 3 and len(SHELL) >= 3
    assert {b.test_file for b in TEST_FILES} >= {"test_my_uploader", "test_sign_in"}
    assert len({b.test_file for b in TEST_FILES}) == len(TEST_FILES), "two test files, one name"
    assert any(b.page.name == "README.md" for b in SCRIPTS)


def test_the_scripts_are_written_for_make_mock() -> None:
    for block in SCRIPTS:
        assert MAKE_MOCK_URL in block.source, block.id
    text = "\n".join(page.read_text("utf-8") for page in PAGES)
    assert all(value in text for value in (DEFAULT_AK, DEFAULT_SK, DEFAULT_PROJECT_ID))


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the examples run: the recordings the docs name, made for real."""
    where = tmp_path_factory.mktemp("docs-examples")
    # 2.5 s takes: one DNSMOS window each (2 s ones are two, sample_zip's 4 s four)
    for folder, count in (("recordings", 2), ("my-recordings", 1), ("day1", 1), ("day2", 1)):
        (where / folder).mkdir()
        for n in range(count):
            speech_like_wav(where / folder / f"take-{n}.wav", seconds=2.5, seed=n)
    for n, name in enumerate(("a.wav", "b.wav", "extra.wav")):
        speech_like_wav(where / name, seconds=2.5, seed=10 + n)
    sample_zip(where / "recordings.zip", count=1, seconds=2.5)
    return where


def _for_this_mock(text: str, m: MockHandle) -> str:
    return text.replace(MAKE_MOCK_IAM, m.iam_url).replace(MAKE_MOCK_URL, m.url)


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HUAWEICLOUD_SDK_", "SHORT_JOBS_", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _defaults(m: MockHandle) -> None:
    assert (m.ak, m.sk, m.project_id) == (DEFAULT_AK, DEFAULT_SK, DEFAULT_PROJECT_ID)


@pytest.mark.slow
@pytest.mark.parametrize("block", SCRIPTS, ids=[b.id for b in SCRIPTS])
def test_the_python_example_runs(block: Block, short_jobs_mock: MockHandle, user_dir: Path) -> None:
    _defaults(short_jobs_mock)
    done = subprocess.run(
        # `-W error`: a user's strict suite (`filterwarnings = error`) turns every warning into a
        # failure, the ResourceWarning of an unclosed client (ignored by default) included
        [sys.executable, "-W", "error", "-c", _for_this_mock(block.source, short_jobs_mock)],
        cwd=user_dir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{block.id}\n{block.source}\n{done.stdout}\n{done.stderr}"
    assert "Warning" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_the_runnable_shell_example_runs(
    block: Block, short_jobs_mock: MockHandle, user_dir: Path
) -> None:
    _defaults(short_jobs_mock)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _for_this_mock(block.source, short_jobs_mock)],
        cwd=user_dir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{block.id}\n{block.source}\n{done.stdout}\n{done.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("block", TEST_FILES, ids=[b.id for b in TEST_FILES])
def test_the_test_file_passes_in_a_fresh_project(block: Block, pytester: pytest.Pytester) -> None:
    assert block.test_file is not None
    pytester.makepyfile(**{block.test_file: block.source})
    # a strict user suite: every warning fails a test (the loop scope is set, as pytest-asyncio,
    # installed here, asks every project to)
    pytester.makeini(
        "[pytest]\nfilterwarnings = error\nasyncio_default_fixture_loop_scope = function\n"
    )
    # autoload stays on: the installed entry point alone must bring the fixture
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *WITHOUT_DEV_PLUGINS)
    result.assert_outcomes(passed=len(re.findall(r"^def test_", block.source, re.M)))
