"""Every request's first stop (`Frontdoor`), and how connexion's errors become the API's.

Frontdoor        request id (`core.requestid`), the X-Request-Id header, one escaped
  |              access-log line (`accesslog`), errors rendered (`core.errors`)
  |-- (the IAM port)            IAM (`iam.py`: its own spec, iam.yaml)
  |-- GET /                     readiness
  |-- /{BUCKET}/...             the OBS-style upload endpoint (mock_server/obs)
  `-- the route table           (routing.py: method + path, exactly; else 404 APIGW.0101)
        |-- a page              (pages.py: /openapi.json|yaml, /ui/, /_mock/ui/; no auth)
        -> faults (control plane: mock_server/control)
        -> GatewayMiddleware    (gateway.py: body read once, 413; authenticate, 401)
        -> FastLane             (fastlane.py: create/show, same rules; optional)
        -> connexion            (factory.py) request validation (validation.py) -> handlers
"""

from __future__ import annotations

import logging
import time

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from mock_server.control.errors import ControlCodes
from mock_server.control.faults import apply_fault
from mock_server.control.guard import cross_site_problem
from mock_server.control.journal import journal_entry
from mock_server.control.store import ControlStore
from mock_server.core.asgi import Answer, ASGIApp, Message, Receive, Scope, Send
from mock_server.core.body import ClientGone
from mock_server.core.config import Settings
from mock_server.core.errors import ApiError, Code, Codes, render
from mock_server.core.requestid import request_id, with_request_id
from mock_server.core.state import state_of
from mock_server.core.text import Printable
from mock_server.http.accesslog import log_request
from mock_server.http.factory import ErrorHandler
from mock_server.http.fastlane import FastLane
from mock_server.http.iam import IAM_PATH_PREFIXES, Iam
from mock_server.http.responses import connexion_response
from mock_server.http.routing import CONTROL_PREFIX, Route, RouteTable
from mock_server.obs.area import BUCKET, job_id_from_key
from mock_server.obs.errors import internal_error, render_obs
from mock_server.service.handlers import Service

log = logging.getLogger("mock_server")

IAM_JOURNAL_OPERATION = "iam"
"""The journal's `operation` for every request to IAM's port (GET /_mock/requests?operation=iam)."""


# -- connexion's errors, answered with the service's codes ---------------------------------------

# Framework answers (content negotiation, and routing should it ever disagree with the route
# table) by status, mapped onto the service's table.
_BY_STATUS: dict[int, Code] = {
    400: Codes.INVALID_BODY,
    404: Codes.API_NOT_FOUND,
    405: Codes.API_NOT_FOUND,
    413: Codes.ENTITY_TOO_LARGE,
    415: Codes.BODY_NOT_JSON,
}


def _answer(request: ConnexionRequest, error: ApiError) -> ConnexionResponse:
    """connexion's error handlers answer its own response type; the body is still `render`'s."""
    scope = request.scope
    state_of(scope).error_code = error.code.code
    return connexion_response(render(error, request_id(scope)))


def _on_api_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ApiError)
    return _answer(request, exc)


def _on_http_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    status = exc.status if isinstance(exc, ProblemException) else getattr(exc, "status_code", 500)
    code = _BY_STATUS.get(status)
    if code is None:
        return _on_unexpected(request, exc)
    detail = str(getattr(exc, "detail", None) or exc) if code is not Codes.API_NOT_FOUND else None
    return _answer(request, ApiError(code, detail))


def _on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error(
        "unexpected error on %s %s",
        Printable(request.method),
        Printable(request.url.path),
        exc_info=exc,
    )
    return _answer(request, ApiError(Codes.INTERNAL))


# The API's error handlers, for `factory.connexion_app` (the most general last).
ERROR_HANDLERS: dict[type[Exception], ErrorHandler] = {
    ApiError: _on_api_error,
    ProblemException: _on_http_error,
    HTTPException: _on_http_error,
    Exception: _on_unexpected,
}


def _failure(exc: Exception, operation: str | None, scope: Scope) -> Answer:
    """The answer to a request that failed before it was answered, in its surface's shape: on
    the upload URL OBS XML (`obs.errors.internal_error`: the mock's own failure, wherever it
    happened, e.g. the fault check meeting a locked database), elsewhere the service's JSON (the
    `ApiError`, or 500 MSS.00000004)."""
    if operation == "upload":
        failure = internal_error(exc, scope["path"])
        state_of(scope).error_code = failure.code.code
        return render_obs(failure, request_id(scope))
    error = exc if isinstance(exc, ApiError) else ApiError(Codes.INTERNAL)
    state_of(scope).error_code = error.code.code
    return render(error, request_id(scope))


class Frontdoor:
    """Every request's first stop: gives it an id, places it, and logs one line when it ends.

    Whatever happens below, the answer carries X-Request-Id, an error is in the service's shape
    (or OBS XML on the upload path), and exactly one access-log line is written.
    """

    def __init__(
        self,
        lifespan: ASGIApp,
        gateway: ASGIApp,
        uploads: ASGIApp,
        routes: RouteTable,
        settings: Settings,
        service: Service,
        iam: Iam,
        control: ControlStore | None,
        fast: FastLane | None = None,
    ) -> None:
        self.lifespan = lifespan
        self.gateway = gateway
        self.uploads = uploads
        self.routes = routes
        self.settings = settings
        self.service = service
        self.fast = fast
        self.control = control  # the journal and the faults, with `--control`
        self.iam = iam  # served on `iam_port` (settings.iam_listen_port, or the one bound)
        self.iam_port = settings.iam_listen_port
        self.pages: ASGIApp | None = None  # the docs and the dashboard (pages.py)
        self._upload_prefix = f"/{BUCKET}/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.lifespan(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        send_with_id = with_request_id(scope, send)

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send_with_id(message)

        operation = None
        try:
            operation = self._place(scope)
            if not await self._inject_fault(operation, scope, receive, answer):
                await self._route(scope, receive, answer)
        except ClientGone:
            pass  # no one to answer; the log line says status 0
        except Exception as exc:
            if not isinstance(exc, ApiError):
                log.exception(
                    "unexpected error on %s %s",
                    Printable(scope["method"]),
                    Printable(scope["path"]),
                )
            if status:
                raise  # the answer has begun; the server closes the connection
            await _failure(exc, operation, scope)(scope, receive, answer)
        finally:
            seconds = time.perf_counter() - started
            # An answer cut off on purpose (a fault) reached the client as no answer at all.
            answered = None if state_of(scope).answer_cut else status
            if self.settings.log_requests:
                log_request(scope, answered, seconds, hide_query=operation == "upload")
            # IAM's calls are journaled too, as operation "iam" (no faults: they are the API's)
            journaled = operation or (IAM_JOURNAL_OPERATION if self._for_iam(scope) else None)
            if self.control is not None and journaled is not None:
                self.control.journal_append(journal_entry(scope, journaled, answered, seconds))

    def _place(self, scope: Scope) -> str | None:
        """The emulated operation a request is for (`upload` for uploads), or None; puts its
        route in `state` and notes the job it names, for the journal."""
        state = state_of(scope)
        request_id(scope)
        path: str = scope["path"]
        if self._for_iam(scope):
            return None  # IAM's port: no emulated operation, whatever the path
        if path.startswith(self._upload_prefix):
            state.job_id = job_id_from_key(path[len(self._upload_prefix) :])
            return "upload"
        route = self.routes.match(scope["method"], path)
        if route is None:
            return None
        state.route = route
        if "job_id" in route.path_params and not route.control:
            state.job_id = route.path_params["job_id"]
        return route.operation_id if not (route.control or route.page) else None

    def _for_iam(self, scope: Scope) -> bool:
        server = scope.get("server")
        return server is not None and server[1] == self.iam_port

    async def _inject_fault(
        self, operation: str | None, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        if operation is None or self.control is None:
            return False
        fault = self.control.take_fault(operation)
        return fault is not None and await apply_fault(fault, operation, scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        route = state_of(scope).route
        if isinstance(route, Route) and (route.control or path.startswith(CONTROL_PREFIX + "/")):
            server = scope.get("server")
            problem = cross_site_problem(
                scope["method"],
                scope["headers"],
                server[0] if server else None,
                scope["scheme"],
                self.settings.allowed_hosts,
            )
            if problem is not None:
                raise ApiError(ControlCodes.CROSS_SITE, problem)
        if self._for_iam(scope):
            await self.iam.endpoint(scope, receive, send)
        elif path.startswith(self._upload_prefix):
            await self.uploads(scope, receive, send)
        elif isinstance(route, Route) and route.page and self.pages is not None:
            await self.pages(scope, receive, send)
        elif isinstance(route, Route) and not route.page:
            await self.gateway(scope, receive, send)
        elif path == "/" and scope["method"] in ("GET", "HEAD"):
            await JSONResponse({"status": "ready", "service": "short-jobs-mock"})(
                scope, receive, send
            )
        elif path.startswith(IAM_PATH_PREFIXES):
            # no such API here, as on the real endpoint; but say where IAM is
            raise ApiError(Codes.API_NOT_FOUND, self.iam.elsewhere(scope, self.iam_port))
        else:
            raise ApiError(Codes.API_NOT_FOUND)
