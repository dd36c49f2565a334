"""What the API gateway does before a request reaches MetaStudio: authentication.

`authenticate` is a pure function of the request and a `Credentials` source: it returns nothing
when the caller is who it must be and raises 401 APIGW.0301 saying which check failed otherwise
(the reference, section 2). It never raises anything else, whatever bytes the headers hold.
`GatewayMiddleware` is the thin ASGI layer around it, and it fails closed: a request the route
table has not placed is refused (404 APIGW.0101), never passed on unauthenticated.

Two schemes, as the gateway accepts them:
- `X-Auth-Token`: `Credentials.token_problem` says whether the token is accepted.
- AK/SK (`Authorization: SDK-HMAC-SHA256 ...`): verified by `short_jobs.signing`, the same code the
  client signs with; `Credentials.secret_for` gives the SK and, for a temporary AK, the security
  token the request must carry, signed, in `X-Security-Token`.
The path's project (and `X-Project-Id`, when sent) must be one the caller may call: a token is
scoped to the configured project (the only one the mock's IAM scopes tokens to); an AK/SK
signs for its account, so any project `Credentials.owns_project` (the configured one, or one
created through IAM's `POST /v3/projects`) is served.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mock_server.core.asgi import ASGIApp, Receive, Scope, Send
from mock_server.core.body import forwarded_scope, read_body, replay
from mock_server.core.errors import ApiError, Codes
from mock_server.core.state import note_signature_check, state_of
from mock_server.core.text import header_text, same_secret
from mock_server.http.routing import Route
from mock_server.iam.credentials import Credentials
from short_jobs.signing import SignatureError, parse_authorization, scrub, verify_request

SECURITY_TOKEN_HEADER = "X-Security-Token"


class SignatureRefused(ApiError):
    """401 APIGW.0301 for a refused signature, carrying the forensic `signature_check` (already
    scrubbed of the SK and security token) for the journal and the debug log; the client's
    answer is the plain service error."""

    def __init__(self, reason: str, check: dict[str, Any] | None) -> None:
        super().__init__(Codes.UNAUTHORIZED, reason)
        self.signature_check = check


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """What authentication looks at: the request as received (ASGI `raw_path`, `query_string`,
    header bytes, the whole body) and the project the route table read from the path."""

    method: str
    raw_path: bytes
    query_string: bytes
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes
    path_project: str | None


def authenticate(
    request: GatewayRequest, credentials: Credentials, project_id: str, now: Callable[[], datetime]
) -> None:
    """Return if the caller is authenticated for `project_id`; else raise 401 APIGW.0301.

    `now` reads the gateway's clock (X-Sdk-Date must be within 15 minutes of it); only a
    signature check calls it, since the mock's clock is a read of its store (`core.clock`).
    """
    if not sends_credentials(request.headers):
        raise _unauthorized(
            "no credentials: send X-Auth-Token, or an SDK-HMAC-SHA256 Authorization header"
        )
    tokens = _values(request.headers, b"x-auth-token")
    if tokens:
        if len(tokens) > 1:
            raise _unauthorized("X-Auth-Token is sent more than once")
        problem = credentials.token_problem(tokens[0])
        if problem is not None:
            raise _unauthorized(problem)
        _check_project(request, project_id, None)
    else:
        if len(_values(request.headers, b"authorization")) > 1:
            raise _unauthorized("Authorization is sent more than once")
        _check_signature(request, credentials, now())
        _check_project(request, project_id, credentials)


# X-Auth-Token picks the token scheme; otherwise Authorization or X-Sdk-Date, the signature.
_CREDENTIAL_HEADERS = frozenset({b"x-auth-token", b"authorization", b"x-sdk-date"})


def sends_credentials(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether the request tries either scheme at all (else `authenticate` answers "no
    credentials"): for a caller that may authenticate some other way, as IAM's securitytokens
    call takes a token in its body."""
    return any(key.lower() in _CREDENTIAL_HEADERS for key, _ in headers)


def _check_signature(request: GatewayRequest, credentials: Credentials, now: datetime) -> None:
    found: list[tuple[str, str | None]] = []

    def secret_for(ak: str) -> str | None:
        secret = credentials.secret_for(ak)
        if secret is None:
            return None
        found.append(secret)
        return secret[0]

    try:
        verify_request(
            request.method,
            request.raw_path,
            request.query_string,
            request.headers,
            request.body,
            secret_for,
            now,
        )
    except SignatureError as failure:
        check: dict[str, Any] | None = None
        if failure.check is not None:
            secrets = [part for secret in found for part in secret]
            cleaned = scrub({**failure.check, "reason": failure.reason}, secrets)
            check = cleaned if isinstance(cleaned, dict) else None
        raise SignatureRefused(failure.reason, check) from None
    required = found[-1][1] if found else None
    if required is not None:
        _check_security_token(request, required)


def _check_security_token(request: GatewayRequest, required: str) -> None:
    sent = _values(request.headers, SECURITY_TOKEN_HEADER.lower().encode())
    if not sent:
        raise _unauthorized(f"this access key is temporary: send its {SECURITY_TOKEN_HEADER}")
    if len(sent) > 1:
        raise _unauthorized(f"{SECURITY_TOKEN_HEADER} is sent more than once")
    signed = parse_authorization(_values(request.headers, b"authorization")[0]).signed_headers
    if SECURITY_TOKEN_HEADER.lower() not in (name.lower() for name in signed):
        raise _unauthorized(f"{SECURITY_TOKEN_HEADER} must be signed (list it in SignedHeaders)")
    if not same_secret(sent[0].strip(), required):
        raise _unauthorized(f"the {SECURITY_TOKEN_HEADER} does not belong to this access key")


def _check_project(request: GatewayRequest, project_id: str, account: Credentials | None) -> None:
    """The path's project and each `X-Project-Id` must be `project_id` (the configured one: no
    store lookup in the common case) or, for an AK/SK's `account`, one it owns."""

    def allowed(project: str) -> bool:
        return project == project_id or (account is not None and account.owns_project(project))

    whose = "the credentials'" if account is not None else "the token's"
    if request.path_project is not None and not allowed(request.path_project):
        raise _unauthorized(f"project {request.path_project!r} is not {whose} project")
    for header_project in _values(request.headers, b"x-project-id"):
        if not allowed(header_project):
            raise _unauthorized(f"X-Project-Id {header_project!r} is not {whose} project")


def _values(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[str]:
    return [header_text(value) for key, value in headers if key.lower() == name]


def _unauthorized(reason: str) -> ApiError:
    return ApiError(Codes.UNAUTHORIZED, reason)


def authenticate_noted(
    scope: Scope,
    request: GatewayRequest,
    credentials: Credentials,
    project_id: str,
    now: Callable[[], datetime],
) -> None:
    """`authenticate`, noting a refused signature's forensics for the journal and the debug log
    (`core.state.note_signature_check`, also the upload URL's): the gateway's and IAM's way in."""
    try:
        authenticate(request, credentials, project_id, now)
    except SignatureRefused as refused:
        note_signature_check(scope, refused.signature_check)
        raise


class GatewayMiddleware:
    """The gateway's place in the pipeline: takes the route the table gave the request, reads the
    body once (413 over 12 MB), authenticates (not the test-only control plane) and hands on a
    request with plain framing and a parsed media type. Fails closed: no route, no entry."""

    def __init__(
        self,
        app: ASGIApp,
        credentials: Credentials,
        project_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.project_id = project_id
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = state_of(scope)
        route = state.route
        if not isinstance(route, Route):
            raise ApiError(Codes.API_NOT_FOUND)
        body = state.body = await read_body(scope, receive)
        if not route.control:
            request = GatewayRequest(
                method=scope["method"],
                raw_path=scope.get("raw_path") or scope["path"].encode(),
                query_string=scope.get("query_string", b""),
                headers=scope["headers"],
                body=body,
                path_project=route.path_params.get("project_id"),
            )
            authenticate_noted(scope, request, self.credentials, self.project_id, self.clock)
        await self.app(forwarded_scope(scope, body), replay(body, receive), send)
