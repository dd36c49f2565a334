"""SDK-HMAC-SHA256: our signer agrees with the official SDK byte for byte, our verifier with both.

Each table request is built and signed by ``huaweicloudsdkcore`` itself (a MetaStudioClient's own
``build_future_request``, the step every SDK call goes through), then really sent by the SDK's HTTP
client to a loopback server that records the bytes on the wire. ``sign_request`` must produce the
same headers from the same input, and ``verify_request`` must accept what the SDK sent, and refuse
it once anything signed is changed.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkmetastudio.v1 import (
    CommitShortJobRequest,
    CreateShortJobReq,
    CreateShortJobRequest,
    MetaStudioClient,
    ShowShortJobRequest,
)

from short_jobs.auth import AkSkAuth, TokenAuth
from short_jobs.signing import (
    ALGORITHM,
    DATE_FORMAT,
    DATE_HEADER,
    MAX_CLOCK_SKEW,
    SignatureError,
    canonical_query_string,
    canonical_uri,
    parse_authorization,
    parse_query,
    sign_request,
    verify_request,
)

AK = "HPUAEXAMPLEAK0000001"
SK = "example/secret+key=0123456789abcdefghij"
PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SECRETS = {AK: SK}
# Headers the SDK's Signer adds itself; everything else in header_params was there before signing.
SIGNER_ADDED = ("Authorization", DATE_HEADER, "Host", "X-Sdk-Content-Sha256")
SHORT_JOBS = "/v1/{project_id}/voice-training-manage/user/short-jobs"


# --- a loopback server that records requests exactly as they arrive ------------------------------


@dataclass(frozen=True)
class Wire:
    """One request as received: raw target, header bytes, body."""

    method: str
    target: str
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str:
        values = [
            v.decode("latin-1") for k, v in self.headers if k.lower() == name.lower().encode()
        ]
        assert len(values) == 1, (name, values)
        return values[0]

    def with_header(self, name: str, value: str | None) -> Wire:
        """A copy with `name` replaced (or removed when `value` is None)."""
        kept = [(k, v) for k, v in self.headers if k.lower() != name.lower().encode()]
        if value is not None:
            kept.append((name.encode(), value.encode("utf-8")))
        return replace(self, headers=kept)


@dataclass
class Recorder:
    requests: list[Wire] = field(default_factory=list)


def _read_chunked(handler: BaseHTTPRequestHandler) -> bytes:
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0], 16)
        if size == 0:
            handler.rfile.readline()
            return body
        body += handler.rfile.read(size)
        handler.rfile.readline()


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[str, Recorder]]:
    record = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = _read_chunked(self)
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            # http.server decodes header bytes as Latin-1; encoding back gives the wire bytes.
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
            record.requests.append(Wire(self.command, self.path, raw, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", record
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def sdk(recorder: tuple[str, Recorder]) -> Iterator[Any]:
    endpoint, _ = recorder
    client = (
        MetaStudioClient.new_builder()
        .with_credentials(BasicCredentials(AK, SK, PROJECT))
        .with_endpoints([endpoint])
        .build()
    )
    yield client
    client.close()


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One SDK call: what `do_http_request` receives, and the body bytes it ends up sending."""

    method: str
    resource_path: str
    path_params: dict[str, str] = field(default_factory=dict)
    query_params: list[tuple[str, str]] = field(default_factory=list)
    header_params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    # how the SDK is given the body: "json" (a model/str), "stream" (BytesIO), "file" (rb file)
    body_kind: str = "json"


def _http_info(info: dict[str, Any]) -> Case:
    body = info["body"]
    return Case(
        info["method"],
        info["resource_path"],
        dict(info["path_params"]),
        list(info["query_params"]),
        dict(info["header_params"]),
        None if body is None else str(body).encode(),
    )


CASES: dict[str, Case] = {
    # The three short-job calls, exactly as huaweicloudsdkmetastudio builds them.
    "create": _http_info(
        MetaStudioClient._create_short_job_http_info(
            CreateShortJobRequest(body=CreateShortJobReq(job_type="VOICE_ASSESS", language="EN"))
        )
    ),
    "commit-with-app-user": _http_info(
        MetaStudioClient._commit_short_job_http_info(
            CommitShortJobRequest(job_id="job-1", x_app_user_id="app-user-7")
        )
    ),
    "show-get-json-no-body": _http_info(
        MetaStudioClient._show_short_job_http_info(ShowShortJobRequest(job_id="job-1"))
    ),
    "escaped-path-segments": Case(
        "GET",
        SHORT_JOBS + "/{job_id}/files/{name}",
        {"job_id": "a b/c%2Fd", "name": "zoë 音声~!*'()+.wav"},
    ),
    "query-repeats-empties-specials": Case(
        "GET",
        SHORT_JOBS,
        query_params=[
            ("state", "SUCCEED"),
            ("state", "FAILED"),
            ("empty", ""),
            ("q", "a b&c=d+e/f?~*'é"),
            ("limit", "10"),
            ("limit", "9"),
            ("a~", "1"),
            ("aé", "2"),
            ("Z", "upper"),
        ],
    ),
    "post-json-body-and-query": Case(
        "POST",
        SHORT_JOBS,
        query_params=[("dry_run", "true")],
        header_params={"X-App-UserId": "  padded-user  ", "Content-Type": "application/json"},
        body=b'{"job_type": "VOICE_ASSESS", "language": "CN"}',
    ),
    "zip-upload-unsigned-payload": Case(
        "PUT",
        SHORT_JOBS + "/{job_id}/data",
        {"job_id": "job-1"},
        header_params={"Content-Type": "application/zip"},
        body=b"PK\x03\x04 not really a zip \xff\x00",
        body_kind="stream",
    ),
    "octet-stream-upload": Case(
        "POST",
        SHORT_JOBS + "/{job_id}/data",
        {"job_id": "job-1"},
        header_params={"Content-Type": "application/octet-stream"},
        body=bytes(range(256)),
        body_kind="file",
    ),
    "zip-content-type-get-without-body": Case(
        "GET",
        SHORT_JOBS + "/{job_id}/data",
        {"job_id": "job-1"},
        header_params={"Content-Type": "application/zip"},
    ),
    "non-ascii-and-underscore-headers": Case(
        "GET",
        SHORT_JOBS,
        header_params={"X-App-UserId": "jürgen", "X_Trace_Id": "not-signed"},
    ),
    "caller-set-date": Case(
        "GET",
        SHORT_JOBS,
        header_params={DATE_HEADER: "20240229T235959Z"},
    ),
}


@dataclass(frozen=True)
class Signed:
    """The SDK's signed request, what went on the wire, and the SDK's signing time."""

    sdk_headers: dict[str, str]
    url: str
    wire: Wire
    now: datetime


def _unmangle(value: str) -> str:
    """The SDK re-encodes header values as Latin-1 text of their UTF-8 bytes; undo it."""
    return value.encode("latin-1").decode("utf-8")


def _sdk_sign_and_send(
    sdk: Any, recorder: tuple[str, Recorder], case: Case, tmp_path: Path
) -> Signed:
    body: Any = None
    if case.body is not None:
        if case.body_kind == "stream":
            body = io.BytesIO(case.body)
        elif case.body_kind == "file":
            path = tmp_path / "upload.bin"
            path.write_bytes(case.body)
            body = path.open("rb")
        else:
            body = case.body.decode()
    try:
        request = sdk.build_future_request(
            case.method,
            case.resource_path,
            dict(case.path_params),
            list(case.query_params),
            dict(case.header_params),
            body,
            None,
            None,
            None,
            {},
            None,
        ).result()
        sdk_headers = dict(request.header_params)
        url = request.url
        _, record = recorder
        before = len(record.requests)
        sdk.get_http_client().do_request_sync(request)
        (wire,) = record.requests[before:]
    finally:
        if hasattr(body, "close"):
            body.close()
    now = datetime.strptime(sdk_headers[DATE_HEADER], DATE_FORMAT).replace(tzinfo=UTC)
    return Signed(sdk_headers, url, wire, now)


@pytest.fixture(params=list(CASES), ids=list(CASES))
def signed(
    request: pytest.FixtureRequest, sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path
) -> tuple[Case, Signed]:
    case = CASES[request.param]
    return case, _sdk_sign_and_send(sdk, recorder, case, tmp_path)


def test_sign_request_adds_exactly_the_sdk_headers(signed: tuple[Case, Signed]) -> None:
    case, sdk = signed
    # What the Signer was given: the caller's own values (not yet stripped), plus the SDK's
    # User-Agent, Content-Type default and X-Project-Id.
    before_signing = {
        name: case.header_params.get(name, _unmangle(value))
        for name, value in sdk.sdk_headers.items()
        if name not in SIGNER_ADDED or (name == DATE_HEADER and DATE_HEADER in case.header_params)
    }
    ours = sign_request(case.method, sdk.url, before_signing, case.body or b"", AK, SK, now=sdk.now)
    sdk_added = {name: sdk.sdk_headers[name] for name in sdk.sdk_headers if name in ours}
    assert ours == sdk_added
    assert set(ours) == set(sdk.sdk_headers) - set(before_signing)


def test_verify_request_accepts_what_the_sdk_sent(signed: tuple[Case, Signed]) -> None:
    case, sdk = signed
    wire = sdk.wire
    assert wire.method == case.method
    assert (
        verify_request(
            wire.method, wire.path, wire.query, wire.headers, wire.body, SECRETS.get, sdk.now
        )
        == AK
    )


def test_signed_headers_of_the_short_job_calls_are_the_documented_ones(
    sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path
) -> None:
    expected = {
        "create": "content-type;host;user-agent;x-project-id;x-sdk-date",
        "commit-with-app-user": "content-type;host;user-agent;x-app-userid;x-project-id;x-sdk-date",
        "show-get-json-no-body": "content-type;host;user-agent;x-project-id;x-sdk-date",
    }
    for name, signed_headers in expected.items():
        sdk_signed = _sdk_sign_and_send(sdk, recorder, CASES[name], tmp_path)
        auth = parse_authorization(sdk_signed.sdk_headers["Authorization"])
        assert ";".join(auth.signed_headers) == signed_headers, name


# --- the canonical forms, pinned to literal values ----------------------------------------------


@pytest.mark.parametrize(
    ("raw_path", "canonical"),
    [
        ("/", "/"),
        ("/v1/p/short-jobs", "/v1/p/short-jobs/"),
        ("/v1/p/short-jobs/", "/v1/p/short-jobs/"),
        ("/a%2Fb/c", "/a/b/c/"),  # %2F is decoded first, so it splits the segment
        ("/a b/%41~", "/a%20b/A~/"),
        ("/%7e%2a+", "/~%2A%2B/"),  # "+" stays a plus; "*" is escaped, "~" is not
        ("/zoë", "/zo%C3%AB/"),
        ("/zo%C3%AB", "/zo%C3%AB/"),
    ],
)
def test_canonical_uri(raw_path: str, canonical: str) -> None:
    assert canonical_uri(raw_path) == canonical
    assert canonical_uri(raw_path.encode("utf-8")) == canonical


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=10&a=1", "a=1&a=10&a=2"),  # values sort as text
        ("k&k=&=v&&x=1", "k=&k=&x=1"),  # bare and empty values; empty keys dropped
        ("q=a+b%20c", "q=a%2Bb%20c"),  # "+" is a literal plus
        ("a~=1&a%C3%A9=2", "a~=1&a%C3%A9=2"),  # sorted decoded: "~" (U+7E) before "é" (U+E9)
    ],
)
def test_canonical_query_string(query: str, canonical: str) -> None:
    assert canonical_query_string(query) == canonical


def test_canonical_query_string_of_pairs_sorts_decoded_values() -> None:
    pairs = [("state", "b c"), ("state", "a"), ("x", "")]
    assert canonical_query_string(pairs) == "state=a&state=b%20c&x="
    assert parse_query("x=%2B+&y") == [("x", "++"), ("y", "")]


# --- verify_request refuses every kind of tampering, with a reason to act on --------------------


@pytest.fixture
def wire_post(sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path) -> tuple[Wire, datetime]:
    """A signed JSON POST with a query, a signed X-App-UserId and a body, as the SDK sent it."""
    case = Case(
        "POST",
        SHORT_JOBS + "/{job_id}",
        {"job_id": "job 1"},
        query_params=[("a", "1"), ("b", "x y")],
        header_params={"X-App-UserId": "app-user-7"},
        body=b'{"job_type": "VOICE_ASSESS"}',
    )
    sdk_signed = _sdk_sign_and_send(sdk, recorder, case, tmp_path)
    return sdk_signed.wire, sdk_signed.now


def _verify(
    wire: Wire,
    now: datetime,
    secret_for: Callable[[str], str | None] = SECRETS.get,
) -> str:
    return verify_request(
        wire.method, wire.path, wire.query, wire.headers, wire.body, secret_for, now
    )


def _refused(wire: Wire, now: datetime, **kwargs: Any) -> str:
    with pytest.raises(SignatureError) as info:
        _verify(wire, now, **kwargs)
    return info.value.reason


def test_untampered_request_is_accepted(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    assert _verify(wire, now) == AK


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda w: replace(w, method="PUT"), id="method"),
        pytest.param(
            lambda w: replace(w, target=w.target.replace("job%201", "job%202")), id="path"
        ),
        pytest.param(lambda w: replace(w, target=w.target.replace("/job%201", "")), id="segment"),
        pytest.param(lambda w: replace(w, target=w.target.replace("a=1", "a=2")), id="query"),
        pytest.param(lambda w: replace(w, target=w.target + "&c=3"), id="extra-query"),
        pytest.param(lambda w: replace(w, target=w.path), id="dropped-query"),
        pytest.param(lambda w: w.with_header("X-App-UserId", "someone-else"), id="header"),
        pytest.param(lambda w: w.with_header("Host", "127.0.0.2:1"), id="host"),
        pytest.param(lambda w: w.with_header("X-Project-Id", "other-project"), id="project"),
        pytest.param(lambda w: replace(w, body=w.body.replace(b"VOICE", b"NOISE")), id="body"),
        pytest.param(lambda w: replace(w, body=b""), id="body-removed"),
    ],
)
def test_tampered_request_is_refused(
    wire_post: tuple[Wire, datetime], tamper: Callable[[Wire], Wire]
) -> None:
    wire, now = wire_post
    tampered = tamper(wire)
    assert tampered != wire
    assert _refused(tampered, now) == "signature mismatch"


def test_mismatch_carries_the_servers_canonical_request(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    with pytest.raises(SignatureError) as info:
        _verify(replace(wire, method="PUT"), now)
    assert info.value.canonical_request is not None
    assert info.value.canonical_request.startswith("PUT\n/v1/")


def test_unsigned_transport_headers_may_change(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    assert _verify(wire.with_header("Accept-Encoding", "br").with_header("Connection", None), now)


def test_wrong_secret_key_is_a_mismatch(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    assert _refused(wire, now, secret_for={AK: SK + "x"}.get) == "signature mismatch"


def test_unknown_access_key(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    reason = _refused(wire, now, secret_for={}.get)
    assert reason == f"access key {AK!r} not found"


@pytest.mark.parametrize("direction", [1, -1], ids=["server-ahead", "server-behind"])
def test_clock_skew_over_15_minutes_is_expired(
    wire_post: tuple[Wire, datetime], direction: int
) -> None:
    wire, now = wire_post
    assert _verify(wire, now + direction * MAX_CLOCK_SKEW) == AK  # the limit itself is fine
    reason = _refused(wire, now + direction * timedelta(minutes=16))
    assert reason.startswith("signature expired:")
    assert "15 minutes" in reason


def test_naive_server_time_is_utc(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    assert _verify(wire, now.replace(tzinfo=None)) == AK


def test_missing_date(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    assert _refused(wire.with_header(DATE_HEADER, None), now) == "missing X-Sdk-Date header"


@pytest.mark.parametrize("bad", ["2024-01-01T00:00:00Z", "20240101T000000", "20241301T000000Z"])
def test_malformed_date(wire_post: tuple[Wire, datetime], bad: str) -> None:
    wire, now = wire_post
    assert _refused(wire.with_header(DATE_HEADER, bad), now).startswith("bad X-Sdk-Date header")


def test_missing_authorization(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    assert _refused(wire.with_header("Authorization", None), now).startswith(
        "missing Authorization header"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("garbage", "malformed Authorization header"),
        (f"{ALGORITHM} Access={AK}, SignedHeaders=host", "malformed Authorization header"),
        (f"{ALGORITHM} Access=, SignedHeaders=host, Signature=ab", "malformed Authorization"),
        (f"{ALGORITHM} Access={AK}, SignedHeaders=host;;x, Signature=ab", "malformed"),
        (f"{ALGORITHM} Access={AK}, SignedHeaders=host, Signature=xyz", "malformed"),
        (f"AWS4-HMAC-SHA256 Access={AK}, SignedHeaders=host, Signature=ab", "unsupported"),
    ],
)
def test_malformed_authorization(wire_post: tuple[Wire, datetime], value: str, reason: str) -> None:
    wire, now = wire_post
    assert _refused(wire.with_header("Authorization", value), now).startswith(reason)


def test_signed_header_missing_from_request(wire_post: tuple[Wire, datetime]) -> None:
    wire, now = wire_post
    reason = _refused(wire.with_header("X-App-UserId", None), now)
    assert reason == "signed header(s) missing from the request: x-app-userid"


def test_unsigned_payload_body_is_not_covered(
    sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path
) -> None:
    """The SDK's UNSIGNED-PAYLOAD means what it says: the gateway cannot tell a changed upload."""
    sdk_signed = _sdk_sign_and_send(sdk, recorder, CASES["zip-upload-unsigned-payload"], tmp_path)
    wire = sdk_signed.wire
    assert _verify(replace(wire, body=b"another body"), sdk_signed.now) == AK
    assert _verify(replace(wire, body=b""), sdk_signed.now) == AK
    assert _refused(replace(wire, method="POST"), sdk_signed.now) == "signature mismatch"


def test_sdk_empty_file_upload_is_accepted(
    sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path
) -> None:
    """The SDK signs an empty *file* with UNSIGNED-PAYLOAD but no body with the empty hash."""
    case = replace(CASES["octet-stream-upload"], body=b"")
    sdk_signed = _sdk_sign_and_send(sdk, recorder, case, tmp_path)
    wire = sdk_signed.wire
    assert wire.body == b""
    assert wire.header("X-Sdk-Content-Sha256") == "UNSIGNED-PAYLOAD"
    assert _verify(wire, sdk_signed.now) == AK
    assert _refused(replace(wire, method="PUT"), sdk_signed.now) == "signature mismatch"


def test_content_sha256_must_match_the_body() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = b"payload"
    headers = {
        "Host": "127.0.0.1:9",
        "X-Sdk-Content-Sha256": "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5",
    }
    headers.update(sign_request("PUT", "/p", headers, body, AK, SK, now=now))
    assert verify_request("PUT", "/p", "", headers, body, SECRETS.get, now) == AK
    with pytest.raises(SignatureError, match="does not match the request body"):
        verify_request("PUT", "/p", "", headers, b"other!!", SECRETS.get, now)


def test_sign_request_ignores_case_of_method_and_a_stale_authorization() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = {"Host": "h:1", "Content-Type": "application/json"}
    fresh = sign_request("POST", "/p?a=1", headers, b"{}", AK, SK, now=now)
    stale = {
        **headers,
        "Authorization": f"{ALGORITHM} Access=old, SignedHeaders=host, Signature=00",
    }
    assert sign_request("post", "/p?a=1", stale, b"{}", AK, SK, now=now) == fresh


def test_verify_strips_header_values() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = {"Host": "h:1", "X-App-UserId": "user"}
    headers.update(sign_request("GET", "/p", headers, b"", AK, SK, now=now))
    padded = [(k.encode(), f" \t{v}  ".encode()) for k, v in headers.items()]
    assert verify_request("GET", b"/p", b"", padded, b"", SECRETS.get, now) == AK


def test_sign_request_needs_a_host() -> None:
    with pytest.raises(ValueError, match="Host"):
        sign_request("GET", "/p", {}, b"", AK, SK)
    added = sign_request("GET", "https://example.test:8443/p?x=1", {}, b"", AK, SK)
    assert added["Host"] == "example.test:8443"


# --- AkSkAuth and TokenAuth over real httpx requests --------------------------------------------

FIXED_NOW = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)
BASE = "http://127.0.0.1:8000"


def _capture() -> tuple[httpx.MockTransport, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    return httpx.MockTransport(handler), sent


def _verify_httpx(request: httpx.Request, now: datetime = FIXED_NOW) -> str:
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    return verify_request(
        request.method, path, query, request.headers.raw, request.content, SECRETS.get, now
    )


def _sdk_signed_headers(sdk: Any, case: Case, tmp_path: Path, recorder: Any) -> list[str]:
    sdk_signed = _sdk_sign_and_send(sdk, recorder, case, tmp_path)
    return parse_authorization(sdk_signed.sdk_headers["Authorization"]).signed_headers


def test_aksk_auth_create_is_verified_and_signs_the_sdk_header_set(
    sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path
) -> None:
    transport, sent = _capture()
    auth = AkSkAuth(AK, SK, PROJECT, clock=lambda: FIXED_NOW)
    with httpx.Client(transport=transport, auth=auth, base_url=BASE) as client:
        client.post(
            f"/v1/{PROJECT}/voice-training-manage/user/short-jobs",
            json={"job_type": "VOICE_ASSESS", "language": "CN"},
        )
    (request,) = sent
    assert _verify_httpx(request) == AK
    assert request.headers["X-Project-Id"] == PROJECT
    assert request.headers[DATE_HEADER] == "20250607T080910Z"
    assert "X-Sdk-Content-Sha256" not in request.headers
    ours = parse_authorization(request.headers["Authorization"]).signed_headers
    assert ours == _sdk_signed_headers(sdk, CASES["create"], tmp_path, recorder)


def test_aksk_auth_show_with_app_user_matches_the_sdk(
    sdk: Any, recorder: tuple[str, Recorder], tmp_path: Path
) -> None:
    transport, sent = _capture()
    auth = AkSkAuth(AK, SK, PROJECT, clock=lambda: FIXED_NOW)
    with httpx.Client(transport=transport, auth=auth, base_url=BASE) as client:
        client.get(
            f"/v1/{PROJECT}/voice-training-manage/user/short-jobs/job-1",
            headers={"Content-Type": "application/json", "X-App-UserId": "app-user-7"},
        )
    (request,) = sent
    assert _verify_httpx(request) == AK
    case = _http_info(
        MetaStudioClient._show_short_job_http_info(
            ShowShortJobRequest(job_id="job-1", x_app_user_id="app-user-7")
        )
    )
    ours = parse_authorization(request.headers["Authorization"]).signed_headers
    assert ours == _sdk_signed_headers(sdk, case, tmp_path, recorder)
    assert ours == [
        "content-type",
        "host",
        "user-agent",
        "x-app-userid",
        "x-project-id",
        "x-sdk-date",
    ]


def test_aksk_auth_escaped_path_query_and_zip_body() -> None:
    transport, sent = _capture()
    auth = AkSkAuth(AK, SK, PROJECT, clock=lambda: FIXED_NOW)
    with httpx.Client(transport=transport, auth=auth) as client:
        client.put(
            f"{BASE}/v1/p%2Fq/jobs/zo%C3%AB%20x",
            params=[("b", "x y+z"), ("a", ""), ("a", "é")],
            content=b"PK\x03\x04",
            headers={"Content-Type": "application/zip"},
        )
    (request,) = sent
    assert request.headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert _verify_httpx(request) == AK
    signed = parse_authorization(request.headers["Authorization"]).signed_headers
    assert signed == [
        "content-type",
        "host",
        "user-agent",
        "x-project-id",
        "x-sdk-content-sha256",
        "x-sdk-date",
    ]
    with pytest.raises(SignatureError, match="signature expired"):
        _verify_httpx(request, FIXED_NOW + timedelta(minutes=16))


def test_aksk_auth_re_signs_a_resent_request_with_a_fresh_date() -> None:
    dates: list[str] = []
    verified: list[str] = []
    times = iter([FIXED_NOW, FIXED_NOW + timedelta(hours=1)])

    def handler(request: httpx.Request) -> httpx.Response:
        dates.append(request.headers[DATE_HEADER])
        verified.append(_verify_httpx(request, FIXED_NOW + timedelta(hours=len(verified))))
        return httpx.Response(200)

    auth = AkSkAuth(AK, SK, PROJECT, clock=lambda: next(times))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        request = client.build_request("GET", f"{BASE}/v1/p/jobs")
        client.send(request)
        client.send(request)
    assert dates == ["20250607T080910Z", "20250607T090910Z"]
    assert verified == [AK, AK]


async def test_aksk_auth_async_client() -> None:
    transport, sent = _capture()
    auth = AkSkAuth(AK, SK, PROJECT, clock=lambda: FIXED_NOW)
    async with httpx.AsyncClient(transport=transport, auth=auth) as client:
        await client.post(f"{BASE}/v1/p/jobs/j", content=b'{"a": 1}')
    (request,) = sent
    assert _verify_httpx(request) == AK


def test_aksk_auth_hides_the_secret() -> None:
    assert SK not in repr(AkSkAuth(AK, SK, PROJECT))


def test_token_auth_sets_only_the_token() -> None:
    transport, sent = _capture()
    with httpx.Client(transport=transport, auth=TokenAuth("tok-123")) as client:
        client.get(f"{BASE}/v1/p/jobs")
    (request,) = sent
    assert request.headers["X-Auth-Token"] == "tok-123"
    assert "Authorization" not in request.headers
    assert DATE_HEADER not in request.headers
    assert "tok-123" not in repr(TokenAuth("tok-123"))
