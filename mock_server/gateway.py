"""What the API gateway does before a request reaches MetaStudio: size limit and authentication.

It sits in connexion's middleware stack just after routing, so an unknown API is refused as
APIGW.0101 before anyone asks who the caller is (as the real gateway does), and before request
validation, so an unauthenticated caller learns nothing about the API's shape.

Authentication is `mock_server.iam.credentials.caller_problem`: an `X-Auth-Token` (the configured
token, or one IAM issued and not expired), or an AK/SK signature verified by `short_jobs.signing`
(the same code the client signs with; the configured AK, or a temporary one IAM issued, with its
signed X-Security-Token). Either way the path's project must be the configured one. Every
failure is 401 APIGW.0301 with a message saying which check failed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.config import Settings
from mock_server.errors import ApiError, Codes
from mock_server.iam.credentials import IamCredentials, caller_problem

# The gateway's cap on a request body (the reference: 413 APIGW.0201 over 12 MB).
MAX_BODY_BYTES = 12 * 1024 * 1024
ROUTING = "connexion_routing"
CONTROL_PREFIX = "/_mock/"


class GatewayMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, credentials: IamCredentials) -> None:
        self.app = app
        self.settings = settings
        self.credentials = credentials

    @classmethod
    def factory(
        cls, settings: Settings, credentials: IamCredentials
    ) -> Callable[[ASGIApp], GatewayMiddleware]:
        return lambda app: cls(app, settings, credentials)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get(ROUTING, {})
        if routing.get("operation_id") is None or scope["path"].startswith(CONTROL_PREFIX):
            # not an API of the spec (404/405 follow), or the test-only control plane
            await self.app(scope, receive, send)
            return
        body = await _read_body(scope, receive)
        self.authenticate(scope, body)
        await self.app(scope, _replay(body, receive), send)

    def authenticate(self, scope: Scope, body: bytes) -> None:
        """Raise 401 APIGW.0301 unless the caller is who it must be (the fast lane's check too)."""
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        problem = caller_problem(
            self.credentials,
            scope["method"],
            scope.get("raw_path") or scope["path"].encode(),
            scope.get("query_string", b""),
            headers,
            body,
            datetime.now(UTC),
        )
        if problem is not None:
            raise _unauthorized(problem)
        self._check_project(scope, headers)

    def _check_project(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
        path_project = scope.get("path_params", {}).get("project_id")
        configured = self.settings.project_id
        if path_project is not None and path_project != configured:
            raise _unauthorized(f"project {path_project!r} is not the credentials' project")
        header_project = _header(headers, b"x-project-id")
        if header_project is not None and header_project != configured:
            raise _unauthorized(f"X-Project-Id {header_project!r} is not the credentials' project")


def _unauthorized(reason: str) -> ApiError:
    return ApiError(Codes.UNAUTHORIZED, reason)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = _header(scope["headers"], b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(Codes.ENTITY_TOO_LARGE, f"the body is over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(Codes.ENTITY_TOO_LARGE, f"the body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body on, then defers to the real one."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
            return message
        return await receive()

    return replayed
