"""The pipeline's rules, each tested where it lives: the route table, media types, RFC 8259
JSON, escaping, `authenticate` (with any credentials source), and the one private connexion hook."""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from asgi import call
from front_door_strategies import BASE, PROJECT
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_server.app import Frontdoor, create_app
from mock_server.core.body import MAX_DEPTH, parse_json
from mock_server.core.config import Settings
from mock_server.core.errors import ApiError, Codes
from mock_server.core.media import MediaTypeError, is_json, parse_media_type
from mock_server.core.spec import control_document, spec_document
from mock_server.core.text import escape
from mock_server.http import factory as app_module
from mock_server.http.gateway import GatewayRequest, authenticate
from mock_server.http.routing import RouteTable
from mock_server.http.validation import check_json_body, check_parameter
from mock_server.iam.credentials import ConfiguredCredentials, Credentials
from short_jobs.signing import sign_request

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = Settings(project_id=PROJECT)
CREDENTIALS = ConfiguredCredentials.from_settings(SETTINGS)

TOKEN = (b"x-auth-token", SETTINGS.token.encode())


def _raised(function: Callable[..., Any], *args: Any) -> ApiError | None:
    """The ApiError `function` raised, or None; anything else propagates (and fails)."""
    try:
        function(*args)
    except ApiError as error:
        return error
    return None


# -- the route table -----------------------------------------------------------------------------


def test_the_route_table_places_exactly_the_specs_method_and_path() -> None:
    table = RouteTable.from_specs(spec_document(), None)
    assert table.operations() == {"create_short_job", "commit_short_job", "show_short_job"}
    show = table.match("GET", f"{BASE}/abc")
    assert show is not None and show.operation_id == "show_short_job"
    assert dict(show.path_params) == {"project_id": PROJECT, "job_id": "abc"}
    for method, path in [
        ("GET", f"{BASE}/abc/"),
        ("GET", f"{BASE}//abc"),
        ("GET", f"{BASE}/."),
        ("GET", f"{BASE}/.."),
        ("GET", f"{BASE}/a\nb"),
        ("GET", f"{BASE}/./abc"),
        ("DELETE", f"{BASE}/abc"),
        ("GET", BASE),
        ("get", f"{BASE}/abc"),
        ("GET", "/_mock/requests"),
    ]:
        assert table.match(method, path) is None, (method, path)
    with_control = RouteTable.from_specs(spec_document(), control_document())
    control = with_control.match("GET", "/_mock/requests")
    assert control is not None and control.control


_TABLE = RouteTable.from_specs(
    spec_document(), control_document(), ["/openapi.json", "/openapi.yaml", "/ui/", "/_mock/ui/"]
)
_PIECES = st.sampled_from(
    [BASE, f"{BASE}/abc", "/_mock/requests", "/_mock/jobs", "/_mock/ui/", "/ui/", "/openapi.json"]
    + [f"/_mock/jobs/{n}" for n in ("abc", "x/state", "x/outcome")]
)


@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "get"]),
    path=st.one_of(
        _PIECES,
        st.tuples(_PIECES, st.sampled_from(["", "/", "//", "/abc", "/.", "x"])).map("".join),
        st.text(st.sampled_from("/_mockuiv1abc.{}"), max_size=30),
    ),
)
@settings(max_examples=300)
def test_the_route_table_answers_as_the_first_matching_entry(method: str, path: str) -> None:
    """Literal paths are looked up in a dict; any path still gets what matching every entry in
    order (the spec's order, pages first) would give."""
    first = next((e for e in _TABLE._all if e.method == method and e.pattern.fullmatch(path)), None)
    placed = _TABLE.match(method, path)
    if first is None:
        assert placed is None
    else:
        found = first.pattern.fullmatch(path)
        assert found is not None and placed is not None
        assert (placed.operation_id, dict(placed.path_params), placed.control, placed.page) == (
            first.operation_id,
            found.groupdict(),
            first.control,
            first.page,
        )


# -- media types (RFC 9110, 8.3.1) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "application/json ; charset=utf-8",
        'Application/JSON;charset="UTF-8"',
        "application/json;",
        " application/json\t;\tq=1 ",
    ],
)
def test_json_media_types_with_parameters_and_case(value: str) -> None:
    assert is_json(parse_media_type(value))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "json",
        "application/",
        "application/json garbage",
        "application/json; charset",
        'application/json; a="b',
    ],
)
def test_malformed_media_types_are_refused(value: str) -> None:
    with pytest.raises(MediaTypeError):
        parse_media_type(value)


@given(st.text())
def test_media_type_parsing_never_raises_anything_else(value: str) -> None:
    with contextlib.suppress(MediaTypeError):
        parse_media_type(value)


# -- RFC 8259 JSON ---------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_is_json() -> None:
    assert parse_json(b"[" * (MAX_DEPTH - 1) + b"{}" + b"]" * (MAX_DEPTH - 1)) is not None


def test_numbers_of_any_size_are_numbers() -> None:
    document = parse_json(b'{"n": ' + b"1" * 5000 + b', "f": 1e99999}')
    assert document["n"] == Decimal("1" * 5000) and document["f"] == Decimal("1e99999")


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b"[Infinity]",
        b"[-Infinity]",
        b'"\\ud800"',
        b'["\\udc00x"]',
        b'{"a":1,"a":2}',
        b"\xef\xbb\xbf{}",
        b"\xff",
        b'"\xed\xa0\x80"',
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b"[" * 100_000,
        b"",
        b"{'a': 1}",
        b"[1,]",
        b"01",
    ],
)
def test_what_is_not_rfc_8259_json_is_400_mss_10000002(body: bytes) -> None:
    with pytest.raises(ApiError) as raised:
        parse_json(body)
    assert raised.value.code is Codes.BODY_NOT_JSON


@settings(max_examples=200)
@given(st.binary(max_size=200))
@example(b"[" * 3000)
@example(b'{"a":' * 3000)
def test_json_parsing_refuses_or_parses_never_raises_else(body: bytes) -> None:
    error = _raised(parse_json, body)
    assert error is None or error.code is Codes.BODY_NOT_JSON


# -- escaping --------------------------------------------------------------------------------------


@given(st.text())
def test_escaped_text_is_one_printable_line(text: str) -> None:
    escaped = escape(text)
    assert escaped.isprintable() and '"' not in escaped.replace('\\"', "")
    escaped.encode("utf-8")  # no lone surrogate left


# -- authenticate: pure, and only ever 401 --------------------------------------------------------


def _request(
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    path: str = f"{BASE}/x",
    method: str = "GET",
    project: str | None = PROJECT,
) -> GatewayRequest:
    return GatewayRequest(method, path.encode(), b"", headers, body, project)


def _signed(
    path: str = f"{BASE}/x",
    body: bytes = b"",
    ak: str | None = None,
    sk: str | None = None,
    extra: dict[str, str] | None = None,
) -> list[tuple[bytes, bytes]]:
    headers = {"Host": "127.0.0.1:8000", "X-Project-Id": PROJECT, **(extra or {})}
    headers.update(
        sign_request("GET", path, headers, body, ak or SETTINGS.ak, sk or SETTINGS.sk, NOW)
    )
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


def _reason(request: GatewayRequest, credentials: Credentials = CREDENTIALS) -> str | None:
    error = _raised(authenticate, request, credentials, PROJECT, lambda: NOW)
    if error is None:
        return None
    assert error.code is Codes.UNAUTHORIZED
    return error.message


def test_token_and_signature_are_accepted() -> None:
    assert _reason(_request([(b"x-auth-token", SETTINGS.token.encode())])) is None
    assert _reason(_request(_signed())) is None


_header_bytes = st.binary(max_size=60)
_header_names = st.sampled_from(
    [
        b"authorization",
        b"x-auth-token",
        b"x-sdk-date",
        b"x-project-id",
        b"host",
        b"x-security-token",
        b"x-sdk-content-sha256",
        b"content-type",
    ]
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_header_names, _header_bytes), max_size=6), st.binary(max_size=20))
@example(
    [
        (b"authorization", "SDK-HMAC-SHA256 Access=é, SignedHeaders=host, Signature=ab".encode()),
        (b"x-sdk-date", b"20261123T120000Z"),
    ],
    b"",
)
@example(
    [
        (b"authorization", b"SDK-HMAC-SHA256 Access=\xe9, SignedHeaders=host, Signature=ab"),
        (b"x-sdk-date", b"20261123T120000Z"),
    ],
    b"",
)
@example([(b"x-auth-token", "é".encode())], b"")
@example(
    [
        (b"x-sdk-date", b"99999999T999999Z"),
        (b"authorization", b"SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=a"),
    ],
    b"",
)
def test_authenticate_refuses_anything_else_with_401_never_raises_else(
    headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    reason = _reason(_request(headers, body))
    assert reason is None or reason.startswith(Codes.UNAUTHORIZED.message)


@dataclass
class TemporaryKeys:
    """A Credentials source as IAM would be: a temporary AK that needs its security token, and
    tokens that may have expired."""

    def token_problem(self, token: str) -> str | None:
        return None if token == "fresh" else "the X-Auth-Token has expired"

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        return ("temporary-sk", "the-security-token") if ak == "TEMPAK" else None


def test_a_temporary_key_needs_its_signed_security_token() -> None:
    keys: Any = TemporaryKeys()
    assert _reason(_request([(b"x-auth-token", b"fresh")]), keys) is None
    assert "expired" in (_reason(_request([(b"x-auth-token", b"old")]), keys) or "")
    good = _signed(ak="TEMPAK", sk="temporary-sk", extra={"X-Security-Token": "the-security-token"})
    assert _reason(_request(good), keys) is None
    missing = _signed(ak="TEMPAK", sk="temporary-sk")
    assert "X-Security-Token" in (_reason(_request(missing), keys) or "")
    wrong = _signed(ak="TEMPAK", sk="temporary-sk", extra={"X-Security-Token": "another"})
    assert "does not belong" in (_reason(_request(wrong), keys) or "")
    unsigned = [
        *_signed(ak="TEMPAK", sk="temporary-sk"),
        (b"x-security-token", b"the-security-token"),
    ]
    assert "must be signed" in (_reason(_request(unsigned), keys) or "")


def test_the_gateway_fails_closed(tmp_path: Path) -> None:
    """A request that reaches the gateway without a route is refused, not passed on."""
    app = create_app(Settings(data_dir=tmp_path, project_id=PROJECT))
    assert isinstance(app, Frontdoor)
    try:
        error = _raised(call, app.gateway, "GET", f"{BASE}/x".encode(), [TOKEN])
        assert error is not None and error.code is Codes.API_NOT_FOUND
    finally:
        app.service.store.close()


# -- the one private connexion hook ---------------------------------------------------------------


def test_connexion_is_pinned_to_the_minor_version_the_private_hook_was_written_for() -> None:
    assert importlib.metadata.version("connexion").startswith("3.3.")


def test_handlers_are_decorated_once_through_the_private_hook(tmp_path: Path) -> None:
    """`api._middleware_app.api_cls = _Api` must make connexion build the mock's `_Operation`,
    whose decorated handler is made once and reused: if connexion renames or stops honouring
    the hook, this fails (and the mock silently gets slower, not wrong)."""
    app = create_app(Settings(data_dir=tmp_path, project_id=PROJECT, fast_lane=False))
    assert isinstance(app, Frontdoor)
    try:
        answer = call(app, "POST", f"{BASE}/x".encode(), [(b"x-auth-token", b"mock-token")])
        assert answer.status == 400  # the commit handler ran: "job x does not exist"
        connexion_app: Any = app.lifespan
        apis = [api for apis in connexion_app._middleware_app.apis.values() for api in apis]
        assert apis and all(isinstance(api, app_module._Api) for api in apis), apis
        operations = [op for api in apis for op in api.operations.values()]
        assert operations and all(isinstance(op, app_module._Operation) for op in operations)
        commit = apis[0].operations["commit_short_job"]
        assert "fn" in vars(commit) and commit.fn is commit.fn  # decorated once, kept
    finally:
        app.service.store.close()


# -- memoized checks give the same answers, and never a shared document ---------------------------


def test_a_remembered_body_is_a_fresh_document_each_time() -> None:
    schema = spec_document()["components"]["schemas"]["CreateShortJobReq"]
    resolved = {
        **schema,
        "properties": {
            "job_type": {"type": "string"},
            "language": {"type": "string", "default": "CN"},
        },
    }
    first = check_json_body(
        resolved, b'{"job_type": "VOICE_ASSESS"}', required=True, nullable=False
    )
    assert first == {"job_type": "VOICE_ASSESS", "language": "CN"}
    first["language"] = "changed"
    again = check_json_body(
        resolved, b'{"job_type": "VOICE_ASSESS"}', required=True, nullable=False
    )
    assert again == {"job_type": "VOICE_ASSESS", "language": "CN"} and again is not first


def test_a_remembered_parameter_check_answers_as_the_first() -> None:
    param = {
        "name": "X-App-UserId",
        "in": "header",
        "schema": {"type": "string", "pattern": "^[!-~]+$"},
    }
    for _ in range(2):
        assert check_parameter("header", "user-001", param) is None
        refused = check_parameter("header", "café", param)
        assert refused is not None and "café" in refused
    other = {**param, "schema": {"type": "string", "maxLength": 3}}
    assert check_parameter("header", "user-001", other) is not None  # another spec object
