"""The README's "Testing your code with the mock" example runs, as a user's project would run it.

The example is taken from README.md and run by pytest in a fresh directory (a subprocess), where
only the installed `pytest11` entry point can provide the `short_jobs_mock` fixture.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
pytest_plugins = ["pytester"]


def readme_example() -> str:
    blocks = re.findall(
        r"```python\n(# test_my_uploader\.py\n.*?)```", README.read_text("utf-8"), re.S
    )
    assert len(blocks) == 1, "README.md has no (or several) test_my_uploader.py examples"
    return str(blocks[0])


def test_the_readme_example_passes_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_my_uploader=readme_example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
