"""Hypothesis strategies for the front door: random valid HTTP requests near the API and far.

A request is `(method, raw target, header pairs, body chunks)`: the target as sent on the wire
(percent-encoded, so always ASCII), header values as bytes (RFC 9110 field values: visible
ASCII, space, tab and obs-text, so UTF-8 and Latin-1 both occur), the body as the messages a
server hands the app (several when it came chunked).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.obs.area import BUCKET
from short_jobs.signing import sign_request

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
BASE = f"/v1/{PROJECT}/voice-training-manage/user/short-jobs"
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE")
Request = tuple[str, bytes, list[tuple[bytes, bytes]], list[bytes]]

_segment_text = st.text(
    st.characters(codec="utf-8", exclude_characters="/"), min_size=0, max_size=12
)
_segment = st.one_of(
    st.sampled_from(["", ".", "..", "abc", "x", "short-jobs", "v1", PROJECT, "%2F", "%00", "%zz"]),
    _segment_text.map(lambda text: quote(text, safe="")),
    st.from_regex(r"[A-Za-z0-9._~-]{1,10}", fullmatch=True),
)


@st.composite
def _path(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["collection", "item", "near", "far", "upload", "root"]))
    if kind == "collection":
        path = BASE
    elif kind == "item":
        path = f"{BASE}/{draw(_segment) or 'job'}"
    elif kind == "near":
        parts = BASE.split("/")
        position = draw(st.integers(1, len(parts)))
        path = "/".join([*parts[:position], *draw(st.lists(_segment, max_size=3))])
    elif kind == "upload":
        path = f"/{BUCKET}/{PROJECT}/{draw(_segment)}/recordings.zip"
    elif kind == "root":
        path = "/"
    else:
        path = "/" + "/".join(draw(st.lists(_segment, max_size=4)))
    mutation = draw(st.sampled_from(["none", "none", "trailing", "double", "dot", "dotdot"]))
    if mutation == "trailing":
        path += "/"
    elif mutation == "double":
        path = path.replace("/", "//", 1)
    elif mutation == "dot":
        path = path.replace("/", "/./", 1)
    elif mutation == "dotdot":
        path += "/../x"
    return path or "/"


_field_value = st.binary(max_size=40).map(
    lambda raw: bytes(b for b in raw if b in b"\t" or 0x20 <= b != 0x7F).strip(b" \t")
) | st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20).map(
    lambda text: text.strip(" \t").encode()
)

_json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
_body = st.one_of(
    st.just(b""),
    st.just(b'{"job_type": "VOICE_ASSESS"}'),
    st.sampled_from(["CN", "EN", "FR", ""]).map(
        lambda lang: json.dumps({"job_type": "VOICE_ASSESS", "language": lang}).encode()
    ),
    _json_like.map(lambda doc: json.dumps(doc).encode()),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 600).map(
        lambda n: b'{"job_type":"VOICE_ASSESS","n":' + b"[" * n + b"]" * n + b"}"
    ),
    st.integers(300, 6000).map(lambda n: b'{"job_type":"VOICE_ASSESS","n":' + b"9" * n + b"}"),
    st.sampled_from([b"NaN", b"[Infinity]", b'"\\ud800"', b'{"a":1,"a":2}', b"\xef\xbb\xbf{}"]),
    st.binary(max_size=64),
    st.text(max_size=30).map(str.encode),
)
_content_type = st.sampled_from(
    [
        None,
        "application/json",
        "application/json ; charset=utf-8",
        'APPLICATION/JSON;charset="utf-8"',
        "application/json;",
        "application/zip",
        "text/plain",
        "application/json garbage",
        "json",
        "",
        "application/problem+json",
    ]
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """A random, valid HTTP request to the mock (see the module docstring)."""
    settings = Settings()
    method = draw(st.sampled_from(METHODS))
    path = draw(_path())
    query = draw(st.sampled_from(["", "", "", "a=1", "unexpected=%00", "x=%E2%9C%93&x="]))
    target = path + ("?" + query if query else "")
    body = draw(_body)
    headers: list[tuple[bytes, bytes]] = []
    content_type = draw(_content_type)
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(
            st.sampled_from(
                [b"x-app-userid", b"x-project-id", b"x-sdk-date", b"x-anything", b"accept"]
            )
        )
        headers.append((name, draw(_field_value)))
    auth = draw(st.sampled_from(["token", "token", "aksk", "aksk", "none", "bad-token", "garbage"]))
    if auth == "token":
        headers.append((b"x-auth-token", settings.token.encode()))
    elif auth == "bad-token":
        headers.append((b"x-auth-token", draw(_field_value)))
    elif auth == "garbage":
        headers.append((b"authorization", b"SDK-HMAC-SHA256 " + draw(_field_value)))
        headers.append((b"x-sdk-date", draw(st.sampled_from([b"20261123T120000Z", b"bad"]))))
    elif auth == "aksk":
        to_sign = {"Host": "127.0.0.1:8000", "X-Project-Id": PROJECT}
        if content_type:
            to_sign["Content-Type"] = content_type
        signed = sign_request(method, target, to_sign, body, settings.ak, settings.sk)
        headers = [(k, v) for k, v in headers if k not in (b"content-type", b"x-project-id")]
        for key, text in {**to_sign, **signed}.items():
            headers.append((key.lower().encode(), text.encode()))
    chunked = draw(st.booleans())
    if chunked and body:
        cut = draw(st.integers(0, len(body)))
        chunks = [body[:cut], body[cut:]]
        headers.append((b"transfer-encoding", b"chunked"))
    else:
        chunks = [body]
        headers.append((b"content-length", str(len(body)).encode()))
    return method, target.encode(), headers, chunks
