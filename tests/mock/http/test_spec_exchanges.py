"""The specs declare every answer the mock gives (issue 21, item 5): the checker the whole suite
runs under (spec_exchanges.py) flags an undeclared one, and the control plane's refusals of bad
input are declared."""

from __future__ import annotations

import copy
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import plain_http
import pytest
import recording_proxy
from helpers import StubServer, free_ports, mock_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recording_proxy import Exchange, exchange_problems
from spec_exchanges import VIOLATIONS, SpecOperations, the_specs

from mock_server.core.config import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK, DEFAULT_TOKEN
from mock_server.core.spec import control_document, iam_spec_document, spec_document
from mock_server.pytest_plugin import MockHandle
from short_jobs.signing import sign_request

CONTROL = SpecOperations(control_document(), "/_mock")
JSON = {"Content-Type": "application/json"}
JOB = "/v1/{project_id}/voice-training-manage/user/short-jobs/{job_id}"


def test_an_undeclared_status_a_wrong_media_type_or_a_wrong_body_is_flagged() -> None:
    ok = b'{"mode": "timed"}'
    assert CONTROL.problem("GET", "/_mock/progress", 200, "application/json", ok) is None
    assert "not declared" in (
        CONTROL.problem("GET", "/_mock/progress", 418, "application/json", ok) or ""
    )
    assert "declared: application/json" in (
        CONTROL.problem("GET", "/_mock/progress", 200, "text/html", ok) or ""
    )
    assert "schema" in (
        CONTROL.problem("GET", "/_mock/progress", 200, "application/json", b"{}") or ""
    )
    assert CONTROL.problem("GET", "/elsewhere", 418, None, b"") is None  # no operation of it


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_mock/requests?limit=0", None),
        ("GET", "/_mock/requests?status=many", None),
        ("GET", "/_mock/requests?unknown=1", None),
        ("POST", "/_mock/faults", b'{"status": 700}'),
        ("POST", "/_mock/faults", b'{"times": 1}'),
        ("POST", "/_mock/faults", b"[1"),
        ("PUT", "/_mock/progress", b'{"mode": "sometimes"}'),
        ("PUT", "/_mock/progress", b"{}"),
        ("POST", "/_mock/reset", None),  # no JSON content type: 403
    ],
)
def test_the_control_planes_refusals_are_declared(
    short_jobs_mock: MockHandle, method: str, path: str, body: bytes | None
) -> None:
    headers = JSON if body is not None else {}
    response = plain_http.request(method, short_jobs_mock.url + path, content=body, headers=headers)
    assert response.status_code in (400, 403), response.text
    found = list(VIOLATIONS)
    VIOLATIONS.clear()
    assert found == []


# -- out-of-process mocks: the recording proxy (tests/recording_proxy.py) ----------------------


def _without_answer(document: dict[str, Any], path: str, method: str, status: str) -> Any:
    changed = copy.deepcopy(document)
    del changed["paths"][path][method]["responses"][status]
    return changed


def _signed_get(base: str, path: str) -> httpx.Response:
    headers = {"Host": urlsplit(base).netloc}
    headers.update(sign_request("GET", path, headers, b"", DEFAULT_AK, DEFAULT_SK))
    return plain_http.get(base + path, headers=headers, timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["api", "control", "iam"])
def test_an_out_of_process_mocks_undeclared_answer_fails_its_block(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spec: str
) -> None:
    """The same real answers, checked against a spec that does not declare one of them: the
    `mock_process` block fails as it ends, naming it; against the real specs it passes."""
    api, control, iam = the_specs()
    if spec == "api":
        missing = "show_short_job (GET /v1/"
        document = _without_answer(spec_document(), JOB, "get", "400")
        api = SpecOperations(document)
    elif spec == "control":
        missing = "get_progress (GET /_mock/progress) answered 200"
        control = SpecOperations(
            _without_answer(control_document(), "/progress", "get", "200"), "/_mock"
        )
    else:
        missing = "keystone_list_regions (GET /v3/regions) answered 200"
        iam = SpecOperations(_without_answer(iam_spec_document(), "/v3/regions", "get", "200"))

    def exchanges(port: int, iam_port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        job = JOB.replace("{project_id}", DEFAULT_PROJECT_ID).replace("{job_id}", "nope")
        shown = plain_http.get(base + job, headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=30)
        assert shown.status_code == 400
        assert plain_http.get(base + "/_mock/progress", timeout=30).status_code == 200
        assert _signed_get(f"http://127.0.0.1:{iam_port}", "/v3/regions").status_code == 200

    def run(data: str) -> None:
        # IAM's port chosen too: port + 1 may be a closed connection's end still in TIME_WAIT
        port, iam_port = free_ports(2)
        options = ("--control", "--iam-port", str(iam_port), "--data-dir", str(tmp_path / data))
        with mock_process(port, *options):
            exchanges(port, iam_port)

    run("real")  # the real specs declare them all
    monkeypatch.setattr(recording_proxy, "the_specs", lambda: (api, control, iam))
    with pytest.raises(AssertionError, match="answers the specs do not declare") as failed:
        run("changed")
    assert missing in str(failed.value) and "which is not declared" in str(failed.value)


class _Framed(BaseHTTPRequestHandler):
    """Answers `/{status}/{framing}/{size}` with `size` bytes framed as asked (length, chunked,
    or to the close), echoing the request's body length in `X-Got`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        got = len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        _, status, framing, size = self.path.split("?")[0].split("/")
        body = _body(int(size))
        self.send_response(int(status))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("X-Got", str(got))
        if int(status) in (204, 304):
            pass  # no framing at all (RFC 9110, 15.3.5)
        elif framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif framing == "length":
            self.send_header("Content-Length", str(len(body)))
        else:
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD" or int(status) in (204, 304):
            return
        if framing == "chunked":
            for start in range(0, len(body), 7):
                piece = body[start : start + 7]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
        else:
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = _answer


def _body(size: int) -> bytes:
    return bytes((index * 7) % 256 for index in range(size))


EXCHANGES = st.lists(
    st.tuples(
        st.sampled_from(["GET", "POST", "PUT", "HEAD"]),
        st.sampled_from([200, 201, 204, 400, 404, 500]),
        st.sampled_from(["length", "chunked", "close"]),
        st.integers(min_value=0, max_value=3000),
        st.binary(max_size=2000),
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture(scope="module")
def framed() -> Iterator[int]:
    server = StubServer(("127.0.0.1", 0), _Framed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exchanges=EXCHANGES)
def test_the_proxy_forwards_every_answer_and_records_it_as_framed(
    framed: int, exchanges: list[tuple[str, int, str, int, bytes]]
) -> None:
    """Over one keep-alive connection (a new one after an answer framed by the close), each
    answer reaches the client whole and is recorded with its request, de-chunked."""
    (port,) = free_ports(1, avoid=(framed,))
    with recording_proxy.recording(port, framed, "api") as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        expected = []
        for method, status, framing, size, sent in exchanges:
            target = f"/{status}/{framing}/{size}?q=%2F"
            connection.request(method, target, body=sent or None)
            response = connection.getresponse()
            body = response.read()
            has_body = method != "HEAD" and status not in (204, 304)
            assert response.status == status
            assert body == (_body(size) if has_body else b"")
            assert int(response.headers["X-Got"]) == len(sent)
            expected.append((method, target, status, body))
            if framing == "close" or response.will_close:
                connection.close()
        connection.close()
        recorded = [
            (e.method, e.target, e.status, e.body)
            for e in sorted(proxy.exchanges, key=lambda e: e.sequence)
        ]
    assert recorded == expected
    assert proxy.unparsed == 0


def test_a_faults_answers_are_left_out_until_cleared() -> None:
    def exchange(method: str, target: str, status: int, sequence: int) -> Exchange:
        body = b'{"error_code": "X", "error_msg": "y"}'
        return Exchange("api", method, target, status, "application/json", body, sequence)

    progress = exchange("GET", "/_mock/progress", 418, 0)  # 418: declared nowhere
    armed = exchange("POST", "/_mock/faults", 201, 1)
    cleared = exchange("DELETE", "/_mock/faults", 204, 3)
    reset = exchange("POST", "/_mock/reset", 200, 3)
    during = exchange("GET", "/_mock/progress", 418, 2)
    after = exchange("GET", "/_mock/progress", 418, 4)
    assert len(exchange_problems([progress], control=True)) == 1
    assert exchange_problems([progress], control=False) == []  # no control plane: no operation
    assert exchange_problems([armed, during], control=True) == []
    for clearing in (cleared, reset):
        problems = exchange_problems([armed, during, clearing, after], control=True)
        assert [p for p in problems if "answered 418" in p] == [problems[-1]]
