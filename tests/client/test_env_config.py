"""Configuration from the environment stays inside the typed errors (issue 19, item 9).

Every variable the toolkit, or httpx under it, reads (the proxy variables in any spelling, the
SSL variables, ``SHORT_JOBS_*``, ``HUAWEICLOUD_SDK_*``) that holds a value that cannot be used
makes ``ShortJobs(...)`` raise :class:`UsageError` naming the variable, and the CLI exit 2 with
one line naming it, before any request.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, NoReturn

import pytest
from httpx._utils import get_environment_proxies
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from short_jobs import RetryPolicy, ShortJobs
from short_jobs.cli import app
from short_jobs.environment import no_proxy_patterns
from short_jobs.errors import ShortJobsError, UsageError

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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NO_PROXY", "::::"),
        ("no_proxy", "[::1"),
        ("no_proxy", "a:b:c"),
        ("no_proxy", "[::1]:80"),
        ("no_proxy", "ü"),
        ("no_proxy", "localhost, example.com:port"),
    ],
)
def test_a_no_proxy_entry_without_a_scheme_httpx_cannot_read_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT, name: value}
    usage_error_naming(name, env, monkeypatch)


def test_a_star_in_no_proxy_turns_every_proxy_off_so_none_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # httpx reads no proxy variable at all then (get_environment_proxies returns nothing).
    monkeypatch.setenv("all_proxy", "socks://127.0.0.1:9/")
    monkeypatch.setenv("no_proxy", "localhost, *, [::1")
    with ShortJobs(ENDPOINT, project_id="p", token="token-0123456789") as sj:
        assert sj.endpoint == ENDPOINT


env_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
"""What a variable can hold (no NUL, no lone surrogate: the OS refuses those)."""
proxy_text = env_text | st.builds(
    "{}://{}".format, st.sampled_from(["http", "https", "socks5", "HTTP", "socks"]), env_text
)
"""...and URLs of the schemes httpx knows (and two it does not), their rest arbitrary."""


@ENV_SETTINGS
@given(value=env_text | st.lists(env_text, max_size=4).map(",".join))
def test_the_no_proxy_patterns_are_the_ones_httpx_makes(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with monkeypatch.context() as patched:
        patched.setenv("no_proxy", value)
        made = set(get_environment_proxies())
    assert {pattern for _, pattern in no_proxy_patterns(value)} == made


def _no_name_resolves(*_args: Any, **_kwargs: Any) -> NoReturn:
    # No request of the property below leaves the machine, whatever proxy it is sent to.
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@ENV_SETTINGS
@given(data=st.data(), value=proxy_text)
def test_any_text_in_a_proxy_variable_is_usable_or_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, data: st.DataObject, value: str
) -> None:
    name = data.draw(st.sampled_from([*PROXY_NAMES, "no_proxy"]).flatmap(spellings))
    with monkeypatch.context() as patched:
        patched.setattr(socket, "getaddrinfo", _no_name_resolves)
        patched.setenv(name, value)
        try:
            sj = ShortJobs(
                ENDPOINT, project_id="p", token="token-0123456789", retry=RetryPolicy(attempts=1)
            )
        except UsageError as exc:
            refused = str(exc)
        else:
            with sj, pytest.raises(ShortJobsError):
                sj.show(
                    "job"
                )  # typed: NetworkError (nothing resolves), or UsageError if unsendable
            return
    assert name in refused


@pytest.mark.parametrize(
    "value",
    [
        "http://a b:80",
        "http://ü:80",
        "proxy\u200b:3128",
        "http://a b@127.0.0.1:80",
        "http://u:p q@h",
    ],
)
def test_a_proxy_host_or_userinfo_a_url_cannot_hold_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Such a proxy used to pass, and every request then failed as "no answer from <endpoint>".
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT, "http_proxy": value}
    usage_error_naming("http_proxy", env, monkeypatch)
    monkeypatch.setenv("http_proxy", value)
    with pytest.raises(UsageError) as raised:
        ShortJobs(ENDPOINT, project_id="p", token="token-0123456789")
    assert "p q" not in str(raised.value)  # the password, even a short one, is not shown


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


@pytest.mark.parametrize(
    "value",
    [
        "http://proxy_1.internal.:3128",
        "http://[::1]:3128",
        "http://u:s%20cret@xn--bcher-kva.example",
    ],
)
def test_usable_proxy_hosts_and_userinfo_still_work(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # '_' and a trailing dot resolve; an IDN host in its xn-- form; a percent-encoded space
    monkeypatch.setenv("all_proxy", value)
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
    "SHORT_JOBS_ENDPOINT": [
        "ftp://host",
        "http://",
        "http://host:port",
        "http://u:p@host",
        "x y",
        "http://a b:80",
        "https://ü.example",
        "http://-host-",
    ],
    "SHORT_JOBS_APP_USER_ID": ["has space", "x" * 65, "é"],
    "HUAWEICLOUD_SDK_AK": ["AK\n", " AK", "ÄK"],
    "HUAWEICLOUD_SDK_SK": ["SK\r\n", "S K", "SK\u200b"],
    "HUAWEICLOUD_SDK_PROJECT_ID": ["project\n", "pro ject", "a/b", "../../x", "x" * 3000],
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


@ENV_SETTINGS
@given(value=proxy_text)
def test_any_text_as_the_endpoint_is_usable_or_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(socket, "getaddrinfo", _no_name_resolves)
        patched.setenv("SHORT_JOBS_ENDPOINT", value)
        try:
            sj = ShortJobs(project_id="p", token="token-0123456789", retry=RetryPolicy(attempts=1))
        except UsageError as exc:
            refused = str(exc)
        else:
            with sj, pytest.raises(ShortJobsError):
                sj.show("job")
            return
    assert "SHORT_JOBS_ENDPOINT" in refused


@pytest.mark.parametrize("value", ["a/b", "../../x", "x" * 3000])
def test_a_project_id_option_that_cannot_be_one_names_the_option(value: str) -> None:
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT}
    result = CliRunner().invoke(app, ["--project-id", value, "show", "job"], env=env)
    assert result.exit_code == 2, result.stderr
    assert "--project-id" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("job_id", [".", ".."])
@pytest.mark.parametrize("command", ["show", "commit", "wait"])
def test_a_job_id_argument_that_would_change_the_path_is_a_usage_error(
    command: str, job_id: str
) -> None:
    env = {**CREDENTIALS, "SHORT_JOBS_ENDPOINT": ENDPOINT}
    result = CliRunner().invoke(app, [command, job_id], env=env)
    assert result.exit_code == 2, result.stderr
    assert "job id" in result.stderr and len(result.stderr.splitlines()) == 1
