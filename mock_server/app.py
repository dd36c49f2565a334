"""Builds the mock's ASGI application from `openapi.yaml`: one pipeline, one place per rule.

    Frontdoor        request id (`request_id`), the X-Request-Id header (`with_request_id`),
      |              one escaped access-log line (`accesslog`), errors rendered (`errors`)
      |-- (the IAM port)            IAM (mock_server/iam: its own spec, iam.yaml)
      |-- GET /                     readiness
      |-- /{BUCKET}/...             the OBS-style upload endpoint (uploads.py)
      `-- the route table           (routing.py: method + path, exactly; else 404 APIGW.0101)
            |-- a page              (pages.py: /openapi.json|yaml, /ui/, /_mock/ui/; no auth)
            -> faults (control plane)
            -> GatewayMiddleware    (gateway.py: body read once, 413; authenticate, 401)
            -> FastLane             (fastlane.py: create/show, same rules; optional)
            -> connexion            request validation (validation.py) -> handlers (service.py)

connexion stays the framework, extended through its documented points: `validator_map`
(validation.py), the resolver (handlers get the body the pipeline parsed), `middlewares` and
error handlers (every error is `errors.render`'s shape, never problem+json). One private hook
remains, `_Api` below (handlers decorated once, not per request): connexion is pinned to its
minor version for it, and `tests/test_pipeline.py` fails loudly if it stops taking effect.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.resolver import Resolver
from connexion.spec import Specification
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.control.handlers import Control, apply_fault, journal_entry
from mock_server.core.body import ClientGone
from mock_server.core.config import Settings
from mock_server.core.errors import ApiError, Code, Codes, connexion_response, render
from mock_server.core.requestid import request_id, with_request_id
from mock_server.core.spec import control_document, control_spec_path, spec_document, spec_path
from mock_server.http.accesslog import log_request
from mock_server.http.fastlane import FastLane
from mock_server.http.gateway import GatewayMiddleware
from mock_server.http.iam import IAM_PATH_PREFIXES, Iam
from mock_server.http.pages import Pages
from mock_server.http.routing import CONTROL_PREFIX, Route, RouteTable
from mock_server.http.validation import VALIDATOR_MAP_OVERRIDES, with_parsed_body
from mock_server.obs.endpoint import BUCKET, UploadEndpoint, job_id_from_key
from mock_server.service.handlers import Service
from mock_server.service.store import Store

__all__ = ["Frontdoor", "app_from_environ", "create_app", "spec_document", "spec_path"]

log = logging.getLogger("mock_server")


class RequestIdHeader:
    """Inside connexion, so that response validation sees the header the spec requires."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, with_request_id(scope, send))


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
    scope.setdefault("state", {})["error_code"] = error.code.code
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
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(request, ApiError(Codes.INTERNAL))


# -- the private hook: handlers decorated once -----------------------------------------------------


class _Decorator(StarletteDecorator):  # type: ignore[misc]
    """connexion wraps the handler in its parameter and response decorators on every request
    (inspect.signature and all); wrap it once per operation."""

    def decorate(self, function: Any) -> Any:
        decorated = self.__dict__.get("_decorated")
        if decorated is None:
            decorated = self.__dict__["_decorated"] = super().decorate(function)
        return decorated


class _Operation(AsyncOperation):  # type: ignore[misc]
    @functools.cached_property
    def fn(self) -> Any:
        return _Decorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(self._fn)


class _Api(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: Any) -> _Operation:
        made: _Operation = _Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
        return made


# -- the application --------------------------------------------------------------------------

JSONIFIER = Jsonifier()


def _resolved_spec() -> Specification:
    """openapi.yaml validated and $ref-resolved as connexion loads it (its public loader)."""
    resolved: Specification = Specification.load(copy.deepcopy(spec_document()))
    return resolved


def create_app(settings: Settings, generation: str | None = None) -> ASGIApp:
    """The mock as an ASGI app (a `Frontdoor`), its store opened in `settings.data_dir`.
    `generation` names this server run (worker processes of one run share it)."""
    service = Service(settings, generation or uuid.uuid4().hex)
    iam = Iam(settings, service.store)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        worker = asyncio.create_task(service.run_worker(), name="assessment-worker")
        try:
            yield
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            service.store.close()

    api = AsyncApp(
        __name__,
        lifespan=lifespan,
        jsonifier=JSONIFIER,
        middlewares=[
            ServerErrorMiddleware,
            ExceptionMiddleware,
            RoutingMiddleware,
            RequestValidationMiddleware,
            ResponseValidationMiddleware,
            RequestIdHeader,
            LifespanMiddleware,
            ContextMiddleware,
        ],
    )
    api._middleware_app.api_cls = _Api  # the private hook (see the module docstring)
    api.add_api(
        copy.deepcopy(spec_document()),  # a copy: connexion fills in the dict it is given
        resolver=Resolver(lambda operation_id: with_parsed_body(getattr(service, operation_id))),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=VALIDATOR_MAP_OVERRIDES,
    )
    if settings.control:
        control = Control(service)
        api.add_api(
            control_spec_path(),
            base_path=CONTROL_PREFIX,
            resolver=Resolver(
                lambda operation_id: with_parsed_body(getattr(control, operation_id))
            ),
            strict_validation=True,
            validate_responses=settings.validate_responses,
            validator_map=VALIDATOR_MAP_OVERRIDES,
        )
    api.add_error_handler(ApiError, _on_api_error)
    api.add_error_handler(ProblemException, _on_http_error)
    api.add_error_handler(HTTPException, _on_http_error)
    api.add_error_handler(Exception, _on_unexpected)
    inner: ASGIApp = api
    fast = None
    if settings.fast_lane:
        inner = fast = FastLane(
            api, _resolved_spec, service, JSONIFIER, settings.validate_responses
        )
    gateway = GatewayMiddleware(inner, iam.credentials, settings.project_id)
    pages = Pages(settings, service)
    routes = RouteTable.from_specs(
        spec_document(), control_document() if settings.control else None, pages.paths()
    )
    uploads = UploadEndpoint(settings, service.store, service.uploads)
    frontdoor = Frontdoor(api, gateway, uploads, routes, settings, service, iam, fast)
    frontdoor.pages = pages
    return frontdoor


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
        fast: FastLane | None = None,
    ) -> None:
        self.lifespan = lifespan
        self.gateway = gateway
        self.uploads = uploads
        self.routes = routes
        self.settings = settings
        self.service = service
        self.fast = fast
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
        except ApiError as error:
            if status:
                raise
            scope["state"]["error_code"] = error.code.code
            await render(error, request_id(scope))(scope, receive, answer)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if status:
                raise  # the answer has begun; the server closes the connection
            scope["state"]["error_code"] = Codes.INTERNAL.code
            await render(ApiError(Codes.INTERNAL), request_id(scope))(scope, receive, answer)
        finally:
            seconds = time.perf_counter() - started
            # An answer cut off on purpose (a fault) reached the client as no answer at all.
            answered = None if scope["state"].get("answer_cut") else status
            if self.settings.log_requests:
                log_request(scope, answered, seconds, hide_query=operation == "upload")
            if self.settings.control and operation is not None:
                self._store().journal_append(journal_entry(scope, operation, answered, seconds))

    def _place(self, scope: Scope) -> str | None:
        """The emulated operation a request is for (`upload` for uploads), or None; puts its
        route in `state` and notes the job it names, for the journal."""
        state = scope["state"]
        request_id(scope)
        path: str = scope["path"]
        if self._for_iam(scope):
            return None  # IAM's port: no emulated operation, whatever the path
        if path.startswith(self._upload_prefix):
            state["job_id"] = job_id_from_key(path[len(self._upload_prefix) :])
            return "upload"
        route = self.routes.match(scope["method"], path)
        if route is None:
            return None
        state["route"] = route
        if "job_id" in route.path_params and not route.control:
            state["job_id"] = route.path_params["job_id"]
        return route.operation_id if not (route.control or route.page) else None

    def _for_iam(self, scope: Scope) -> bool:
        server = scope.get("server")
        return server is not None and server[1] == self.iam_port

    def _store(self) -> Store:
        return self.service.store

    async def _inject_fault(
        self, operation: str | None, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        if operation is None or not self.settings.control:
            return False
        fault = self._store().take_fault(operation)
        return fault is not None and await apply_fault(fault, operation, scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        route = scope["state"].get("route")
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


def app_from_environ() -> ASGIApp:
    """uvicorn's factory: settings from the environment (see `cli.run`)."""
    return create_app(Settings.from_environ(), os.environ.get("SHORT_JOBS_MOCK_GENERATION"))
