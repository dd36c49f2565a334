"""Every numeric option of ``short-jobs`` is a finite number within its range (issue 19, item 8):
``--timeout nan`` or ``--max-jobs 99`` is a usage error naming the option, before any request."""

from __future__ import annotations

import math

import pytest
from helpers import cli_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mock_server.pytest_plugin import MockHandle
from short_jobs.cli import app
from short_jobs.numbers import Bounded

pytestmark = pytest.mark.usefixtures("clean_client_env")

# Every numeric option, with the command (and arguments) it belongs to.
NUMERIC_OPTIONS = [
    (["conformance"], "--timeout"),
    (["conformance"], "--max-jobs"),
    (["assess", "recordings.zip"], "--timeout"),
    (["wait", "job-id"], "--timeout"),
]


def assert_refused(handle: MockHandle, command: list[str], option: str, value: str) -> None:
    result = CliRunner().invoke(app, [*command, f"{option}={value}"], env=cli_env(handle.server))
    assert result.exit_code == 2, (value, result.stdout, result.stderr)
    assert f"'{option}'" in result.stderr, result.stderr
    assert handle.requests() == [], "a request went out before the check"


@pytest.mark.parametrize(("command", "option"), NUMERIC_OPTIONS)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "NaN", "1e999", "x"])
def test_a_bad_number_is_a_usage_error_naming_the_option(
    short_jobs_mock: MockHandle, command: list[str], option: str, value: str
) -> None:
    assert_refused(short_jobs_mock, command, option, value)


@pytest.mark.parametrize("value", ["3", "99", "1.5"])
def test_max_jobs_is_0_1_or_2(short_jobs_mock: MockHandle, value: str) -> None:
    assert_refused(short_jobs_mock, ["conformance"], "--max-jobs", value)


def bad_value(option: str) -> st.SearchStrategy[str]:
    """Text a numeric option must refuse: not finite, below 0, or (``--max-jobs``) not 0-2."""
    floats = st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda x: not math.isfinite(x) or x < 0
    )
    bad = st.one_of(floats.map(repr), st.sampled_from(["nan", "+inf", "-Infinity", "", "1,5"]))
    if option == "--max-jobs":
        bad = st.one_of(bad, st.integers().filter(lambda n: not 0 <= n <= 2).map(str))
    return bad


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), which=st.sampled_from(NUMERIC_OPTIONS))
def test_every_numeric_option_refuses_every_bad_number(
    short_jobs_mock: MockHandle, data: st.DataObject, which: tuple[list[str], str]
) -> None:
    short_jobs_mock.clear_requests()
    command, option = which
    assert_refused(short_jobs_mock, command, option, data.draw(bad_value(option)))


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=0))
def test_every_finite_duration_is_accepted(value: float) -> None:
    assert Bounded(0.0).convert(repr(value), None, None) == value
