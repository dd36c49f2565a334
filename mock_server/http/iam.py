"""The IAM endpoint: an ASGI app over `mock_server/iam.yaml`, served on the IAM port.

    IamEndpoint (X-IAM-Trace-Id, the body read once by `body.read_body`, the callers of the
      |          calls that need one checked by the gateway's `authenticate`, Keystone's errors)
      `-- connexion over iam.yaml: routing -> request validation -> response validation
          -> handlers (handlers.py)

The body reader, the media-type parsing, authentication and the validators are the MetaStudio
API's own (one place per rule); whatever they refuse is re-rendered in IAM's shape
(`errors.render_iam`), by status: nothing here answers the MetaStudio or problem+json shape.
IAM's router is its own (connexion's, over iam.yaml): a known path with another method is 405
with `Allow`, as Keystone answers, not the API gateway's 404.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from mock_server.core.asgi import ASGIApp, Message, Receive, Scope, Send
from mock_server.core.body import forwarded_scope, read_body, replay
from mock_server.core.clock import Clock
from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.core.errors import ApiError
from mock_server.core.requestid import request_id, with_header
from mock_server.core.spec import iam_spec_document
from mock_server.core.state import state_of
from mock_server.core.text import Printable
from mock_server.http.factory import SpecApi, connexion_app
from mock_server.http.gateway import GatewayRequest, authenticate_noted, sends_credentials
from mock_server.http.responses import connexion_response
from mock_server.iam.credentials import IamCredentials
from mock_server.iam.errors import IAM_TRACE_HEADER, IamCodes, IamError, render_iam
from mock_server.iam.handlers import IamHandlers
from mock_server.iam.store import IamStore

log = logging.getLogger("mock_server.iam")

# (method, path) of the calls that need an authenticated caller, and whether a token in the
# body may stand in for the headers (CreateTemporaryAccessKeyByToken's auth.identity.token.id).
AUTHENTICATED = {
    ("GET", "/v3/projects"): False,
    ("POST", "/v3/projects"): False,
    ("GET", "/v3/auth/domains"): False,
    ("GET", "/v3/regions"): False,
    ("POST", "/v3.0/OS-CREDENTIAL/securitytokens"): True,
}
# IAM's paths, answered on the API port with a 404 that says where IAM is
IAM_PATH_PREFIXES = ("/v3/", "/v3.0/")


class Iam:
    """The mock's IAM in one process: its store, clock, credentials, handlers and endpoint.

    The endpoint's connexion app is built on the first IAM request, not at start: validating
    iam.yaml costs about as much as the whole API's start-up, and the gateway only needs the
    credentials.
    """

    def __init__(self, settings: Settings, database: Database, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.store = IamStore(database)
        self.credentials = IamCredentials(settings, self.store, self.clock)
        self.handlers = IamHandlers(settings, self.store, self.credentials, self.clock)

    def elsewhere(self, scope: Scope, port: int) -> str:
        """Where IAM is, for a caller that asked the API port (its Host's name, IAM's `port`)."""
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        name = host.rsplit(":", 1)[0] if host and not host.endswith("]") else host
        name = name or self.settings.host
        url = f"http://{name}:{port}"
        return f"IAM is served on its own port: set HUAWEICLOUD_SDK_IAM_ENDPOINT={url}"

    @functools.cached_property
    def endpoint(self) -> IamEndpoint:
        api = _connexion_app(self.settings, self.handlers)
        return IamEndpoint(api, self.credentials, self.settings.project_id)


class IamEndpoint:
    def __init__(self, api: ASGIApp, credentials: IamCredentials, project_id: str) -> None:
        self.api = api
        self.credentials = credentials
        self.project_id = project_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = state_of(scope)
        trace_id = request_id(scope)
        traced = with_header(send, IAM_TRACE_HEADER, trace_id)
        started = False

        async def send_with_trace(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await traced(message)

        try:
            try:
                body = state.body = await read_body(scope, receive)
                self._authenticate(scope, body)  # on the request as sent, as the gateway does
                forwarded = forwarded_scope(scope, body)
            except ApiError as error:  # the API's rules, answered in IAM's shape
                raise IamError(
                    IamCodes.by_status(error.code.status), f"({error.message})"
                ) from None
            await self.api(forwarded, replay(body, receive), send_with_trace)
        except IamError as error:
            if started:
                raise
            state.error_code = str(error.code.status)
            await render_iam(error, trace_id)(scope, receive, send)

    def _authenticate(self, scope: Scope, body: bytes) -> None:
        """Check the caller of a call that needs one (others pass untouched) with the API
        gateway's `authenticate`: 401 APIGW.0301's reasons, raised as `ApiError`."""
        body_token_allowed = AUTHENTICATED.get((scope["method"], scope["path"]))
        if body_token_allowed is None:
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if body_token_allowed and not sends_credentials(headers):
            return  # the body's auth.identity.token.id stands in: the handler checks it
        request = GatewayRequest(
            method=scope["method"],
            raw_path=scope.get("raw_path") or scope["path"].encode(),
            query_string=scope.get("query_string", b""),
            headers=headers,
            body=body,
            path_project=None,
        )
        clock = self.credentials.clock
        authenticate_noted(
            scope,
            request,
            self.credentials,
            self.project_id,
            lambda: datetime.fromtimestamp(clock.now(), UTC),
        )
        state_of(scope).iam_caller = "authenticated"


# -- connexion over iam.yaml, answering IAM's shape --------------------------------------------


def _connexion_app(settings: Settings, handlers: IamHandlers) -> AsyncApp:
    return connexion_app(
        [SpecApi(iam_spec_document(), handlers)],
        id_header=IAM_TRACE_HEADER,
        error_handlers={
            IamError: _on_iam_error,
            ApiError: _on_validation_error,
            ProblemException: _on_framework_error,
            HTTPException: _on_framework_error,
            Exception: _on_unexpected,
        },
        validate_responses=settings.validate_responses,
    )


def _answer(
    request: ConnexionRequest, error: IamError, extra: dict[str, str] | None = None
) -> ConnexionResponse:
    state_of(request.scope).error_code = str(error.code.status)
    trace_id = request_id(request.scope)
    return connexion_response(render_iam(error, trace_id), extra)


def _on_iam_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, IamError)
    return _answer(request, exc)


def _on_validation_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """The shared validators raise the MetaStudio table's errors: keep the status and the
    explanation, answer IAM's shape."""
    assert isinstance(exc, ApiError)
    code = IamCodes.by_status(exc.code.status)
    return _answer(request, IamError(code, f"({exc.message})"))


def _on_framework_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    status = exc.status if isinstance(exc, ProblemException) else getattr(exc, "status_code", 500)
    if status >= 500:
        return _on_unexpected(request, exc)
    code = IamCodes.by_status(status)
    if status == 405:  # RFC 9110: a 405 lists the methods the resource has
        allowed = ", ".join(_methods().get(request.url.path, []))
        return _answer(request, IamError(code, f"({request.method})"), {"Allow": allowed})
    detail = None if status == 404 else f"({getattr(exc, 'detail', None) or exc})"
    return _answer(request, IamError(code, detail))


@functools.cache
def _methods() -> dict[str, list[str]]:
    """Path -> its methods, from iam.yaml (the spec has no templated paths)."""
    return {
        path: sorted(method.upper() for method in item if method != "parameters")
        for path, item in iam_spec_document()["paths"].items()
    }


def _on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error(
        "unexpected error on %s %s",
        Printable(request.method),
        Printable(request.url.path),
        exc_info=exc,
    )
    return _answer(request, IamError(IamCodes.INTERNAL))
