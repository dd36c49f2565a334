"""Signature forensics: a refused signature leaves a `signature_check`, never a secret.

Example tests talk to the live mock over real HTTP (gateway APIGW.0301, the upload URL's
SignatureDoesNotMatch); the property tests drive `short_jobs.signing.verify_request` directly
with every kind of after-signing change (header value, added header, body, path, query, key).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import httpx
import plain_http
import pytest
from helpers import ROOT, collection, create, item, token_client, upload
from hypothesis import given
from hypothesis import strategies as st

from mock_server.faces.fixture import MockHandle
from mock_server.pages.dashboard import DASHBOARD_PATH
from short_jobs.signing import SignatureError, scrub, sign_request, verify_request

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AK, SK = "AKFORENSICS", "sk-forensics-secret"


def signed_call(
    mock: MockHandle,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    sk: str | None = None,
    after: dict[str, str] | None = None,
    send_body: bytes | None = None,
    send_path: str | None = None,
) -> httpx.Response:
    """Sign (method, path, headers, body) with the mock's AK, then apply `after` (headers changed
    after signing), `send_body` and `send_path` (what goes on the wire instead)."""
    host = urlsplit(mock.url).netloc
    sent = {"Host": host, "Content-Type": "application/json", **(headers or {})}
    sent.update(sign_request(method, path, sent, body, mock.ak, sk or mock.sk))
    sent.update(after or {})
    with plain_http.client(base_url=mock.url, timeout=30) as client:
        content = body if send_body is None else send_body
        target = mock.url + (send_path or path)
        request = client.build_request(method, target, headers=sent, content=content)
        assert request.url.raw_path == (send_path or path).encode()  # sent as signed/meant
        return client.send(request)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "APIGW.0301"
    assert "signature_check" not in response.text  # the client's answer stays the service's


def assert_no_secret(mock: MockHandle, *secrets: str) -> None:
    journal = json.dumps(mock.requests())
    for secret in (mock.sk, *secrets):
        assert secret not in journal


def test_a_wrong_sk_leaves_a_check_with_no_header_difference(
    short_jobs_mock: MockHandle,
) -> None:
    path = item(short_jobs_mock.server, "job-x")
    assert_refused(signed_call(short_jobs_mock, "GET", path, sk="not-the-sk"))
    check = short_jobs_mock.last_signature_check()
    assert check is not None
    assert check["access_key"] == short_jobs_mock.ak
    assert check["canonical_request"].startswith(f"GET\n{path}/\n")
    assert check["string_to_sign"].startswith("SDK-HMAC-SHA256\n")
    assert check["signed_headers"] == ["content-type", "host", "x-sdk-date"]
    assert check["missing_headers"] == []
    # httpx adds Accept & co. after signing, unsigned (as the SDK's requests does): they differ
    assert "accept" in check["unsigned_headers"]
    assert check["first_difference"]["line"] == 4
    assert_no_secret(short_jobs_mock, "not-the-sk")


def test_a_header_changed_after_signing_shows_in_the_canonical_request(
    short_jobs_mock: MockHandle,
) -> None:
    path = item(short_jobs_mock.server, "job-x")
    response = signed_call(
        short_jobs_mock,
        "GET",
        path,
        headers={"X-Project-Id": short_jobs_mock.project_id},
        after={"Content-Type": "application/json;charset=utf-8"},
    )
    assert_refused(response)
    check = short_jobs_mock.last_signature_check()
    assert check is not None
    assert "content-type:application/json;charset=utf-8" in check["canonical_request"].split("\n")
    assert "content-type" in check["signed_headers"]


def test_a_body_changed_after_signing_shows_in_the_payload_hash(
    short_jobs_mock: MockHandle,
) -> None:
    path = collection(short_jobs_mock.server)
    signed, sent = b'{"job_type":"VOICE_ASSESS"}', b'{"job_type":"VOICE_ASSESS" }'
    response = signed_call(short_jobs_mock, "POST", path, body=signed, send_body=sent)
    assert_refused(response)
    check = short_jobs_mock.last_signature_check()
    assert check is not None
    assert check["payload_hash"] == hashlib.sha256(sent).hexdigest()
    assert check["canonical_request"].endswith(hashlib.sha256(sent).hexdigest())


def test_a_path_with_an_encoded_character_shows_the_canonical_uri(
    short_jobs_mock: MockHandle,
) -> None:
    base = collection(short_jobs_mock.server)
    # signed as "a b" but a signer that forgot to encode sends the literal %25 escape differently
    response = signed_call(short_jobs_mock, "GET", f"{base}/a%20b", send_path=f"{base}/a%2520b")
    assert_refused(response)
    check = short_jobs_mock.last_signature_check()
    assert check is not None
    assert check["canonical_request"].split("\n")[1] == f"{base}/a%2520b/"


def test_a_correctly_signed_encoded_path_passes_the_gateway(short_jobs_mock: MockHandle) -> None:
    base = collection(short_jobs_mock.server)
    response = signed_call(short_jobs_mock, "GET", f"{base}/a%20b")
    assert response.status_code != 401, response.text
    assert short_jobs_mock.requests()[-1]["signature_check"] is None


def test_the_upload_url_with_a_changed_content_type(
    short_jobs_mock: MockHandle, recordings: Path
) -> None:
    with token_client(short_jobs_mock.server) as client:
        job = create(client, short_jobs_mock.server)
    response = upload(job["data_uploading_url"], recordings, "application/octet-stream")
    assert response.status_code == 403 and "SignatureDoesNotMatch" in response.text
    assert "signature_check" not in response.text
    check = short_jobs_mock.last_signature_check()
    assert check is not None
    assert check["first_difference"] == {
        "line": 3,
        "mock": "application/octet-stream",
        "rebuilt": "application/zip",
    }
    assert_no_secret(short_jobs_mock)


def test_the_debug_log_carries_the_check(
    short_jobs_mock: MockHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="mock_server.signature")
    path = item(short_jobs_mock.server, "job-x")
    assert_refused(signed_call(short_jobs_mock, "GET", path, sk="wrong-key-in-log"))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "mock_server.signature")
    assert "string_to_sign" in logged
    assert short_jobs_mock.sk not in logged and "wrong-key-in-log" not in logged


# --- the family, without a server --------------------------------------------------------------

_names = st.text(string.ascii_lowercase + "-", min_size=1, max_size=12).filter(
    lambda name: name not in {"host", "authorization", "x-sdk-date", "content-type"}
)
_values = (
    st.text(string.ascii_letters + string.digits + " -;=/", min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)


def _request(extra: dict[str, str]) -> tuple[dict[str, str], bytes]:
    headers = {"Host": "mock.test", "Content-Type": "application/json", **extra}
    body = b'{"a":1}'
    headers.update(sign_request("POST", "/v1/p/jobs", headers, body, AK, SK, now=NOW))
    return headers, body


def _refusal(headers: dict[str, str], body: bytes, path: str = "/v1/p/jobs") -> dict[str, Any]:
    with pytest.raises(SignatureError) as refused:
        verify_request("POST", path, "", headers, body, {AK: SK}.get, NOW)
    assert refused.value.check is not None
    assert SK not in json.dumps(refused.value.check)
    return refused.value.check


@given(name=_names, value=_values, new=_values)
def test_any_signed_header_changed_leaves_its_new_value(name: str, value: str, new: str) -> None:
    headers, body = _request({name: value})
    if new == value:
        return
    headers[name] = new
    check = _refusal(headers, body)
    assert f"{name}:{new}" in check["canonical_request"].split("\n")
    assert check["first_difference"] is None


@given(name=_names, value=_values)
def test_any_header_added_to_a_refused_request_is_named_unsigned(name: str, value: str) -> None:
    headers, body = _request({})
    headers[name] = value  # not refused for this alone (unsigned headers may be added)...
    check = _refusal(headers, body + b" ")  # ...but named when something else is refused
    assert check["unsigned_headers"] == [name]
    assert check["first_difference"] is not None
    assert check["first_difference"]["line"] >= 4


@given(body=st.binary(min_size=1, max_size=64))
def test_any_body_changed_leaves_its_hash(body: bytes) -> None:
    headers, signed = _request({})
    if body == signed:
        return
    check = _refusal(headers, body)
    assert check["payload_hash"] == hashlib.sha256(body).hexdigest()


@given(segment=st.text(min_size=1, max_size=10).filter(lambda s: "/" not in s))
def test_any_path_changed_shows_on_line_two(segment: str) -> None:
    headers, body = _request({})
    path = f"/v1/p/{quote(segment, safe='')}"
    if path == "/v1/p/jobs":
        return
    check = _refusal(headers, body, path)
    assert check["canonical_request"].split("\n")[1].startswith("/v1/p/")


@given(
    secret=st.text(min_size=1, max_size=16).filter(lambda s: "*" not in s),
    around=st.text(max_size=16),
)
def test_scrub_removes_every_secret_everywhere(secret: str, around: str) -> None:
    record = {"a": [f"{around}{secret}{around}", {"b": secret}], "n": 1, "none": None}
    cleaned = scrub(record, [secret, None])
    assert isinstance(cleaned, dict)
    assert secret not in cleaned["a"][0] and cleaned["a"][1] == {"b": "***"}
    assert cleaned["n"] == 1 and cleaned["none"] is None


def test_the_dashboard_row_shows_the_check(short_jobs_mock: MockHandle) -> None:
    path = item(short_jobs_mock.server, "job-x")
    assert_refused(signed_call(short_jobs_mock, "GET", path, sk="wrong-key-on-page"))
    page = plain_http.get(short_jobs_mock.url + DASHBOARD_PATH, timeout=30).text
    assert 'class="signature-check"' in page and "string_to_sign" in page
    assert short_jobs_mock.sk not in page and "wrong-key-on-page" not in page


# --- every refused kind, on every surface ------------------------------------------------------
# A refused signature of each kind the issue names (and the upload URL's other refusals): the
# journal entry, the dashboard's row and the debug log carry the same `signature_check`; the
# client's answer has exactly the fields of the service's (or OBS') answer for another refusal;
# no surface holds the SK, nor the wrong SK a client signed with.

WRONG_SK = "a-wrong-sk-for-every-surface"


def _api_wrong_sk(m: MockHandle, recordings: Path) -> httpx.Response:
    return signed_call(m, "GET", item(m.server, "job-x"), sk=WRONG_SK)


def _api_header_changed(m: MockHandle, recordings: Path) -> httpx.Response:
    after = {"Content-Type": "application/json;charset=utf-8"}
    return signed_call(m, "GET", item(m.server, "job-x"), after=after)


def _api_body_changed(m: MockHandle, recordings: Path) -> httpx.Response:
    signed, sent = b'{"job_type":"VOICE_ASSESS"}', b'{"job_type": "VOICE_ASSESS"}'
    return signed_call(m, "POST", collection(m.server), body=signed, send_body=sent)


def _api_encoded_path(m: MockHandle, recordings: Path) -> httpx.Response:
    base = collection(m.server)
    return signed_call(m, "GET", f"{base}/a%20b", send_path=f"{base}/a%2520b")


def _iam_wrong_sk(m: MockHandle, recordings: Path) -> httpx.Response:
    headers = {"Host": urlsplit(m.iam_url).netloc}
    headers.update(sign_request("GET", "/v3/regions", headers, b"", m.ak, WRONG_SK))
    return plain_http.get(m.iam_url + "/v3/regions", headers=headers, timeout=30)


def _upload_url(m: MockHandle) -> str:
    with token_client(m.server) as client:
        return create(client, m.server)["data_uploading_url"]


def _upload_content_type(m: MockHandle, recordings: Path) -> httpx.Response:
    return upload(_upload_url(m), recordings, "application/octet-stream")


def _upload_sub_resource(m: MockHandle, recordings: Path) -> httpx.Response:
    return upload(_upload_url(m) + "&uploadId=abc&partNumber=1", recordings)


def _upload_signature_changed(m: MockHandle, recordings: Path) -> httpx.Response:
    url = _upload_url(m)
    return upload(url.replace("Signature=", "Signature=A"), recordings)


REFUSALS = {
    "api-wrong-sk": _api_wrong_sk,
    "api-header-changed": _api_header_changed,
    "api-body-changed": _api_body_changed,
    "api-encoded-path": _api_encoded_path,
    "iam-wrong-sk": _iam_wrong_sk,
    "upload-content-type": _upload_content_type,
    "upload-sub-resource": _upload_sub_resource,
    "upload-signature-changed": _upload_signature_changed,
}
_ROW_CHECK = re.compile(
    r'<details class="signature-check"><summary>signature_check</summary>'
    r'<pre class="mono">(.*?)</pre>',
    re.S,
)


def _fields(response: httpx.Response) -> list[str]:
    """The names the client's answer carries: JSON keys (IAM's nested ones too), or the OBS
    XML's elements."""
    if response.headers["content-type"].startswith("application/xml"):
        return [element.tag for element in ElementTree.fromstring(response.text)]
    document = response.json()
    nested = [f"{k}.{n}" for k, v in document.items() if isinstance(v, dict) for n in v]
    return sorted([*document, *nested])


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_every_refused_kind_leaves_the_same_check_on_every_surface(
    short_jobs_mock: MockHandle,
    recordings: Path,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    m = short_jobs_mock
    caplog.set_level("DEBUG", logger="mock_server.signature")
    upload_url = kind.startswith("upload")
    # what the service answers to a refusal with no signature to check: no Signature, a bad token
    if upload_url:
        other = plain_http.put(_upload_url(m).split("&Signature=")[0], content=b"")
    elif kind.startswith("iam"):
        other = plain_http.get(m.iam_url + "/v3/regions", headers={"X-Auth-Token": "bad"})
    else:
        other = plain_http.get(m.url + item(m.server, "job-x"), headers={"X-Auth-Token": "bad"})
    assert other.status_code == (403 if upload_url else 401), other.text
    assert m.last_signature_check() is None

    response = REFUSALS[kind](m, recordings)
    assert response.status_code == other.status_code, response.text
    assert _fields(response) == _fields(other)  # no extra field
    assert "signature_check" not in response.text and "canonical_request" not in response.text

    request_id = response.headers["X-Request-Id"]
    entry = next(e for e in m.requests() if e["request_id"] == request_id)
    check = entry["signature_check"]
    assert check is not None and check == m.last_signature_check()
    assert check["string_to_sign"]

    page = plain_http.get(m.url + DASHBOARD_PATH, timeout=30).text
    rows = [json.loads(html.unescape(found)) for found in _ROW_CHECK.findall(page)]
    assert check in rows

    logged = [
        json.loads(record.getMessage().split(": ", 1)[1])
        for record in caplog.records
        if record.name == "mock_server.signature"
    ]
    assert logged == [check]

    surfaces = [response.text, json.dumps(m.requests()), page, caplog.text]
    for secret in (m.sk, WRONG_SK):
        assert not any(secret in surface for surface in surfaces), secret


def _masked(canonical: str) -> list[str]:
    """A canonical request's lines, the host and the date (of this run) masked."""
    return [
        re.sub(r"^(host|x-sdk-date):.*", r"\1:*", line) for line in canonical.strip().split("\n")
    ]


def test_the_worked_example_prints_what_the_docs_show(
    short_jobs_mock: MockHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/mock.md, "Debugging your signer": the example (run as written, its test function
    called here) prints the canonical request the page shows, but for the host and the date."""
    page = (ROOT / "docs" / "mock.md").read_text("utf-8")
    section = page.split("### Worked example: the body changed after signing", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    shown = section.split("prints (what the mock signed):\n\n```\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/mock.md", "exec"), namespace)  # the docs' own code
    namespace["test_my_signer"](short_jobs_mock)
    printed = capsys.readouterr().out
    assert _masked(printed) == _masked(shown)
    assert short_jobs_mock.project_id in printed  # the page shows the default project
