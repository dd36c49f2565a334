"""The control plane and the dashboard refuse cross-site requests and foreign Host names with a
403 in the service's shape; the API is not affected (issue 19, item 5)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import plain_http
import pytest
from browser import Chromium, parse
from helpers import collection, create, item, token_client
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_server.control.guard import cross_site_problem
from mock_server.pytest_plugin import MockHandle

SERVED = "127.0.0.1"
HOST = "127.0.0.1:8000"
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
_origins = st.one_of(
    st.sampled_from(
        [
            "http://127.0.0.1:8000",
            "http://localhost:8000",
            "http://127.0.0.1:8001",
            "https://127.0.0.1:8000",
            "null",
            "http://evil.example",
            "http://127.0.0.1:8000.evil.example",
        ]
    ),
    st.text(st.characters(codec="latin-1"), max_size=20),
)
_hosts = st.one_of(
    st.sampled_from(
        [
            HOST,
            "localhost:8000",
            "LOCALHOST",
            "app.localhost:8000",
            "[::1]:8000",
            "127.0.0.2",
            "10.0.0.7:8000",
            "evil.example:8000",
            "127.0.0.1.nip.io:8000",
            "localhost.evil.example",
            "[::1",
            "127.0.0.1:x",
        ]
    ),
    st.text(st.characters(codec="latin-1"), max_size=20),
)
_content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "",
    ]
)
_sites = st.sampled_from([None, "same-origin", "none", "same-site", "cross-site", "garbage"])


def _headers(**values: str | None) -> list[tuple[bytes, bytes]]:
    return [
        (name.replace("_", "-").encode(), value.encode("latin-1"))
        for name, value in values.items()
        if value is not None
    ]


@settings(max_examples=500)
@given(
    method=st.sampled_from(METHODS),
    host=_hosts,
    origin=st.one_of(st.none(), _origins),
    site=_sites,
    mode=st.sampled_from([None, "navigate", "cors", "no-cors"]),
    content_type=_content_types,
)
@example("POST", HOST, None, None, None, "text/plain")  # the simple POST /_mock/reset
@example("GET", "evil.example:8000", None, None, None, None)  # DNS rebinding
def test_the_guard_admits_exactly_same_origin_calls_to_this_address(
    method: str,
    host: str,
    origin: str | None,
    site: str | None,
    mode: str | None,
    content_type: str | None,
) -> None:
    headers = _headers(
        host=host,
        origin=origin,
        sec_fetch_site=site,
        sec_fetch_mode=mode,
        content_type=content_type,
    )
    problem = cross_site_problem(method, headers, SERVED)
    name = host.strip().lower().rsplit(":", 1)[0] if not host.startswith("[") else host
    host_ok = name in ("127.0.0.1", "localhost", "app.localhost") or host.startswith("[::1]:")
    origin_ok = origin is None or origin.lower() == f"http://{host}".lower()
    navigation = method in ("GET", "HEAD") and mode == "navigate"
    site_ok = site in (None, "same-origin", "none") or navigation
    type_ok = method in ("GET", "HEAD") or (
        content_type is not None
        and content_type.lower().startswith("application/json")
        and not content_type.lower().startswith("application/jsonx")
    )
    if host in ("127.0.0.2", "LOCALHOST"):
        host_ok = True  # loopback, and names are case-insensitive
    if host in ("[::1", "127.0.0.1:x"):
        host_ok = False
    if not (host_ok and origin_ok and site_ok and type_ok):
        assert problem is not None
    elif host in (HOST, "localhost:8000", "[::1]:8000", "127.0.0.2", "app.localhost:8000"):
        assert problem is None


@given(
    name=st.sampled_from(["127.0.0.1", "localhost", "[::1]", "LOCALHOST"]),
    port=st.one_of(
        st.integers(0, 10**25).map(str),
        st.text(st.characters(codec="latin-1", exclude_characters=",\r\n"), max_size=8),
    ),
)
@example(name="[::1]", port="x")  # a bracketed address's port was not checked
@example(name="127.0.0.1", port="99999999999999999999")  # nor a port's range
@example(name="127.0.0.1", port="\x0c")  # str.strip() took a form feed for whitespace
def test_a_host_is_admitted_only_with_a_port_a_socket_can_have(name: str, port: str) -> None:
    problem = cross_site_problem("GET", _headers(host=f"{name}:{port}"), SERVED)
    shown = port.rstrip(" \t")  # a field value's trailing OWS is not part of it (RFC 9110, 5.5)
    valid = shown == "" or (shown.isascii() and shown.isdigit() and int(shown) <= 65535)
    assert (problem is None) == valid, (name, port, problem)


def test_a_cross_site_simple_post_does_not_reset(short_jobs_mock: MockHandle) -> None:
    server = short_jobs_mock.server
    with token_client(server) as client:
        job = create(client, server)
        response = plain_http.post(
            f"{server.url}/_mock/reset",
            content=b"x",
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        )
        assert response.status_code == 403
        assert response.json()["error_code"] == "MOCK.00000403"
        assert "cross-site" in response.json()["error_msg"]
        assert client.get(item(server, job["job_id"])).status_code == 200


@pytest.mark.parametrize("path", ["/_mock/requests", "/_mock/ui/", "/_mock/faults"])
def test_a_foreign_host_name_is_refused(short_jobs_mock: MockHandle, path: str) -> None:
    response = plain_http.get(short_jobs_mock.url + path, headers={"Host": "rebound.example"})
    assert response.status_code == 403
    assert response.json()["error_code"] == "MOCK.00000403"
    assert "DNS-rebinding" in response.json()["error_msg"]
    port = short_jobs_mock.url.rsplit(":", 1)[1]
    local = plain_http.get(short_jobs_mock.url + path, headers={"Host": f"localhost:{port}"})
    assert local.status_code == 200


def test_a_post_without_a_json_content_type_is_refused(short_jobs_mock: MockHandle) -> None:
    response = plain_http.post(f"{short_jobs_mock.url}/_mock/reset")
    assert response.status_code == 403
    assert "Content-Type: application/json" in response.json()["error_msg"]
    ok = plain_http.post(
        f"{short_jobs_mock.url}/_mock/reset", headers={"Content-Type": "application/json"}
    )
    assert ok.status_code == 200


def test_the_api_answers_whatever_origin_or_host(short_jobs_mock: MockHandle) -> None:
    server = short_jobs_mock.server
    with token_client(server) as client:
        response = client.post(
            collection(server),
            json={"job_type": "VOICE_ASSESS"},
            headers={
                "Origin": "http://evil.example",
                "Host": "api.example",
                "Sec-Fetch-Site": "cross-site",
            },
        )
    assert response.status_code == 200


@pytest.fixture
def attacker_site(tmp_path: Path) -> Iterator[str]:
    """Another origin (a second port on localhost) serving whatever `tmp_path` holds."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_page_on_another_origin_cannot_reset_the_mock_from_a_browser(
    short_jobs_mock: MockHandle, chromium: Chromium, attacker_site: str, tmp_path: Path
) -> None:
    server = short_jobs_mock.server
    with token_client(server) as client:
        job = create(client, server)
    (tmp_path / "attack.html").write_text(
        f"""<!DOCTYPE html><html><body>
<form id="f" method="post" action="{server.url}/_mock/reset" enctype="text/plain">
<input name="x" value="y"></form>
<script>fetch("{server.url}/_mock/reset", {{method: "POST", mode: "no-cors", body: "x"}});
document.getElementById("f").submit();</script></body></html>"""
    )
    chromium.dump_dom(f"{attacker_site}/attack.html")
    refused = short_jobs_mock.requests()
    with token_client(server) as client:
        assert client.get(item(server, job["job_id"])).status_code == 200, refused
    # the dashboard's own filter form still works from the browser
    page = parse(chromium.dump_dom(f"{server.url}/_mock/ui/?refresh=0&job_id={job['job_id']}"))
    assert job["job_id"] in page.text
