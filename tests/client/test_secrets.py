"""No secret in any output (issue 19, item 7).

Userinfo in an endpoint is refused before anything is sent (exit 2), the password unshown; every
secret the toolkit knows (SK, tokens, security tokens, passwords, signatures, pre-signed URL
credentials, userinfo) is scrubbed by ``short_jobs.redact.scrub`` from stdout, stderr, the HAR
file, the JUnit file and ``--json``, even when a service echoes it back. The family: random
secrets, placed in every place the toolkit knows, through the real CLI against the mock (and a
proxy in front of it that echoes secrets) over 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from drift_proxy import Answer, Drift, drifting_proxy
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from mock_server.faces.inprocess import RunningMock
from mock_server.pytest_plugin import MockHandle
from short_jobs import redact
from short_jobs.cli import app
from short_jobs.redact import REDACTED, scrub

pytestmark = pytest.mark.usefixtures("clean_client_env")

NAMED_PASSWORD = "s3cretPassw0rd"
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
"""The CLI runs take seconds each: a failure is reported as found, not shrunk for minutes."""

# Drawn as a list of characters, not `st.text`: hypothesis also draws text from the string
# constants of the code under test, and one of those ("startedDateTime", "MSS.00000003") is in
# every output whether or not it is a secret.
secret = (
    st.lists(
        st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/="),
        min_size=12,
        max_size=40,
    )
    .map("".join)
    .filter(lambda s: s.strip("-_.~+/=") != "" and REDACTED not in s)
)
"""What SKs, tokens and passwords look like (Huawei's SKs are 40 characters of this alphabet)."""


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    # Each test starts with the process knowing no secret, as a fresh CLI does.
    redact.forget_all()
    yield
    redact.forget_all()


def forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote(value)}


def assert_absent(value: str, *outputs: str) -> None:
    for text in outputs:
        for form in forms(value):
            assert form not in text, f"a secret survived: {form[:4]}..."


def env_for(server: RunningMock, endpoint: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "SHORT_JOBS_ENDPOINT": endpoint or server.url,
        "HUAWEICLOUD_SDK_AK": server.ak,
        "HUAWEICLOUD_SDK_SK": server.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": server.project_id,
        **extra,
    }


def outputs(result: Result, *files: Path) -> list[str]:
    return [
        result.stdout,
        result.stderr,
        *(f.read_text("utf-8") for f in files if f.exists()),
    ]


# --- userinfo in the endpoint ---------------------------------------------------------------


def test_the_named_endpoint_with_a_password_is_refused_before_anything_is_sent(
    short_jobs_mock: MockHandle, tmp_path: Path
) -> None:
    server = short_jobs_mock.server
    host = server.url.removeprefix("http://")
    har, junit = tmp_path / "x.har", tmp_path / "x.xml"
    env = env_for(server)
    del env["SHORT_JOBS_ENDPOINT"]
    result = CliRunner().invoke(
        app,
        [
            "--endpoint",
            f"http://alice:{NAMED_PASSWORD}@{host}",
            "conformance",
            "--record",
            str(har),
            "--junit-xml",
            str(junit),
        ],
        env=env,
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "user name or password" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert_absent(NAMED_PASSWORD, result.stdout, result.stderr)
    assert not har.exists() and not junit.exists()
    assert short_jobs_mock.requests() == []


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user=secret, password=secret, command=st.sampled_from(["show", "conformance", "create"]))
def test_userinfo_anywhere_is_refused_with_exit_2_and_never_shown(
    mock: RunningMock, user: str, password: str, command: str
) -> None:
    host = mock.url.removeprefix("http://")
    endpoint = f"http://{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    args = {"show": ["show", "job"], "conformance": ["conformance"], "create": ["create"]}[command]
    for env in (env_for(mock, endpoint), {**env_for(mock), "SHORT_JOBS_ENDPOINT": ""}):
        given_args = [] if env["SHORT_JOBS_ENDPOINT"] else ["--endpoint", endpoint]
        result = CliRunner().invoke(app, [*given_args, *args], env=env)
        assert result.exit_code == 2, (result.stdout, result.stderr)
        if env["SHORT_JOBS_ENDPOINT"]:
            assert "SHORT_JOBS_ENDPOINT" in result.stderr
        assert_absent(password, result.stdout, result.stderr)


# --- a service that echoes secrets ------------------------------------------------------------


def echo_secrets(extra: str) -> Drift:
    """A drift: every answer carries what the request's credentials were, and ``extra``, in the
    places a careless service or gateway would put them."""

    def drift(answer: Answer) -> None:
        sent = {k.lower(): v for k, v in answer.request_headers.items()}
        echoed = " ".join(
            f"{name}: {sent[name]}"
            for name in ("authorization", "x-auth-token", "x-security-token")
            if name in sent
        )
        answer.headers["X-Subject-Token"] = extra
        answer.headers["Set-Cookie"] = f"session={extra}"
        body = answer.json() if answer.body[:1] == b"{" else None
        if isinstance(body, dict):
            if "error_msg" in body:
                body["error_msg"] += f" (you sent {echoed}; password={extra})"
            if "data_uploading_url" in body:
                url = body["data_uploading_url"]
                body["data_uploading_url"] = url.replace(
                    "://", f"://user:{quote(extra, safe='')}@", 1
                )
            body["debug"] = {"password": extra, "security_token": extra}
            answer.set_json(body)

    return drift


SECRET_SETTINGS = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=NO_SHRINK,
)


@pytest.mark.slow  # seconds of its own: command lines and conformance runs per example
@SECRET_SETTINGS
@given(sk=secret, security_token=secret, extra=secret)
@example(sk="not-the-secret-key-0123456789", security_token="t" * 20, extra=NAMED_PASSWORD)
def test_refused_credentials_echoed_by_the_service_are_never_shown(
    mock: RunningMock, tmp_path: Path, sk: str, security_token: str, extra: str
) -> None:
    """A wrong SK, a security token and a signature, all echoed in the 401's error_msg."""
    har, junit = tmp_path / "run.har", tmp_path / "run.xml"
    with drifting_proxy(mock.url, echo_secrets(extra)) as proxy:
        env = env_for(mock, proxy.url, HUAWEICLOUD_SDK_SK=sk)
        env["HUAWEICLOUD_SDK_SECURITY_TOKEN"] = security_token
        runs = [
            CliRunner().invoke(app, ["show", "some-job"], env=env),
            CliRunner().invoke(app, ["show", "some-job", "--json"], env=env),
            CliRunner().invoke(
                app,
                ["conformance", "--json", "--record", str(har), "--junit-xml", str(junit)],
                env=env,
            ),
        ]
        signatures = {
            part.rsplit("=", 1)[1]
            for answer in proxy.seen
            for part in answer.request_headers.get("Authorization", "").split(",")
            if "Signature=" in part
        }
    assert runs[0].exit_code == 1 and "AuthError" in runs[0].stderr
    assert "you sent" in runs[0].stderr  # the echo did reach the message, scrubbed
    assert signatures
    for result in runs:
        for value in (sk, security_token, extra, *signatures):
            assert_absent(value, *outputs(result, har, junit))


@pytest.mark.slow  # seconds of its own: command lines and conformance runs per example
@SECRET_SETTINGS
@given(token=secret, extra=secret)
def test_a_token_echoed_by_the_service_is_never_shown(
    mock: RunningMock, token: str, extra: str
) -> None:
    with drifting_proxy(mock.url, echo_secrets(extra)) as proxy:
        env = {
            "SHORT_JOBS_ENDPOINT": proxy.url,
            "HUAWEICLOUD_SDK_TOKEN": token,
            "HUAWEICLOUD_SDK_PROJECT_ID": mock.project_id,
        }
        for args in (["show", "job"], ["commit", "job"], ["create", "--json"], ["conformance"]):
            result = CliRunner().invoke(app, args, env=env)
            assert result.exit_code in (1, 5), (args, result.stdout, result.stderr)
            assert_absent(token, result.stdout, result.stderr)
            assert_absent(extra, result.stdout, result.stderr)


@pytest.mark.slow  # seconds of its own: two conformance runs per example, jobs assessed
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(extra=secret)
def test_a_whole_run_writes_no_secret_to_stdout_har_junit_or_json(
    mock: RunningMock, tmp_path: Path, extra: str
) -> None:
    """The real credentials, every signature, the pre-signed URLs' credentials, and a secret
    the service puts in headers, bodies and URLs: none in any of the run's outputs."""
    har, junit = tmp_path / "run.har", tmp_path / "run.xml"
    with drifting_proxy(mock.url, echo_secrets(extra)) as proxy:
        env = env_for(mock, proxy.url)
        text = CliRunner().invoke(app, ["conformance", "--max-jobs", "1"], env=env)
        as_json = CliRunner().invoke(
            app,
            ["conformance", "--json", "--record", str(har), "--junit-xml", str(junit)],
            env=env,
        )
    assert json.loads(as_json.stdout)["spent"]["jobs_created"] == 2
    # httpx sends a URL's userinfo as Basic auth: the base64 of it is the same secret.
    basic = base64.b64encode(f"user:{extra}".encode()).decode()
    wire = {mock.sk, mock.token, extra, basic}
    for answer in proxy.seen:
        for part in answer.request_headers.get("Authorization", "").split(","):
            if "Signature=" in part:
                wire.add(part.rsplit("=", 1)[1])
        body = answer.json() if answer.status == 200 and answer.body[:1] == b"{" else None
        if isinstance(body, dict) and "data_uploading_url" in body:
            query = dict(
                p.split("=", 1) for p in body["data_uploading_url"].split("?")[1].split("&")
            )
            wire.update({query["AccessKeyId"], query["Signature"]})
    for value in wire:
        assert_absent(value, *outputs(text), *outputs(as_json, har, junit))
    assert REDACTED in har.read_text("utf-8")


# --- the scrubber itself ----------------------------------------------------------------------

PLACES = [
    "Authorization: SDK-HMAC-SHA256 Access=AKID, SignedHeaders=host, Signature={s}",
    "https://bucket.obs.example.com/k.zip?AccessKeyId=AK&Expires=1&Signature={s}",
    "https://bucket.obs.example.com/k.zip?x-obs-security-token={s}&Signature=abc",
    "http://alice:{s}@host:8000/v1",
    "X-Auth-Token: {s}",
    "x-subject-token={s}",
    '{{"password": "{s}", "name": "alice"}}',
    "security_token={s}&next=1",
    '{{"credential": {{"access": "AK", "secret": "{s}", "securitytoken": "{s}"}}}}',
    "X-Security-Token: {s}",
    "Authorization: Basic {s}",
    "Proxy-Authorization: Bearer {s}",
]


@given(value=secret, place=st.sampled_from(PLACES), around=st.text(max_size=10))
@example(value="000000000000", place="X-Auth-Token: {s}", around="Bearer")  # a key swallowed
def test_a_secret_in_any_known_place_is_scrubbed_even_unremembered(
    value: str, place: str, around: str
) -> None:
    if "@host" in place:
        value = quote(value, safe="")  # userinfo is percent-encoded in a URL
    if value in around:
        return
    text = f"{around} {place.format(s=value)} {around}"
    assert value not in scrub(text)


# What each rule recognises a credential by: put before another rule's place, one rule's value
# must not swallow the other's key.
KEYS = [
    "Bearer",
    "Basic",
    "Digest",
    "Access=",
    "Signature=",
    "AccessKeyId=",
    "password:",
    "sk=",
    "X-Auth-Token:",
    "https://",
    "security_token=",
]


@given(
    value=secret,
    place=st.sampled_from(PLACES),
    keys=st.lists(st.sampled_from(KEYS), min_size=1, max_size=3),
    gap=st.sampled_from([" ", "=", ": ", "\t", ", "]),
)
def test_no_rules_key_is_swallowed_by_another_rules_value(
    value: str, place: str, keys: list[str], gap: str
) -> None:
    if "@host" in place:
        value = quote(value, safe="")
    before = gap.join(keys)
    if value in before:
        return
    assert value not in scrub(f"{before}{gap}{place.format(s=value)}")


@given(value=secret, around=st.text(max_size=20))
def test_a_remembered_secret_is_scrubbed_wherever_it_occurs(value: str, around: str) -> None:
    redact.remember(value)
    for form in forms(value):
        assert value not in scrub(around + form + around)


# Any characters a secret may hold (regex metacharacters, quotes, backslashes, %, non-ASCII),
# long enough to be swept as a value (MIN_SECRET); none of REDACTED's letters, so that what the
# scrubber writes can never spell the value again.
odd_secret = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=REDACTED),
    min_size=redact.MIN_SECRET,
    max_size=30,
).filter(lambda s: s.strip() != "")


def _json_nested(text: str, depth: int) -> str:
    for _ in range(depth):
        text = json.dumps({"error_msg": text})
    return text


def _spelt(value: str, depth: int) -> str:
    """`value` as it reads inside a JSON string nested `depth` times."""
    for _ in range(depth):
        value = json.dumps(value)[1:-1]
    return value


@given(value=odd_secret, around=st.text(max_size=10), depth=st.integers(0, 2))
@example(value="a.b*c+(d)[e]$^|\\1%2F", around="raw=", depth=1)  # the named: `\` doubled
def test_a_remembered_secret_is_scrubbed_as_json_spells_it_too(
    value: str, around: str, depth: int
) -> None:
    """A service's JSON body echoing the SK, and a HAR holding that body as a JSON string: the
    value is spelt with its `\\` and `"` escaped once or twice, and is still found."""
    redact.remember(value)
    shown = scrub(_json_nested(f"{around}{value}{around}", depth))
    assert _spelt(value, depth) not in shown


@given(value=secret, depth=st.integers(1, 2))
@example(value="hunter33-hunter33", depth=1)
def test_a_named_field_inside_json_text_is_scrubbed_unremembered(value: str, depth: int) -> None:
    """`"password": "hunter33"` inside a JSON string reads `\\"password\\": \\"hunter33\\"`."""
    text = _json_nested(json.dumps({"password": value, "name": "alice"}), depth)
    assert value not in scrub(text)


def test_an_errors_str_and_repr_are_scrubbed() -> None:
    from short_jobs.errors import InvalidRequestError

    error = InvalidRequestError(error_msg="echo plainSecret77 Signature=abcdef")
    redact.remember("plainSecret77")  # after the error was made: scrubbed when shown
    for shown in (str(error), repr(error)):
        assert "plainSecret77" not in shown and "abcdef" not in shown
    assert error.error_msg == "echo plainSecret77 Signature=abcdef"  # the raw value is kept


def test_library_logs_carry_no_credentials(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs every request's URL at INFO, a pre-signed URL's Signature included."""
    import logging

    import httpx

    url = "http://127.0.0.1:9/b/k.zip?AccessKeyId=AK&Expires=1&Signature=f%2B%2BNPYEsecret"
    with (
        caplog.at_level(logging.INFO),
        httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200))) as client,
    ):
        client.put(url)
    assert "HTTP Request" in caplog.text and "NPYEsecret" not in caplog.text


def test_the_retry_log_line_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from short_jobs.errors import ServerError
    from short_jobs.retry import RetryPolicy, retry_call

    redact.remember("mock-secret-key-0000")
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ServerError(
                status=503, error_msg="echo mock-secret-key-0000 X-Auth-Token: tok123456"
            )
        return "ok"

    with caplog.at_level(logging.INFO, logger="short_jobs"):
        assert (
            retry_call(flaky, RetryPolicy(attempts=2, base=0, cap=0), sleep=lambda _: None) == "ok"
        )
    assert "retrying" in caplog.text
    assert "mock-secret-key-0000" not in caplog.text and "tok123456" not in caplog.text
