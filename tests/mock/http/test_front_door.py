"""The front door never breaks character: a property test of random valid HTTP requests, and one
example per kind of fault the issue names (issue 9), in-process (ASGI) and over real HTTP.

Invariants, for every request: never a 5xx, never a 3xx; every error in the service's JSON shape
with X-Request-Id (`request_id` in the body for gateway codes), OBS XML on the upload path; exactly
one access-log line, with no control character in it; the server healthy afterwards.
"""

from __future__ import annotations

import http.client
import json
import socket
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from asgi import Answer, access_lines, call
from front_door_strategies import BASE, PROJECT, Request, requests
from hypothesis import HealthCheck, example, given, settings

from mock_server.app import Frontdoor, create_app
from mock_server.core.config import Settings
from mock_server.faces.inprocess import RunningMock, running_mock
from mock_server.obs.area import BUCKET
from short_jobs.signing import format_sdk_date, sign_request

TOKEN = (b"x-auth-token", Settings().token.encode())
JSON_TYPE = (b"content-type", b"application/json")
CREATE = b'{"job_type": "VOICE_ASSESS"}'
ACCESS_E = "SDK-HMAC-SHA256 Access=é, SignedHeaders=host, Signature=ab".encode()
DATE = format_sdk_date(datetime.now(UTC)).encode()
_PRINTABLE_LOG = set(string.printable) - set("\r\n\x0b\x0c")


@pytest.fixture(scope="module", params=[True, False], ids=["fast-lane", "connexion-only"])
def app(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Frontdoor]:
    made = create_app(
        Settings(
            data_dir=tmp_path_factory.mktemp("front-door"),
            project_id=PROJECT,
            validate_responses=True,
            fast_lane=request.param,
        )
    )
    assert isinstance(made, Frontdoor)
    yield made
    made.service.store.close()


def check_answer(method: str, target: bytes, answer: Answer) -> None:
    """The invariants of one answer (see the module docstring)."""
    assert answer.status < 500, answer
    assert not 300 <= answer.status < 400, answer
    request_id = answer.header("x-request-id")
    assert request_id, answer
    if answer.log_lines is not None:
        assert len(answer.log_lines) == 1, answer.log_lines
        line = answer.log_lines[0]
        assert request_id in line and all(char.isprintable() for char in line), line
    if answer.status < 400 or method == "HEAD":
        return
    if target.startswith(f"/{BUCKET}/".encode()):
        assert answer.header("content-type") == "application/xml", answer
        error = ElementTree.fromstring(answer.body)
        assert error.tag == "Error" and error.findtext("Code") and error.findtext("RequestId")
        return
    assert (answer.header("content-type") or "").startswith("application/json"), answer
    body = json.loads(answer.body)
    assert set(body) <= {"error_code", "error_msg", "request_id"}, body
    assert isinstance(body["error_code"], str) and isinstance(body["error_msg"], str)
    if body["error_code"].startswith("APIGW."):
        assert body["request_id"] == request_id
    else:
        assert "request_id" not in body


# -- the property, in-process --------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
@example(request=("GET", f"{BASE}/abc/".encode(), [TOKEN], [b""]))
@example(
    request=(
        "GET",
        f"{BASE}/abc".encode(),
        [(b"authorization", ACCESS_E), (b"x-sdk-date", DATE)],
        [b""],
    )
)
@example(
    request=(
        "POST",
        BASE.encode(),
        [TOKEN, JSON_TYPE],
        [b'{"job_type":"VOICE_ASSESS","n":' + b"1" * 5000 + b"}"],
    )
)
@example(
    request=(
        "POST",
        BASE.encode(),
        [TOKEN, JSON_TYPE, (b"transfer-encoding", b"chunked")],
        [CREATE[:9], CREATE[9:]],
    )
)
@example(
    request=(
        "POST",
        BASE.encode(),
        [TOKEN, (b"content-type", b"application/json ; charset=utf-8")],
        [CREATE],
    )
)
@example(request=("GET", f"{BASE}/a".encode(), [TOKEN, (b"x-app-userid", "café".encode())], [b""]))
@example(request=("DELETE", f"{BASE}/a".encode(), [TOKEN], [b""]))
@example(  # once a 500 with the fast lane off: a recursive copy of a 490-deep document
    request=(
        "POST",
        BASE.encode(),
        [TOKEN, JSON_TYPE],
        [b'{"job_type":"VOICE_ASSESS","n":' + b"[" * 490 + b"]" * 490 + b"}"],
    )
)
@example(request=("GET", f"{BASE}/x%0AFORGED%1B%5B31m".encode(), [TOKEN], [b""]))
@example(
    request=("POST", BASE.encode(), [TOKEN, JSON_TYPE], [b'{"a":' * 3000 + b"1" + b"}" * 3000])
)
@example(request=("GET", f"{BASE}/a".encode(), [TOKEN, (b"x-app-userid", b"\xff\xfe\x1b")], [b""]))
@example(request=("PUT", f"/{BUCKET}/%0A".encode(), [(b"x-evil", b"\x1b")], [b"\x00"]))
def test_random_requests_never_break_the_front_door(app: Frontdoor, request: Request) -> None:
    method, target, headers, chunks = request
    check_answer(method, target, call(app, method, target, headers, chunks))


# -- one example per named input (issue 9), over real HTTP --------------------------------------


def raw_http(
    server: RunningMock,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    *,
    chunked: bool = False,
) -> Answer:
    """A request written byte for byte (any header bytes, any framing), its response read."""
    host, port = server.url.removeprefix("http://").split(":")
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: " + f"{host}:{port}".encode()]
    lines += [name + b": " + value for name, value in headers]
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        payload = b"".join(
            b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]) if part
        )
        payload += b"0\r\n\r\n"
    else:
        lines.append(b"Content-Length: " + str(len(body)).encode())
        payload = body
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(b"\r\n".join([*lines, b"", b""]) + payload)
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
    answer = Answer(response.status, headers, response.read())
    sock.close()
    return answer


def _json(response: Answer) -> dict[str, str]:
    body: dict[str, str] = json.loads(response.body)
    return body


def test_non_ascii_access_key_is_401_not_500(mock: RunningMock) -> None:
    date = format_sdk_date(datetime.now(UTC)).encode()
    for authorization in [
        "SDK-HMAC-SHA256 Access=é, SignedHeaders=host, Signature=ab".encode(),
        "SDK-HMAC-SHA256 Access=é, SignedHeaders=host, Signature=ab".encode("latin-1"),
        b"SDK-HMAC-SHA256 Access=\xff\xfe, SignedHeaders=host, Signature=ab",
        b"SDK-HMAC-SHA256",
        b"SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature=",
        b"SDK-HMAC-SHA256 Access=a, SignedHeaders=host;;, Signature=zz",
        b"SDK-HMAC-SHA256 Access=a, SignedHeaders=nope, Signature=ab",
        b"SDK-HMAC-SHA256 " + b"A" * 6000,
        b"Basic abc",
    ]:
        response = raw_http(
            mock,
            "GET",
            f"{BASE}/x".encode().replace(PROJECT.encode(), mock.project_id.encode()),
            [(b"Authorization", authorization), (b"X-Sdk-Date", date)],
        )
        assert response.status == 401, authorization
        assert _json(response)["error_code"] == "APIGW.0301"


def test_duplicated_and_odd_credentials_are_401(mock: RunningMock) -> None:
    path = f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs/x".encode()
    token = mock.token.encode()
    for headers in [
        [(b"X-Auth-Token", token), (b"X-Auth-Token", token)],
        [(b"X-Auth-Token", "tökén".encode())],
        [(b"X-Auth-Token", b"\xff")],
        [(b"X-Auth-Token", b"")],
        [(b"X-Sdk-Date", b"20261123T120000Z")],
    ]:
        response = raw_http(mock, "GET", path, headers)
        assert response.status == 401, headers
        assert _json(response)["error_code"] == "APIGW.0301"


def test_a_5000_digit_number_is_json_and_a_nan_is_not(mock: RunningMock) -> None:
    path = f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs".encode()
    headers = [(b"X-Auth-Token", mock.token.encode()), (b"Content-Type", b"application/json")]
    big = b'{"job_type":"VOICE_ASSESS","n":' + b"1" * 5000 + b"}"
    assert raw_http(mock, "POST", path, headers, big).status == 200
    for body in [
        b'{"job_type":"VOICE_ASSESS","n":NaN}',
        b'{"job_type":"VOICE_ASSESS","n":-Infinity}',
        b'{"job_type":"\\udc00"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"job_type":"VOICE_ASSESS","job_type":"VOICE_ASSESS"}',
        b"\xef\xbb\xbf" + CREATE,
        b'{"job_type":"VOICE_\xff"}',
    ]:
        response = raw_http(mock, "POST", path, headers, body)
        assert response.status == 400, body[:40]
        assert _json(response)["error_code"] == "MSS.10000002"


def test_a_chunked_body_is_served_like_any_other(mock: RunningMock) -> None:
    path = f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs"
    token = [(b"X-Auth-Token", mock.token.encode()), (b"Content-Type", b"application/json")]
    assert raw_http(mock, "POST", path.encode(), token, CREATE, chunked=True).status == 200
    host = mock.url.removeprefix("http://")
    signed = {"Content-Type": "application/json", "Host": host, "X-Project-Id": mock.project_id}
    signed.update(sign_request("POST", path, signed, CREATE, mock.ak, mock.sk))
    headers = [(k.encode(), v.encode()) for k, v in signed.items() if k != "Host"]
    response = raw_http(mock, "POST", path.encode(), headers, CREATE, chunked=True)
    assert response.status == 200, response.body


@pytest.mark.parametrize(
    "suffix", ["/abc/", "//abc", "/./abc", "/../short-jobs/abc", "/abc/.", "/"]
)
def test_no_redirect_a_path_that_is_no_api_is_404(mock: RunningMock, suffix: str) -> None:
    path = f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs{suffix}".encode()
    response = raw_http(mock, "GET", path, [(b"X-Auth-Token", mock.token.encode())])
    assert response.status == 404
    body = _json(response)
    assert body["error_code"] == "APIGW.0101"
    assert body["request_id"] == response.header("x-request-id")


def test_media_types_are_parsed(mock: RunningMock) -> None:
    path = f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs".encode()
    for content_type in [
        b"application/json ; charset=utf-8",
        b"Application/JSON",
        b'application/json;charset="UTF-8"',
    ]:
        headers = [(b"X-Auth-Token", mock.token.encode()), (b"Content-Type", content_type)]
        assert raw_http(mock, "POST", path, headers, CREATE).status == 200, content_type
    for content_type in [b"text/plain", b"application/json garbage", b"application/jsonx"]:
        headers = [(b"X-Auth-Token", mock.token.encode()), (b"Content-Type", content_type)]
        response = raw_http(mock, "POST", path, headers, CREATE)
        assert response.status == 400 and _json(response)["error_code"] == "MSS.10000002", (
            content_type
        )


def test_log_injection_stays_on_one_escaped_line(mock: RunningMock) -> None:
    path = (
        f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs/x%0AFORGED%1B%5B31m".encode()
    )
    with access_lines() as log:
        response = raw_http(mock, "GET", path, [(b"X-Auth-Token", mock.token.encode())])
        assert response.status in (400, 404)
        request_id = response.header("x-request-id")
        assert request_id
        mine = log.about(request_id)
    assert len(mine) == 1
    assert "\n" not in mine[0] and "\x1b" not in mine[0]
    assert "x\\nFORGED\\x1b[31m" in mine[0]


def test_a_header_echoed_in_an_error_is_not_mojibake(mock: RunningMock) -> None:
    path = f"/v1/{mock.project_id}/voice-training-manage/user/short-jobs/x".encode()
    for sent, shown in [
        ("café".encode(), "café"),
        (b"caf\xe9", "caf\\udce9"),
    ]:
        response = raw_http(
            mock, "GET", path, [(b"X-Auth-Token", mock.token.encode()), (b"X-App-UserId", sent)]
        )
        assert response.status == 400
        message = _json(response)["error_msg"]
        assert shown in message and "Ã" not in message, message


def test_a_control_character_in_a_header_is_escaped_in_the_message(app: Frontdoor) -> None:
    """Not valid HTTP (RFC 9110 field values hold no CTL), so only in-process: still escaped."""
    headers = [TOKEN, (b"x-app-userid", b"a\x1bb\r\nX: y")]
    answer = call(app, "GET", f"{BASE}/x".encode(), headers, [b""])
    assert answer.status == 400
    assert "a\\x1bb\\r\\nX: y" in json.loads(answer.body)["error_msg"]


# -- the property, against the live server -------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    with running_mock(Path(tmp_path_factory.mktemp("live")), project_id=PROJECT) as server:
        yield server


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_random_requests_against_the_live_server(live: RunningMock, request: Request) -> None:
    method, target, headers, chunks = request
    framing = (b"content-length", b"transfer-encoding")
    sent = [(name, value) for name, value in headers if name not in framing and name != b"host"]
    chunked = any(name == b"transfer-encoding" for name, _ in headers)
    with access_lines() as log:
        response = raw_http(live, method, target, sent, b"".join(chunks), chunked=chunked)
        response.log_lines = log.about(response.header("x-request-id") or "no request id")
    check_answer(method, target, response)
    assert raw_http(live, "GET", b"/", []).status == 200  # healthy afterwards
