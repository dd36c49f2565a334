"""The mock's settings are declared once (`Settings`): every field has its command-line option
and environment variables, both parse to the same value, and the docs' table is made from it
(when the site is built: tests/project/test_docs_site.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.core import config
from mock_server.core.config import (
    Settings,
    env_name,
    env_names,
    option_name,
    setting_docs,
    value_problem,
    value_type,
)
from mock_server.faces import cli
from mock_server.iam.model import PUBLIC_REGIONS
from short_jobs import ShortJobs

# Public interface: these names must not change (new ones may be added).
PUBLIC_OPTIONS = {
    "--host": ["SHORT_JOBS_MOCK_HOST"],
    "--port": ["SHORT_JOBS_MOCK_PORT"],
    "--data-dir": ["SHORT_JOBS_MOCK_DATA_DIR"],
    "--ak": ["SHORT_JOBS_MOCK_AK", "HUAWEICLOUD_SDK_AK"],
    "--sk": ["SHORT_JOBS_MOCK_SK", "HUAWEICLOUD_SDK_SK"],
    "--project-id": ["SHORT_JOBS_MOCK_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID"],
    "--token": ["SHORT_JOBS_MOCK_TOKEN"],
    "--processing-seconds": ["SHORT_JOBS_MOCK_PROCESSING_SECONDS"],
    "--upload-url-ttl": ["SHORT_JOBS_MOCK_UPLOAD_URL_TTL"],
    "--max-upload-bytes": ["SHORT_JOBS_MOCK_MAX_UPLOAD_BYTES"],
    "--public-url": ["SHORT_JOBS_MOCK_PUBLIC_URL"],
    "--workers": ["SHORT_JOBS_MOCK_WORKERS"],
    "--control": ["SHORT_JOBS_MOCK_CONTROL"],
    "--validate-responses": ["SHORT_JOBS_MOCK_VALIDATE_RESPONSES"],
    "--log-level": ["SHORT_JOBS_MOCK_LOG_LEVEL"],
}
EVERY_VARIABLE = sorted({var for name in setting_docs() for var in env_names(name)})


@pytest.fixture(autouse=True)
def _no_inherited_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in EVERY_VARIABLE:
        monkeypatch.delenv(variable, raising=False)


def _options() -> dict[str, click.Option]:
    return {
        opt: param
        for param in cli.command().params
        if isinstance(param, click.Option)
        for opt in param.opts
    }


def parse(args: list[str], env: dict[str, str] | None = None) -> Settings:
    """The Settings `short-jobs-mock ARGS` would serve with, in that environment."""
    seen: list[Settings] = []
    original = cli.run
    cli.run = seen.append  # type: ignore[assignment]
    try:
        result = CliRunner().invoke(cli.command(), args, env=env, catch_exceptions=False)
    finally:
        cli.run = original
    assert result.exit_code == 0, result.output
    return seen[0]


def test_every_setting_has_an_option_and_its_variables() -> None:
    options = _options()
    for name in setting_docs():
        option = options[option_name(name)]
        assert option.name == name
        assert option.envvar == env_names(name)
        assert env_names(name)[0] == env_name(name) == f"SHORT_JOBS_MOCK_{name.upper()}"
        assert option.help == setting_docs()[name].help
        if value_type(name) is bool:
            assert f"--no-{option_name(name)[2:]}" in option.secondary_opts
    settings = [
        p for p in cli.command().params if isinstance(p, click.Option) and p.name != "version"
    ]
    assert len(settings) == len(setting_docs()), "an option that is not a setting"


def test_the_public_names_are_kept() -> None:
    options = _options()
    for flag, variables in PUBLIC_OPTIONS.items():
        assert flag in options, flag
        assert options[flag].envvar == variables


def test_defaults_are_the_settings_defaults() -> None:
    assert parse([]) == Settings()


def _text(min_size: int = 1) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        min_size=min_size,
        max_size=20,
    )


VALID_TEXT: dict[object, st.SearchStrategy[str]] = {
    config.visible: st.from_regex(r"[!-~]{1,20}", fullmatch=True),
    config.project_id: st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    config.region_name: st.sampled_from(PUBLIC_REGIONS),
    config.endpoint_url: st.builds(
        "{}://{}{}{}".format,
        st.sampled_from(["http", "https"]),
        st.sampled_from(["127.0.0.1", "[::1]", "mock", "mock.example.test", "xn--bcher-kva.ch"]),
        st.sampled_from(["", ":8000", ":1"]),
        st.sampled_from(["", "/", "/base/"]),
    ),
}
"""What each string rule admits (the round trip below draws only usable values)."""


def _value(name: str) -> st.SearchStrategy[Any]:
    doc, kind = setting_docs()[name], value_type(name)
    low = doc.minimum
    strategy: st.SearchStrategy[Any]
    if doc.check:
        strategy = VALID_TEXT[doc.check]
    elif doc.choices:
        strategy = st.sampled_from(doc.choices)
    elif kind is bool:
        strategy = st.booleans()
    elif kind is int:
        strategy = st.integers(min_value=None if low is None else int(low), max_value=2**40)
    elif kind is float:
        strategy = st.floats(min_value=low, max_value=1e12, allow_nan=False)
    elif kind is Path:
        strategy = _text().map(Path)
    else:
        strategy = _text()
    if name in ("public_url", "iam_domain"):
        strategy = st.none() | strategy
    return strategy


any_settings = st.builds(Settings, **{name: _value(name) for name in setting_docs()})


def _args(chosen: Settings) -> list[str]:
    args = []
    for name in setting_docs():
        value = getattr(chosen, name)
        flag = option_name(name)
        if value is None:
            continue
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{flag[2:]}")
        else:
            args.append(f"{flag}={value}")
    return args


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(chosen=any_settings)
def test_settings_round_trip_through_the_environment_and_the_command_line(
    chosen: Settings,
) -> None:
    environ = chosen.to_environ()
    assert set(environ) <= set(EVERY_VARIABLE)
    assert Settings.from_environ(environ) == chosen
    assert parse(_args(chosen)) == chosen
    assert parse([], env=environ) == chosen  # click reads the same variables the same way


@pytest.mark.parametrize(
    ("name", "sdk"),
    [
        ("ak", "HUAWEICLOUD_SDK_AK"),
        ("sk", "HUAWEICLOUD_SDK_SK"),
        ("project_id", "HUAWEICLOUD_SDK_PROJECT_ID"),
    ],
)
def test_the_official_sdk_variables_are_the_fallback(name: str, sdk: str) -> None:
    own = env_name(name)
    for environ, expected in (
        ({sdk: "from-sdk"}, "from-sdk"),
        ({own: "own", sdk: "from-sdk"}, "own"),
        ({own: "", sdk: "from-sdk"}, "from-sdk"),  # empty is unset
    ):
        assert getattr(Settings.from_environ(environ), name) == expected
        assert getattr(parse([], env=environ), name) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHORT_JOBS_MOCK_PORT", "eighty"),
        ("SHORT_JOBS_MOCK_WORKERS", "0"),
        ("SHORT_JOBS_MOCK_PROCESSING_SECONDS", "-1"),
        ("SHORT_JOBS_MOCK_CONTROL", "maybe"),
        ("SHORT_JOBS_MOCK_LOG_LEVEL", "loud"),
    ],
)
def test_a_bad_value_is_refused_the_same_way_from_either_place(variable: str, value: str) -> None:
    with pytest.raises(click.BadParameter):
        Settings.from_environ({variable: value})
    result = CliRunner().invoke(cli.command(), [], env={variable: value})
    assert result.exit_code == 2
    assert "Invalid value" in result.output and "Traceback" not in result.output


UNUSABLE = [
    ("SHORT_JOBS_MOCK_AK", "ÄK", "--ak"),
    ("SHORT_JOBS_MOCK_AK", "AK ", "--ak"),
    ("HUAWEICLOUD_SDK_AK", "ü", "--ak"),
    ("SHORT_JOBS_MOCK_SK", "a b\n", "--sk"),
    ("SHORT_JOBS_MOCK_TOKEN", "tok en", "--token"),
    ("SHORT_JOBS_MOCK_PROJECT_ID", "a/b", "--project-id"),
    ("HUAWEICLOUD_SDK_PROJECT_ID", "../../x", "--project-id"),
    ("SHORT_JOBS_MOCK_REGION", "ü", "--region"),
    ("SHORT_JOBS_MOCK_IAM_DOMAIN", "ü", "--iam-domain"),
    ("SHORT_JOBS_MOCK_PUBLIC_URL", "garbage", "--public-url"),
    ("SHORT_JOBS_MOCK_PUBLIC_URL", "ftp://x", "--public-url"),
    ("SHORT_JOBS_MOCK_PUBLIC_URL", "http://a b:80", "--public-url"),
    ("SHORT_JOBS_MOCK_PROCESSING_SECONDS", "nan", "--processing-seconds"),
    ("SHORT_JOBS_MOCK_PROCESSING_SECONDS", "inf", "--processing-seconds"),
    ("SHORT_JOBS_MOCK_ASSESSMENT_WAIT_SECONDS", "nan", "--assessment-wait-seconds"),
]


@pytest.mark.parametrize(("variable", "value", "option"), UNUSABLE)
def test_a_value_no_client_could_use_stops_the_mock_naming_option_and_variable(
    variable: str, value: str, option: str
) -> None:
    with pytest.raises(click.BadParameter):
        Settings.from_environ({variable: value})
    result = CliRunner().invoke(cli.command(), [], env={variable: value})
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and option in error[0] and variable in error[0], result.output
    assert "Traceback" not in result.output
    if variable.endswith("_SK"):
        assert value.strip() not in result.output  # a secret is not repeated


@pytest.mark.parametrize(("variable", "value", "option"), UNUSABLE)
def test_the_same_values_are_refused_on_the_command_line_and_in_python(
    variable: str, value: str, option: str
) -> None:
    result = CliRunner().invoke(cli.command(), [f"{option}={value}"])
    assert result.exit_code == 2 and option in result.output, result.output
    name = option[2:].replace("-", "_")
    typed: Any = float(value) if value_type(name) is float else value
    with pytest.raises(ValueError, match=f"^{name} "):
        Settings(**{name: typed})


CHECKED = sorted(
    name for name, doc in setting_docs().items() if doc.check or value_type(name) is float
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), name=st.sampled_from(CHECKED))
def test_any_text_for_a_checked_setting_is_usable_by_a_client_or_refused_naming_it(
    data: st.DataObject, name: str
) -> None:
    value = data.draw(_text() | VALID_TEXT.get(setting_docs()[name].check, _text()), label="value")
    variable = env_name(name)
    original = cli.run
    cli.run = lambda _settings: None  # type: ignore[assignment]  # parsed, never served
    try:
        result = CliRunner().invoke(cli.command(), [], env={variable: value})
    finally:
        cli.run = original
    if result.exit_code == 2:
        assert option_name(name) in result.output and variable in result.output
        assert "Traceback" not in result.output
        return
    assert result.exit_code == 0, result.output
    chosen = Settings.from_environ({variable: value})
    assert value_problem(name, getattr(chosen, name)) is None
    if name in ("ak", "sk", "project_id"):  # what the mock accepts, a client can send
        ShortJobs(
            "http://127.0.0.1:9", ak=chosen.ak, sk=chosen.sk, project_id=chosen.project_id
        ).close()
    if name == "public_url":
        assert chosen.public_url is not None
        ShortJobs(chosen.public_url, project_id="p", token="token-0123456789").close()


def test_limits_hold_in_python_too() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        Settings(workers=0)
    with pytest.raises(ValueError, match="log_level must be one of"):
        Settings(log_level="loud")


def test_help_lists_every_option_with_its_variables() -> None:
    result = CliRunner().invoke(cli.command(), ["--help"], terminal_width=200)
    assert result.exit_code == 0
    output = re.sub(r"\s+", " ", result.output)
    for name in setting_docs():
        assert option_name(name) in output
        for variable in env_names(name):
            assert variable in output


def test_version_prints_the_installed_distribution_and_serves_nothing() -> None:
    result = CliRunner().invoke(cli.command(), ["--version", "--port", "not-a-port"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"short-jobs-mock \d+\.\d+\.\d+\S*\n", result.output), result.output
