"""A user's project that uses the `short_jobs_mock` fixture: its files, and what it must print.

Shared by tests/mock/faces/test_pytest_plugin.py (pytester, our dev environment) and
tests/mock/faces/test_install.py (fresh virtualenvs with the toolkit installed as a user
installs it).
"""

from __future__ import annotations

import re
import textwrap

# What the `mock` extra brings.
# Import names of the `mock` extra's packages (pyproject.toml); none is in a plain install.
SERVER_STACK = (
    "connexion",
    "uvicorn",
    "starlette",
    "jsonschema",
    "numpy",
    "yaml",
    "gunicorn",
    "uvicorn_worker",
    "onnxruntime",
    "soxr",
    "speechmos",
    "pyloudnorm",
    "scipy",
)
# click is in the `mock` extra too (the mock's options), but httpx imports it whenever it is
# installed (its own command line), so only the fixture's message may name it.
EXTRA_IMPORTS = (*SERVER_STACK, "click")

INI_WARNINGS_ARE_ERRORS = "[pytest]\nfilterwarnings = error\n"

# Uses the fixture as a user would, with `filterwarnings = error`; 3 tests pass. (Its take is
# 2.5 s, one DNSMOS window: a fresh process assesses it with no window cached.)
TESTS_WITH_THE_FIXTURE = textwrap.dedent(
    """
    import warnings

    from mock_server.samples import sample_zip


    def test_the_mock_leaves_the_warning_filters_alone(request):
        before = list(warnings.filters)
        request.getfixturevalue("short_jobs_mock")  # the first use: imports the server stack
        assert warnings.filters == before


    def test_warnings_are_still_errors():
        try:
            warnings.warn("a user's own deprecation", DeprecationWarning)
        except DeprecationWarning:
            return
        raise AssertionError("filterwarnings = error no longer applies")


    def test_a_whole_job(short_jobs_mock, tmp_path):
        sj = short_jobs_mock.client
        job = sj.create(language="EN")
        sj.upload(job, sample_zip(tmp_path / "recordings.zip", count=1, seconds=2.5))
        sj.commit(job.job_id)
        assert sj.wait(job.job_id, timeout=30).state.value == "SUCCEED"
    """
)

# Without the `mock` extra: 1 passes, the one that asks for the fixture errors.
TESTS_WITHOUT_THE_EXTRA = textwrap.dedent(
    """
    def test_not_using_the_fixture():
        pass


    def test_using_the_fixture(short_jobs_mock):
        pass
    """
)


def missing_extra(needed_by: str) -> str:
    """The one line that says what to install, as a regular expression."""
    return (
        rf"{re.escape(needed_by)} needs the toolkit's `mock` extra "
        rf"\((?:{'|'.join(EXTRA_IMPORTS)}) is not installed\): "
        r"pip install 'short-jobs-toolkit\[mock\]'"
    )


def fixture_error_lines(output: list[str]) -> list[str]:
    """The lines pytest printed for `test_using_the_fixture`'s setup error, up to the summary."""
    start = next(
        n for n, line in enumerate(output) if "ERROR at setup of test_using_the_fixture" in line
    )
    end = next(n for n, line in enumerate(output) if "short test summary info" in line)
    return output[start + 1 : end]
