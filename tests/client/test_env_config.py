"""Configuration from the environment stays inside the typed errors (issue 19, item 9).

Every variable the toolkit, or httpx under it, reads (the proxy variables in any spelling, the
SSL variables, ``SHORT_JOBS_*``, ``HUAWEICLOUD_SDK_*``) that holds a value that cannot be used
makes ``ShortJobs(...)`` raise :class:`UsageError` naming the variable, and the CLI exit 2 with
one line naming it, before any request.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from short_jobs import ShortJobs
from short_jobs.cli import app
from short_jobs.errors import UsageError

pytestmark = pytest.mark.usefixtures("clean_client_env")

PROXY_NAMES = ("http_proxy", "https_proxy", "all_proxy")
CREDENTIALS = {
    "HUAWEICLOUD_SDK_AK": "AKEXAMPLE0123456789",
    "HUAWEICLOUD_SDK_SK": "sk-example-0123456789abcdef",
    "HUAWEICLOUD_SDK_PROJECT_ID": "project-example",
}
ENDPOINT = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _no_inherited_http_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own proxy and CA variables must not decide these tests."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
            monkeypatch.delenv(name)


def spellings(name: str) -> st.SearchStrategy[str]:
    """Every case of ``name``: urllib (and so httpx) reads them all."""
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(name, upper, strict=True))
    )


bad_proxy = st.one_of(
    st.sampled_from(["socks", "socks4", "ftp", "ws", "file", "gopher"]).map(
        lambda scheme: f"{scheme}://127.0.0.1:9/"
    ),
    st.sampled_from(
        [
            "http://proxy:port",
            "http://[::1",
            "http://proxy:99999999999",
            "socks5://127.0.0.1:1080",  # needs httpx[socks], not installed
            "::::",
        ]
    ),
)


def usage_error_naming(variable: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``ShortJobs`` raises UsageError naming ``variable``; the CLI exits 2 naming it."""
    with monkeypatch.context() as patched:
        for name, value in env.items():
            patched.setenv(name, value)
        with pytest.raises(UsageError) as raised:
            ShortJobs()  # everything from the environment, SHORT_JOBS_ENDPOINT included
        assert variable in str(raised.value)
    for command in (["show", "job"], ["conformance"]):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 2, (command, result.stdout, result.stderr, result.exception)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and variable in lines[0], result.stderr
        assert "internal error" not in lines[0]


ENV_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_the_named_socks_proxy_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT, "all_proxy": "socks://127.0.0.1:9/"}
    usage_error_naming("all_proxy", env, monkeypatch)


@ENV_SETTINGS
@given(data=st.data(), value=bad_proxy)
@example(data=None, value="socks://127.0.0.1:9/")
def test_every_unusable_proxy_variable_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, data: st.DataObject | None, value: str
) -> None:
    base = "all_proxy" if data is None else data.draw(st.sampled_from(PROXY_NAMES))
    name = base if data is None else data.draw(spellings(base))
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT, name: value}
    usage_error_naming(name, env, monkeypatch)


@ENV_SETTINGS
@given(name=spellings("no_proxy"))
def test_an_unreadable_no_proxy_entry_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT, name: "localhost,http://[::1"}
    usage_error_naming(name, env, monkeypatch)


def test_a_lower_case_proxy_variable_wins_over_its_upper_case_twin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        **CREDENTIALS,
        "SHORT_JOBS_ENDPOINT": ENDPOINT,
        "HTTPS_PROXY": "http://127.0.0.1:3128",
        "https_proxy": "ftp://127.0.0.1:21",
    }
    usage_error_naming("https_proxy", env, monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "ftp://127.0.0.1:21")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:3128")
    with ShortJobs(ENDPOINT, project_id="p", token="token-0123456789") as sj:
        assert sj.endpoint == ENDPOINT


def test_usable_proxy_variables_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "http_proxy": "http://user:pw@127.0.0.1:3128",
        "HTTPS_PROXY": "127.0.0.1:3128",
        "all_proxy": "https://proxy.example:8443",
        "no_proxy": "localhost,127.0.0.1,::1,.example.com,*.internal,http://[::1]:80",
    }.items():
        monkeypatch.setenv(name, value)
    with ShortJobs(ENDPOINT, project_id="p", token="token-0123456789") as sj:
        assert sj.endpoint == ENDPOINT


def ssl_cases(tmp: Path) -> list[tuple[str, str]]:
    (tmp / "not-a-pem").write_text("hello")
    return [
        ("SSL_CERT_FILE", str(tmp / "missing.pem")),
        ("SSL_CERT_FILE", str(tmp / "not-a-pem")),
        ("SSL_CERT_FILE", str(tmp)),
        ("SSL_CERT_DIR", str(tmp / "missing-dir")),
        ("SSL_CERT_DIR", str(tmp / "not-a-pem")),
    ]


@pytest.mark.parametrize("case", range(5))
def test_an_unusable_ssl_variable_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: int
) -> None:
    variable, value = ssl_cases(tmp_path)[case]
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": "https://127.0.0.1:9", variable: value}
    usage_error_naming(variable, env, monkeypatch)


def test_ssl_variables_are_not_read_when_verification_is_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with ShortJobs(ENDPOINT, project_id="p", token="token-0123456789", verify=False) as sj:
        assert sj.endpoint == ENDPOINT


TOOLKIT_VARIABLES = {
    "SHORT_JOBS_ENDPOINT": ["ftp://host", "http://", "http://host:port", "http://u:p@host", "x y"],
    "SHORT_JOBS_APP_USER_ID": ["has space", "x" * 65, "é"],
    "HUAWEICLOUD_SDK_AK": ["AK\n", " AK", "ÄK"],
    "HUAWEICLOUD_SDK_SK": ["SK\r\n", "S K", "SK\u200b"],
    "HUAWEICLOUD_SDK_PROJECT_ID": ["project\n", "pro ject"],
    "HUAWEICLOUD_SDK_SECURITY_TOKEN": ["token\n", "tok en"],
}


@ENV_SETTINGS
@given(data=st.data(), variable=st.sampled_from(sorted(TOOLKIT_VARIABLES)))
def test_every_unusable_toolkit_variable_names_it(
    monkeypatch: pytest.MonkeyPatch, data: st.DataObject, variable: str
) -> None:
    value = data.draw(st.sampled_from(TOOLKIT_VARIABLES[variable]))
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT, variable: value}
    if variable == "SHORT_JOBS_APP_USER_ID":
        # Read by the command line only (ShortJobs takes app_user_id= as an argument).
        result = CliRunner().invoke(app, ["show", "job"], env=env)
        assert result.exit_code == 2 and variable in result.stderr, result.stderr
        return
    usage_error_naming(variable, env, monkeypatch)


@pytest.mark.parametrize("value", ["token\n", "tok en", "tökén"])
def test_an_unusable_token_variable_names_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    env = {
        "SHORT_JOBS_ENDPOINT": ENDPOINT,
        "HUAWEICLOUD_SDK_PROJECT_ID": "project-example",
        "HUAWEICLOUD_SDK_TOKEN": value,
    }
    usage_error_naming("HUAWEICLOUD_SDK_TOKEN", env, monkeypatch)
