"""Unit tests of the hand-written client layer (``short_jobs``) against respx, no server.

They pin the exact requests the facade sends (through the generated client, with the auth
installed), how every kind of answer becomes a model or an error of the documented tree, the
retry rules (idempotent calls absorb 429 and 5xx; create is never retried blindly), and the
upload's streaming and credential hygiene. Time is faked: nothing here sleeps for real.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import tempfile
import wave
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from short_jobs import (
    NO_RETRY,
    AsyncShortJobs,
    AuthError,
    InvalidRequestError,
    JobFailedError,
    NetworkError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    ShortJobs,
    ShortJobsError,
    ThrottledError,
    UploadError,
    WaitTimeoutError,
    region_endpoint,
    resolve_endpoint,
)
from short_jobs.client import COMMIT_GRACE
from short_jobs.errors import (
    JobNotCommittedError,
    UsageError,
    error_from_response,
    parse_retry_after,
)
from short_jobs.retry import is_transient, never_reached_service, retry_call
from short_jobs.signing import parse_authorization, verify_request
from short_jobs.zipping import collect_wavs, file_chunks, zip_recordings
from short_jobs_client import Client
from short_jobs_client.api.short_jobs import show_short_job
from short_jobs_client.models import CreateShortJobResponse, JobState, ShowShortJobResponse

pytestmark = pytest.mark.usefixtures("clean_client_env")

BASE = "https://metastudio.example.test"
PROJECT = "proj-1"
AK, SK = "AKTEST", "sk-test"
TOKEN = "iam-token"
JOB = "job-1"
COLLECTION = f"{BASE}/v1/{PROJECT}/voice-training-manage/user/short-jobs"
ITEM = f"{COLLECTION}/{JOB}"
UPLOAD_URL = (
    "https://bucket.obs.example.test/voice/job-1.zip?AccessKeyId=X&Expires=9&Signature=a%3D"
)

CREATED = {"job_id": JOB, "data_uploading_url": UPLOAD_URL}
AUTH_HEADERS = ("authorization", "x-auth-token", "x-sdk-date", "x-project-id", "x-app-userid")


def job_body(state: str, **extra: Any) -> dict[str, Any]:
    return {"job_id": JOB, "state": state, "job_type": "VOICE_ASSESS", **extra}


def error_body(code: str, msg: str, request_id: str | None = None) -> dict[str, str]:
    body = {"error_code": code, "error_msg": msg}
    if request_id is not None:
        body["request_id"] = request_id
    return body


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


class Surface:
    """One facade, sync or async, driven through the same synchronous calls.

    Every test of the facade runs twice (the ``surface`` parameter): on ``ShortJobs`` and on
    ``AsyncShortJobs``, whose coroutines run on one event loop per test.
    """

    def __init__(self, facade: ShortJobs | AsyncShortJobs, loop: asyncio.AbstractEventLoop) -> None:
        object.__setattr__(self, "_facade", facade)
        object.__setattr__(self, "_loop", loop)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._facade, name)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._loop.run_until_complete(value(*args, **kwargs))
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._facade, name, value)

    def __enter__(self) -> Surface:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Make = Callable[..., Surface]


@pytest.fixture(params=["sync", "async"])
def surface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(surface: str, fake_time: FakeTime) -> Iterator[Make]:
    """Build the facade of this test's surface; time is fake unless ``sleep`` etc. are given."""
    loop = asyncio.new_event_loop()
    made: list[Surface] = []

    def build(*args: Any, **kwargs: Any) -> Surface:
        kwargs.setdefault("clock", fake_time.clock)
        if surface == "sync":
            kwargs.setdefault("sleep", fake_time.sleep)
            facade: ShortJobs | AsyncShortJobs = ShortJobs(*args, **kwargs)
        else:
            kwargs.setdefault("sleep", fake_time.asleep)
            facade = AsyncShortJobs(*args, **kwargs)
        made.append(Surface(facade, loop))
        return made[-1]

    yield build
    for each in made:
        each.close()
    loop.close()


@pytest.fixture
def sj(make: Make) -> Surface:
    return make(BASE, project_id=PROJECT, ak=AK, sk=SK, rand=lambda: 0.5)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def assert_signed(request: httpx.Request) -> None:
    """The request carries a valid SDK-HMAC-SHA256 signature for AK/SK and the project header."""
    ak = verify_request(
        request.method,
        request.url.raw_path.split(b"?")[0],
        request.url.query,
        list(request.headers.raw),
        request.content,
        {AK: SK}.get,
        datetime.now(UTC),
    )
    assert ak == AK
    assert request.headers["X-Project-Id"] == PROJECT


def stored_zip(path: Path, content: bytes) -> Path:
    """A real zip holding ``content`` uncompressed (uploads refuse what is not a zip)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("take.wav", content)
    return path


def write_wav(path: Path, seconds: float = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x01\x00" * int(16000 * seconds))
    return path


# --- the exact requests ----------------------------------------------------------------------


def test_create_sends_the_generated_request_signed(sj: Surface, mock: respx.MockRouter) -> None:
    route = mock.post(COLLECTION).respond(200, json=CREATED)
    job = sj.create(language="en")
    assert isinstance(job, CreateShortJobResponse)
    assert (job.job_id, job.data_uploading_url) == (JOB, UPLOAD_URL)
    request = route.calls.last.request
    assert json.loads(request.content) == {"job_type": "VOICE_ASSESS", "language": "EN"}
    assert request.headers["Content-Type"] == "application/json"
    assert "X-App-UserId" not in request.headers
    assert_signed(request)


def test_token_auth_sends_only_the_token(mock: respx.MockRouter, make: Make) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, token=TOKEN) as sj:
        assert sj.show(JOB).state is JobState.WAITING
    headers = route.calls.last.request.headers
    assert headers["X-Auth-Token"] == TOKEN
    assert "Authorization" not in headers


def test_app_user_id_is_sent_on_every_call(mock: respx.MockRouter, make: Make) -> None:
    create = mock.post(COLLECTION).respond(200, json=CREATED)
    commit = mock.post(ITEM).respond(200)
    show = mock.get(ITEM).respond(200, json=job_body("SUCCEED"))
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK, app_user_id="user-001") as sj:
        sj.create()
        sj.commit(JOB)
        sj.show(JOB)
    for route in (create, commit, show):
        request = route.calls.last.request
        assert request.headers["X-App-UserId"] == "user-001"
        assert_signed(request)  # and it is covered by the signature


@pytest.mark.parametrize("value", ["用户", "has space", "x" * 65, ""])
def test_app_user_id_must_be_visible_ascii(value: str, make: Make) -> None:
    with pytest.raises(ValueError, match="app_user_id"):
        make(BASE, project_id=PROJECT, token=TOKEN, app_user_id=value)


@pytest.mark.parametrize("body", [b"", b"{}"])
def test_commit_accepts_an_empty_body_or_an_empty_object(
    sj: Surface, mock: respx.MockRouter, body: bytes
) -> None:
    route = mock.post(ITEM).respond(200, content=body)
    assert sj.commit(JOB) is None
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.content == b""
    assert_signed(request)


def test_show_returns_the_generated_model(sj: Surface, mock: respx.MockRouter) -> None:
    prop = {"expected": "e", "actual": "a", "suggestion": "s", "suggestion_en": "s", "status": 1}
    body = job_body("SUCCEED", assess_result={"snr": prop, "suggestion": "ok"})
    route = mock.get(ITEM).respond(200, json=body)
    detail = sj.show(JOB)
    assert isinstance(detail, ShowShortJobResponse)
    assert detail.to_dict() == body
    assert_signed(route.calls.last.request)


def test_the_generated_client_is_exposed_and_authenticated(
    sj: Surface, mock: respx.MockRouter
) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    assert isinstance(sj.client, Client)
    detail = show_short_job.sync(PROJECT, JOB, client=sj.client)
    assert isinstance(detail, ShowShortJobResponse)
    assert_signed(route.calls.last.request)


# --- endpoints and credentials ---------------------------------------------------------------


def test_region_name_becomes_the_metastudio_endpoint(mock: respx.MockRouter, make: Make) -> None:
    url = "https://metastudio.cn-north-4.myhuaweicloud.com"
    route = mock.get(f"{url}/v1/{PROJECT}/voice-training-manage/user/short-jobs/{JOB}").respond(
        200, json=job_body("WAITING")
    )
    with make("cn-north-4", project_id=PROJECT, token=TOKEN) as sj:
        assert sj.endpoint == url
        sj.show(JOB)
    assert route.called


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cn-north-4", "https://metastudio.cn-north-4.myhuaweicloud.com"),
        ("ap-southeast-1", "https://metastudio.ap-southeast-1.myhuaweicloud.com"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        (" https://example.test/prefix ", "https://example.test/prefix"),
    ],
)
def test_resolve_endpoint(given: str, expected: str) -> None:
    assert resolve_endpoint(given) == expected


@pytest.mark.parametrize(
    "bad", ["bogus", "ftp://example.test", "http://", "127.0.0.1:8000", "http://h:x", "http://h?q"]
)
def test_resolve_endpoint_refuses_what_is_neither_url_nor_region(bad: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        resolve_endpoint(bad)
    with pytest.raises(ValueError, match="region"):
        region_endpoint(bad)


def test_credentials_fall_back_to_the_sdk_environment(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("SHORT_JOBS_ENDPOINT", BASE)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HUAWEICLOUD_SDK_TOKEN", TOKEN)  # AK/SK wins over it
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make() as sj:
        assert (sj.endpoint, sj.project_id) == (BASE, PROJECT)
        sj.show(JOB)
    request = route.calls.last.request
    assert_signed(request)
    assert "X-Auth-Token" not in request.headers


def test_token_falls_back_to_its_variable(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_TOKEN", TOKEN)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE) as sj:
        sj.show(JOB)
    assert route.calls.last.request.headers["X-Auth-Token"] == TOKEN


def test_an_explicit_ak_pairs_with_the_sk_variable(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "OTHER")
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, ak=AK) as sj:
        sj.show(JOB)
    assert_signed(route.calls.last.request)


SECURITY_TOKEN = "gQtemporary-security-token"
INVISIBLE_CHARACTERS = st.sampled_from(
    ["\n", "\r\n", " ", "\t", "\u00a0", "\u200b", "\x7f", "é", "密"]
)


def test_temporary_credentials_send_their_security_token_signed(
    mock: respx.MockRouter, make: Make
) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK, security_token=SECURITY_TOKEN) as sj:
        sj.show(JOB)
    request = route.calls.last.request
    assert_signed(request)
    assert request.headers["X-Security-Token"] == SECURITY_TOKEN
    signed = parse_authorization(request.headers["Authorization"]).signed_headers
    assert "x-security-token" in signed


def test_the_security_token_variable_is_read_only_with_the_ak_variable(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    """As the official SDK's environment credentials: HUAWEICLOUD_SDK_SECURITY_TOKEN belongs to
    the AK in HUAWEICLOUD_SDK_AK; a permanent AK passed explicitly never picks up a stale one."""
    monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN)
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK) as sj:
        sj.show(JOB)
    assert "X-Security-Token" not in route.calls.last.request.headers
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    with make(BASE, project_id=PROJECT) as sj:
        sj.show(JOB)
    assert route.calls.last.request.headers["X-Security-Token"] == SECURITY_TOKEN


def test_a_security_token_goes_with_ak_sk_not_a_token(make: Make) -> None:
    with pytest.raises(UsageError, match="security_token"):
        make(BASE, project_id=PROJECT, token=TOKEN, security_token=SECURITY_TOKEN)


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=INVISIBLE_CHARACTERS)
def test_a_security_token_with_invisible_characters_is_refused_naming_its_source(
    surface: str, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    cls: Callable[..., object] = ShortJobs if surface == "sync" else AsyncShortJobs
    value = SECURITY_TOKEN + bad
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(200)
        with pytest.raises(UsageError, match="invisible or non-ASCII") as by_argument:
            cls(BASE, project_id=PROJECT, ak=AK, sk=SK, security_token=value)
        assert "security_token=" in str(by_argument.value)
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", AK)
        monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
        monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", value)
        with pytest.raises(UsageError, match="HUAWEICLOUD_SDK_SECURITY_TOKEN"):
            cls(BASE, project_id=PROJECT)
        assert not route.called


def test_explicit_arguments_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, mock: respx.MockRouter, make: Make
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "ENVAK")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "ENVSK")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", "env-project")
    route = mock.get(ITEM).respond(200, json=job_body("WAITING"))
    with make(BASE, project_id=PROJECT, token=TOKEN) as sj:
        sj.show(JOB)
    request = route.calls.last.request
    assert request.headers["X-Auth-Token"] == TOKEN
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project_id": PROJECT}, "no credentials"),
        ({"ak": AK, "sk": SK}, "project id"),
        ({"project_id": PROJECT, "ak": AK}, "both"),
        ({"project_id": PROJECT, "ak": AK, "sk": SK, "token": TOKEN}, "not both"),
    ],
)
def test_missing_or_conflicting_credentials_are_refused(
    kwargs: dict[str, Any], message: str, make: Make
) -> None:
    with pytest.raises(ValueError, match=message):
        make(BASE, **kwargs)


def test_an_endpoint_is_required(make: Make) -> None:
    with pytest.raises(ValueError, match="SHORT_JOBS_ENDPOINT"):
        make(project_id=PROJECT, token=TOKEN)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, error_body("APIGW.0301", "signature mismatch", "body-rid"), AuthError, "APIGW.0301"),
        (401, error_body("APIG.0301", "token expired"), AuthError, "APIG.0301"),
        (401, error_body("MSS.00000001", "unauthorized"), AuthError, "MSS.00000001"),
        (403, error_body("APIGW.0302", "not authorized"), AuthError, "APIGW.0302"),
        (400, error_body("MSS.00000002", "Invalid request body"), InvalidRequestError, None),
        (400, error_body("MSS.00000003", "job x does not exist"), NotFoundError, None),
        # the class rests on status and code, never on the wording (which may change)
        (400, error_body("MSS.00000003", "作业不存在"), NotFoundError, None),
        (404, error_body("APIGW.0101", "no such API"), InvalidRequestError, None),
        (413, error_body("APIGW.0201", "too large"), InvalidRequestError, None),
        (429, error_body("APIGW.0308", "throttled"), ThrottledError, None),
        (500, error_body("MSS.00000004", "Internal error"), ServerError, None),
    ],
)
def test_declared_errors_map_to_their_class_with_every_field(
    sj: Surface,
    mock: respx.MockRouter,
    status: int,
    body: dict[str, str],
    cls: type[ShortJobsError],
    code: str | None,
) -> None:
    mock.get(ITEM).respond(status, json=body, headers={"X-Request-Id": "header-rid"})
    sj.retry = NO_RETRY
    with pytest.raises(cls) as caught:
        sj.show(JOB)
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.error_code == (code or body["error_code"])
    assert error.error_msg == body["error_msg"]
    assert error.request_id == "header-rid"  # the header wins over the body
    assert str(error.status) in str(error) and "header-rid" in str(error)


def test_request_id_falls_back_to_the_body(sj: Surface, mock: respx.MockRouter) -> None:
    mock.post(COLLECTION).respond(401, json=error_body("APIGW.0301", "bad", "body-rid"))
    with pytest.raises(AuthError) as caught:
        sj.create()
    assert caught.value.request_id == "body-rid"


def test_throttled_error_carries_retry_after(sj: Surface, mock: respx.MockRouter) -> None:
    mock.post(COLLECTION).respond(
        429, json=error_body("APIGW.0308", "throttled"), headers={"Retry-After": "7"}
    )
    sj.retry = NO_RETRY
    with pytest.raises(ThrottledError) as caught:
        sj.create()
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "content", "cls"),
    [
        (502, b"<html>Bad Gateway</html>", ServerError),
        (503, b"", ServerError),
        (599, b"odd", ServerError),  # not even an http.HTTPStatus member
        (418, b"I'm a teapot", ShortJobsError),
        (409, b'{"error_code": "X.1", "error_msg": "conflict"}', ShortJobsError),
        (400, b"not json", InvalidRequestError),  # declared status, unparsable body
        (401, b"<html>denied</html>", AuthError),
        (200, b"not json", ShortJobsError),
        (200, b'{"job_id": "j", "state": 7}', ShortJobsError),  # a state that is no string
        (201, b'{"job_id": "j", "state": "SUCCEED"}', ShortJobsError),
    ],
)
def test_undeclared_or_unreadable_answers_still_raise(
    sj: Surface, mock: respx.MockRouter, status: int, content: bytes, cls: type[ShortJobsError]
) -> None:
    mock.get(ITEM).respond(status, content=content, headers={"X-Request-Id": "rid"})
    sj.retry = NO_RETRY
    with pytest.raises(cls) as caught:
        sj.show(JOB)
    assert type(caught.value) is cls
    assert caught.value.status == status
    assert caught.value.request_id == "rid"
    assert caught.value.error_msg  # says what came back


def test_error_from_response_reads_a_json_body_itself() -> None:
    error = error_from_response(
        409, {"x-request-id": "rid"}, b'{"error_code": "X.1", "error_msg": "conflict"}'
    )
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (
        409,
        "X.1",
        "conflict",
        "rid",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-2", 0.0),
        ("Wed, 01 Jan 2025 00:00:10 GMT", 10.0),
        ("soon", None),
        (None, None),
        ("", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


def test_connection_errors_become_network_errors(sj: Surface, mock: respx.MockRouter) -> None:
    mock.get(ITEM).mock(side_effect=httpx.ConnectError("Connection refused"))
    with pytest.raises(NetworkError) as caught:
        sj.show(JOB)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert "Connection refused" in str(caught.value)


# --- retries ---------------------------------------------------------------------------------


def test_show_absorbs_429_with_retry_after_and_503(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get(ITEM).mock(
        side_effect=[
            httpx.Response(429, json=error_body("APIGW.0308", "t"), headers={"Retry-After": "3"}),
            httpx.Response(503, content=b"unavailable"),
            httpx.Response(200, json=job_body("PROCESSING")),
        ]
    )
    assert sj.show(JOB).state is JobState.PROCESSING
    assert route.call_count == 3
    # Retry-After is honoured exactly; then full jitter: rand() 0.5 * min(cap, base * 2**1)
    assert fake_time.sleeps == [3.0, 0.5]


def test_show_gives_up_after_the_policy_attempts(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    sj.retry = RetryPolicy(attempts=3, base=1.0, cap=1.5)
    route = mock.get(ITEM).respond(500, json=error_body("MSS.00000004", "Internal error"))
    with pytest.raises(ServerError):
        sj.show(JOB)
    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 0.75]  # 0.5 * min(1.5, 1.0), 0.5 * min(1.5, 2.0)


def test_show_retries_connection_errors(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get(ITEM).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=job_body("WAITING"))]
    )
    assert sj.show(JOB).state is JobState.WAITING
    assert route.call_count == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, content=b"unavailable"),
        httpx.Response(500, json=error_body("MSS.00000004", "Internal error")),
        httpx.ReadTimeout("the answer was lost"),
    ],
)
def test_create_is_not_retried_blindly(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime, answer: Any
) -> None:
    route = mock.post(COLLECTION).mock(side_effect=[answer, httpx.Response(200, json=CREATED)])
    with pytest.raises((ServerError, NetworkError)):
        sj.create()
    assert route.call_count == 1
    assert fake_time.sleeps == []


def test_commit_is_not_retried_blindly(sj: Surface, mock: respx.MockRouter) -> None:
    route = mock.post(ITEM).mock(
        side_effect=[httpx.Response(502, content=b"bad gateway"), httpx.Response(200)]
    )
    with pytest.raises(ServerError):
        sj.commit(JOB)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("Connection refused"),
        httpx.Response(429, json=error_body("APIGW.0308", "throttled")),
    ],
)
def test_create_is_resent_only_when_it_never_reached_the_service(
    sj: Surface, mock: respx.MockRouter, answer: Any
) -> None:
    route = mock.post(COLLECTION).mock(side_effect=[answer, httpx.Response(200, json=CREATED)])
    assert sj.create().job_id == JOB
    assert route.call_count == 2


def test_retry_policy_backoff_is_capped_full_jitter() -> None:
    policy = RetryPolicy(attempts=10, base=0.5, cap=4.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(10_000, lambda: 1.0) == 4.0  # no overflow for huge retry counts


def test_retry_policy_refuses_a_retry_after_beyond_its_limit() -> None:
    policy = RetryPolicy(max_retry_after=10)
    error = ThrottledError(status=429, retry_after=3600)
    assert policy.delay(0, error) is None
    assert policy.delay(0, ThrottledError(status=429, retry_after=10)) == 10


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base": -1.0}, {"cap": -1.0}])
def test_retry_policy_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=">="):
        RetryPolicy(**kwargs)


def test_retry_call_stops_before_a_deadline(fake_time: FakeTime) -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ServerError(status=503, retry_after=5)

    with pytest.raises(ServerError):
        retry_call(
            failing,
            RetryPolicy(attempts=10),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            deadline=fake_time.now + 12,
        )
    assert fake_time.sleeps == [5, 5]  # a third 5 s wait would pass the deadline
    assert len(calls) == 3


def test_transient_and_unsent_classification() -> None:
    unsent = NetworkError("refused")
    unsent.__cause__ = httpx.ConnectError("refused")
    lost = NetworkError("timeout")
    lost.__cause__ = httpx.ReadTimeout("timeout")
    assert is_transient(unsent) and is_transient(lost)
    assert never_reached_service(unsent) and not never_reached_service(lost)
    assert is_transient(ServerError(status=503)) and not never_reached_service(
        ServerError(status=503)
    )
    assert never_reached_service(ThrottledError(status=429))
    assert not is_transient(InvalidRequestError(status=400))


# --- upload ----------------------------------------------------------------------------------


def test_upload_streams_the_file_without_credentials(
    mock: respx.MockRouter, tmp_path: Path, make: Make
) -> None:
    path = stored_zip(tmp_path / "r.zip", bytes(range(256)) * 4096)  # just over 1 MiB
    data = path.read_bytes()
    route = mock.put(UPLOAD_URL).respond(200)
    seen: list[tuple[int, int]] = []
    with make(BASE, project_id=PROJECT, ak=AK, sk=SK, app_user_id="u1") as sj:
        sj.upload(CreateShortJobResponse(JOB, UPLOAD_URL), path, progress=lambda *a: seen.append(a))
    request = route.calls.last.request
    assert request.url == UPLOAD_URL
    assert request.content == data
    assert request.headers["Content-Type"] == "application/zip"
    assert request.headers["Content-Length"] == str(len(data))
    assert "Transfer-Encoding" not in request.headers
    for name in AUTH_HEADERS:
        assert name not in request.headers
    step = 256 * 1024
    assert seen == [(min(n, len(data)), len(data)) for n in range(step, len(data) + step, step)]


def test_file_chunks_reads_lazily(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abcdefg")
    chunks = file_chunks(path, chunk_size=3)
    path.write_bytes(b"ABCDEFG")  # not opened yet: a retry re-reads the file from the start
    assert list(chunks) == [b"ABC", b"DEF", b"G"]


def test_upload_retries_5xx_and_resends_the_whole_file(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"zipdata" * 1000)
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(503 if len(bodies) == 1 else 200)

    mock.put(UPLOAD_URL).mock(side_effect=answer)
    sj.upload(UPLOAD_URL, path)
    assert bodies == [path.read_bytes()] * 2


def test_upload_error_parses_the_obs_xml(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"z")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code>'
        "<Message>The request signature does not match.</Message>"
        "<RequestId>xml-rid</RequestId><HostId>h</HostId></Error>"
    )
    mock.put(UPLOAD_URL).respond(403, text=xml, headers={"Content-Type": "application/xml"})
    with pytest.raises(UploadError) as caught:
        sj.upload(UPLOAD_URL, path)
    error = caught.value
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (
        403,
        "SignatureDoesNotMatch",
        "The request signature does not match.",
        "xml-rid",
    )


def test_upload_error_without_xml_keeps_a_snippet(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = stored_zip(tmp_path / "r.zip", b"z")
    mock.put(UPLOAD_URL).respond(404, text="no such bucket", headers={"x-obs-request-id": "o"})
    with pytest.raises(UploadError) as caught:
        sj.upload(UPLOAD_URL, path)
    assert (caught.value.error_code, caught.value.error_msg) == (None, "no such bucket")
    assert caught.value.request_id == "o"


def test_upload_of_a_missing_file_raises_before_sending(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = mock.put(UPLOAD_URL).respond(200)
    with pytest.raises(UsageError, match="no such file"):
        sj.upload(UPLOAD_URL, tmp_path / "missing.zip")
    assert not route.called


# --- wait ------------------------------------------------------------------------------------


def test_wait_polls_with_growing_capped_intervals(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    states = ["WAITING"] * 3 + ["PROCESSING"] * 6 + ["SUCCEED"]
    route = mock.get(ITEM).mock(side_effect=[httpx.Response(200, json=job_body(s)) for s in states])
    seen: list[JobState] = []
    detail = sj.wait(JOB, timeout=600, on_poll=lambda d: seen.append(d.state))
    assert detail.state is JobState.SUCCEED
    assert route.call_count == len(states)
    assert [s.value for s in seen] == states
    assert fake_time.sleeps[0] == 0.2
    assert fake_time.sleeps == sorted(fake_time.sleeps)
    assert max(fake_time.sleeps) == 5.0


def test_wait_raises_job_failed_with_the_job(sj: Surface, mock: respx.MockRouter) -> None:
    failed = job_body(
        "FAILED", job_failed_code="MSS.20000002", job_failed_reason="a.wav: not a RIFF/WAVE file"
    )
    mock.get(ITEM).mock(
        side_effect=[
            httpx.Response(200, json=job_body("PROCESSING")),
            httpx.Response(200, json=failed, headers={"X-Request-Id": "rid"}),
        ]
    )
    with pytest.raises(JobFailedError) as caught:
        sj.wait(JOB)
    error = caught.value
    assert error.job_failed_code == "MSS.20000002"
    assert error.job_failed_reason == "a.wav: not a RIFF/WAVE file"
    assert error.job.to_dict() == failed
    assert (error.job_id, error.request_id, error.error_code) == (JOB, "rid", "MSS.20000002")


def test_wait_times_out(sj: Surface, mock: respx.MockRouter, fake_time: FakeTime) -> None:
    mock.get(ITEM).respond(200, json=job_body("PROCESSING"))
    start = fake_time.now
    with pytest.raises(WaitTimeoutError) as caught:
        sj.wait(JOB, timeout=3)
    error = caught.value
    assert isinstance(error, TimeoutError) and isinstance(error, ShortJobsError)
    assert fake_time.now - start == pytest.approx(3.0)  # the last poll is at the deadline
    assert error.last is not None and error.last.state is JobState.PROCESSING
    assert (error.job_id, error.timeout) == (JOB, 3)


def test_wait_raises_the_real_error(sj: Surface, mock: respx.MockRouter) -> None:
    mock.get(ITEM).respond(400, json=error_body("MSS.00000003", "job job-1 does not exist"))
    with pytest.raises(NotFoundError):
        sj.wait(JOB)


def test_wait_keeps_polling_through_a_state_it_does_not_know(
    sj: Surface, mock: respx.MockRouter
) -> None:
    states = ["WAITING", "QUEUED_FOR_GPU", "PROCESSING", "SUCCEED"]
    bodies = [job_body(s, job_type="VOICE_CLONE", gpu=1) for s in states]
    mock.get(ITEM).mock(side_effect=[httpx.Response(200, json=b) for b in bodies])
    seen: list[JobState] = []
    detail = sj.wait(JOB, on_poll=lambda d: seen.append(d.state))
    assert [s.value for s in seen] == states
    assert [s.is_known for s in seen] == [True, False, True, True]
    assert detail.state is JobState.SUCCEED
    assert detail.job_type == "VOICE_CLONE" and detail.additional_properties == {"gpu": 1}


def test_an_unknown_state_times_out_like_any_unfinished_one(
    sj: Surface, mock: respx.MockRouter
) -> None:
    mock.get(ITEM).respond(200, json=job_body("QUEUED_FOR_GPU"))
    with pytest.raises(WaitTimeoutError, match="still QUEUED_FOR_GPU after 30 s") as caught:
        sj.wait(JOB, timeout=30)
    assert caught.value.last is not None and caught.value.last.state == "QUEUED_FOR_GPU"


def test_wait_on_a_job_never_committed_says_so_after_the_grace(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get(ITEM).respond(200, json=job_body("CREATING"))
    start = fake_time.now
    with pytest.raises(JobNotCommittedError, match="never committed") as caught:
        sj.wait(JOB, timeout=600)
    assert fake_time.now - start == pytest.approx(COMMIT_GRACE)  # at the grace, not after 600 s
    assert caught.value.job_id == JOB and isinstance(caught.value, InvalidRequestError)
    assert route.call_count > 1  # polled through the grace, in case the commit shows late


def test_a_commit_that_shows_late_is_waited_for(sj: Surface, mock: respx.MockRouter) -> None:
    states = ["CREATING", "CREATING", "WAITING", "SUCCEED"]
    mock.get(ITEM).mock(side_effect=[httpx.Response(200, json=job_body(s)) for s in states])
    assert sj.wait(JOB).state is JobState.SUCCEED


def test_commit_grace_is_a_setting(make: Make, mock: respx.MockRouter, fake_time: FakeTime) -> None:
    mock.get(ITEM).respond(200, json=job_body("CREATING"))
    sj = make(BASE, project_id=PROJECT, token=TOKEN, commit_grace=0)
    with pytest.raises(JobNotCommittedError):
        sj.wait(JOB)
    assert fake_time.sleeps == []  # said at once


def test_not_found_rests_on_the_operation_and_code_not_the_wording(
    sj: Surface, mock: respx.MockRouter
) -> None:
    body = error_body("MSS.00000003", "job job-1 does not exist")
    mock.post(ITEM).respond(400, json=body)
    with pytest.raises(InvalidRequestError) as caught:
        sj.commit(JOB)  # MSS.00000003 on a commit may be "not uploaded" or "already committed"
    assert not isinstance(caught.value, NotFoundError)
    mock.get(ITEM).respond(400, json=error_body("MSS.00000003", "whatever it says"))
    with pytest.raises(NotFoundError):
        sj.show(JOB)


# --- mistakes found before sending -----------------------------------------------------------

INVISIBLE = INVISIBLE_CHARACTERS


@pytest.mark.parametrize(
    ("variable", "argument"),
    [
        ("HUAWEICLOUD_SDK_AK", "ak"),
        ("HUAWEICLOUD_SDK_SK", "sk"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "project_id"),
        ("HUAWEICLOUD_SDK_TOKEN", "token"),
    ],
)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=INVISIBLE, at=st.sampled_from(["end", "start", "middle"]))
@example(bad="\n", at="end")  # the trial's HUAWEICLOUD_SDK_AK with a trailing newline
def test_credentials_with_invisible_characters_are_refused_naming_their_source(
    surface: str, monkeypatch: pytest.MonkeyPatch, variable: str, argument: str, bad: str, at: str
) -> None:
    good = {"ak": AK, "sk": SK, "project_id": PROJECT, "token": TOKEN}[argument]
    value = {"end": good + bad, "start": bad + good, "middle": good[:2] + bad + good[2:]}[at]
    cls: Callable[..., object] = ShortJobs if surface == "sync" else AsyncShortJobs
    others: dict[str, str] = (
        {"project_id": PROJECT}
        if argument == "token"
        else {"project_id": PROJECT, "ak": AK, "sk": SK}
    )
    others.pop(argument, None)
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(200)
        with pytest.raises(UsageError, match="invisible or non-ASCII") as by_argument:
            cls(BASE, **{**others, argument: value})
        assert f"{argument}=" in str(by_argument.value)
        monkeypatch.setenv(variable, value)
        with pytest.raises(UsageError, match=variable):
            cls(BASE, **others)
        assert not route.called


def test_an_error_raised_before_sending_is_a_usage_error_never_retried(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime, tmp_path: Path
) -> None:
    route = mock.get(ITEM).mock(side_effect=httpx.LocalProtocolError("Illegal header value"))
    with pytest.raises(UsageError, match="not sent: Illegal header value") as caught:
        sj.show(JOB)
    assert not isinstance(caught.value, NetworkError) and caught.value.status is None
    assert route.call_count == 1 and fake_time.sleeps == []
    zipped = stored_zip(tmp_path / "r.zip", b"z")
    for url in ("http://bucket/x\n", "http://[::1/x", "ftp://bucket/x"):
        with pytest.raises(UsageError):
            sj.upload(url, zipped)
    assert fake_time.sleeps == []


# --- zipping and assess ----------------------------------------------------------------------


def recordings(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    write_wav(root / "a.wav")
    write_wav(root / "day2" / "b.WAV")
    write_wav(root / "day3" / "a.wav")  # same name, another folder: kept apart
    (root / "notes.txt").write_text("not audio")
    return root


def test_collect_wavs_finds_wav_files_recursively(tmp_path: Path) -> None:
    root = recordings(tmp_path)
    assert [e.name for e in collect_wavs(root)] == ["a.wav", "day2/b.WAV", "day3/a.wav"]


def test_several_folders_wavs_and_zips_merge_under_their_own_names(tmp_path: Path) -> None:
    first = recordings(tmp_path / "one")
    second = tmp_path / "two"
    write_wav(second / "a.wav")
    given = zip_recordings(first, tmp_path / "given.zip")
    loose = write_wav(tmp_path / "loose.wav")
    entries = collect_wavs([first, second, given, loose])
    assert [e.name for e in entries] == [
        "recordings/a.wav",
        "recordings/day2/b.WAV",
        "recordings/day3/a.wav",
        "two/a.wav",
        "given/a.wav",
        "given/day2/b.WAV",
        "given/day3/a.wav",
        "loose.wav",
    ]
    merged = zip_recordings([first, given], tmp_path / "merged.zip")
    with zipfile.ZipFile(merged) as archive:
        assert archive.read("given/day2/b.WAV") == (first / "day2" / "b.WAV").read_bytes()


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (lambda p: p / "missing", "no such file"),
        (lambda p: p, "no .wav files"),
        (lambda p: [], "no recordings"),
        (lambda p: [write_wav(p / "x" / "a.wav"), write_wav(p / "y" / "a.wav")], "two"),
        (lambda p: [p / "x", write_wav(p / "x" / "a.wav").parent], "two"),
        (lambda p: [write_wav(p / "a.wav"), p / "gone"], "no such file"),
    ],
)
def test_collect_wavs_refuses_bad_sources(tmp_path: Path, source: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match) as caught:
        collect_wavs(source(tmp_path))
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("notes.txt", b"text", "not a .wav file, a .zip or a directory"),
        ("take.zip", b"RIFF not a zip", "not a zip file"),
    ],
)
def test_a_file_that_is_neither_wav_nor_zip_is_refused_before_sending(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path, name: str, content: bytes, match: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    put = mock.put(UPLOAD_URL).respond(200)
    with pytest.raises(UsageError, match=match):
        sj.upload(UPLOAD_URL, path)
    with pytest.raises(UsageError, match=match):
        sj.assess([path])
    assert not put.called


def test_upload_zips_wav_files_and_folders_first(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = mock.put(UPLOAD_URL).respond(200)
    zipped: list[tuple[int, int]] = []
    sj.upload(UPLOAD_URL, write_wav(tmp_path / "take.wav"), on_zip=lambda *a: zipped.append(a))
    assert uploaded_names(route) == ["take.wav"]
    assert zipped == [(1, 1)]
    sj.upload(UPLOAD_URL, [recordings(tmp_path / "r"), tmp_path / "take.wav"])
    names = ["recordings/a.wav", "recordings/day2/b.WAV", "recordings/day3/a.wav", "take.wav"]
    assert uploaded_names(route) == names


def test_zip_recordings_writes_every_wav(tmp_path: Path) -> None:
    root = recordings(tmp_path)
    target = zip_recordings(root, tmp_path / "out.zip")
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["a.wav", "day2/b.WAV", "day3/a.wav"]


def uploaded_names(route: respx.Route) -> list[str]:
    content = route.calls.last.request.content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.namelist()


def assess_routes(mock: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "create": mock.post(COLLECTION).respond(200, json=CREATED),
        "upload": mock.put(UPLOAD_URL).respond(200),
        "commit": mock.post(ITEM).respond(200),
        "show": mock.get(ITEM).mock(
            side_effect=[
                httpx.Response(200, json=job_body("PROCESSING")),
                httpx.Response(200, json=job_body("SUCCEED")),
            ]
        ),
    }


def test_assess_zips_a_directory_and_runs_the_whole_job(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    routes = assess_routes(mock)
    created: list[str] = []
    progress: list[tuple[int, int]] = []
    detail = sj.assess(
        recordings(tmp_path),
        language="EN",
        progress=lambda *a: progress.append(a),
        on_created=lambda job: created.append(job.job_id),
    )
    assert detail.state is JobState.SUCCEED
    assert created == [JOB]
    assert json.loads(routes["create"].calls.last.request.content)["language"] == "EN"
    assert uploaded_names(routes["upload"]) == ["a.wav", "day2/b.WAV", "day3/a.wav"]
    assert progress[-1][0] == progress[-1][1]
    assert routes["commit"].call_count == 1
    assert routes["show"].call_count == 2


def test_assess_takes_a_list_of_wav_files(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    routes = assess_routes(mock)
    files = [write_wav(tmp_path / "one.wav"), write_wav(tmp_path / "sub" / "two.wav")]
    sj.assess(files)
    assert uploaded_names(routes["upload"]) == ["one.wav", "two.wav"]


def test_assess_sends_a_zip_as_is(sj: Surface, mock: respx.MockRouter, tmp_path: Path) -> None:
    routes = assess_routes(mock)
    path = zip_recordings([write_wav(tmp_path / "one.wav")], tmp_path / "given.ZIP")
    sj.assess(str(path))
    assert routes["upload"].calls.last.request.content == path.read_bytes()


def test_assess_checks_the_source_before_creating_a_job(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    routes = assess_routes(mock)
    with pytest.raises(UsageError, match="no such file"):
        sj.assess(tmp_path / "missing.zip")
    with pytest.raises(ValueError, match=r"no \.wav"):
        sj.assess(tmp_path)
    assert not routes["create"].called


def test_unknown_language_is_refused(sj: Surface) -> None:
    with pytest.raises(ValueError, match="language"):
        sj.create(language="FR")


@settings(max_examples=20, deadline=None)
@given(
    layout=st.lists(
        st.lists(st.sampled_from(["a.wav", "b.WAV", "sub/a.wav", "x.txt"]), max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_several_folders_give_unique_names_under_each_folder(layout: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for index, files in enumerate(layout):
            folder = Path(tmp) / f"take{index}"
            folder.mkdir()
            for name in files:
                if name.endswith(".txt"):
                    (folder / name).write_text("notes")
                else:
                    write_wav(folder / name, seconds=0.01)
            folders.append(folder)
        source = folders[0] if len(folders) == 1 else folders
        wavs = [{n for n in files if not n.endswith(".txt")} for files in layout]
        if not all(wavs):
            with pytest.raises(UsageError, match=r"no \.wav files"):
                collect_wavs(source)
            return
        names = [entry.name for entry in collect_wavs(source)]
        expected = (
            sorted(wavs[0])
            if len(folders) == 1
            else [f"take{i}/{n}" for i, found in enumerate(wavs) for n in sorted(found)]
        )
        assert names == expected
        assert len(set(names)) == len(names)
