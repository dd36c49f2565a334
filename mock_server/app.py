"""Builds the mock's ASGI application from `openapi.yaml`.

    Frontdoor (request id, one log line, last-resort 500)
      |-- GET /                     readiness
      |-- /{BUCKET}/...             the OBS-style upload endpoint (uploads.py)
      `-- everything else           connexion, built from the spec:
            errors -> routing -> gateway (size, auth) -> request validation
            -> response validation -> handlers (service.py)

The spec is the only description of the API: connexion validates every request against it
(strictly: unknown query parameters are refused) and, when asked, every response. Its validation
errors are turned into the service's own codes here, so nothing answers problem+json.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.datastructures import MediaTypeDict
from connexion.decorators import StarletteDecorator
from connexion.exceptions import BadRequestProblem, ProblemException
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.resolver import Resolver
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, ParameterValidator
from connexion.validators.json import DefaultsJSONRequestBodyValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.config import Settings
from mock_server.control import Control, apply_fault, control_spec_path, journal_entry
from mock_server.errors import REQUEST_ID_HEADER, ApiError, Code, Codes, render
from mock_server.fastlane import FastLane
from mock_server.gateway import CONTROL_PREFIX, GatewayMiddleware
from mock_server.pages import Pages
from mock_server.service import Service
from mock_server.store import Store
from mock_server.uploads import BUCKET, UploadEndpoint, job_id_from_key

log = logging.getLogger("mock_server")
access_log = logging.getLogger("mock_server.access")


def spec_path() -> Path:
    """The contract: packaged beside this module in a wheel, at the repository root otherwise."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "openapi.yaml", here.parent / "openapi.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("openapi.yaml is neither in the package nor beside it")


# -- the spec's validation, answering the service's codes ---------------------------------------


class _SchemaValidators:
    """One jsonschema validator per schema of the spec, built on first use.

    connexion builds a new validator (and for bodies a new validator *class*) on every request;
    the schemas are the spec's own, unchanging dicts, so one validator each is enough.
    """

    def __init__(self, build: Callable[[dict[str, Any]], Any]) -> None:
        self._build = build
        self._by_id: dict[int, tuple[dict[str, Any], Any]] = {}

    def get(self, schema: dict[str, Any]) -> Any:
        entry = self._by_id.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, self._build(schema))
            self._by_id[id(schema)] = entry
        return entry[1]


_PARAMETER_VALIDATORS = _SchemaValidators(
    lambda param: Draft4Validator(
        param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
    )
)
_DEFAULTS_VALIDATOR = DefaultsJSONRequestBodyValidator.extend_with_set_default(
    Draft4RequestValidator
)
_BODY_VALIDATORS = _SchemaValidators(
    lambda schema: _DEFAULTS_VALIDATOR(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
)


class _ParameterValidator(ParameterValidator):  # type: ignore[misc]
    def validate(self, scope: Scope) -> None:
        try:
            super().validate(scope)
        except BadRequestProblem as problem:
            raise ApiError(Codes.PARAMETER_VALIDATION, str(problem.detail)) from None

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is None or (is_nullable(param) and is_null(value)):
            # missing or null: connexion's own rules (required, nullable)
            result: str | None = ParameterValidator.validate_parameter(
                parameter_type, value, param, param_name
            )
            return result
        try:
            _PARAMETER_VALIDATORS.get(param).validate(value)
        except ValidationError as error:
            return f"{parameter_type} parameter {param['name']}: {error.message}"
        return None


class _JsonBodyValidator(DefaultsJSONRequestBodyValidator):  # type: ignore[misc]
    """Fills the spec's defaults (language CN) and tells 'not JSON' from 'not the schema'."""

    @property
    def _validator(self) -> Any:
        return _BODY_VALIDATORS.get(self._schema)

    async def _parse(self, stream: Any, scope: Scope) -> Any:
        try:
            return await super()._parse(stream, scope)
        except (BadRequestProblem, UnicodeDecodeError) as problem:
            raise ApiError(Codes.BODY_NOT_JSON, _detail(problem)) from None

    def _validate(self, body: Any) -> Any:
        try:
            return super()._validate(body)
        except BadRequestProblem as problem:
            raise ApiError(Codes.INVALID_BODY, _detail(problem)) from None


def _detail(problem: Exception) -> str:
    return str(getattr(problem, "detail", None) or problem)


_VALIDATORS = {
    **VALIDATOR_MAP,
    "parameter": _ParameterValidator,
    "body": MediaTypeDict({"*/*json": _JsonBodyValidator}),
}

# Framework answers (routing, content negotiation) by status, mapped onto the service's table.
_BY_STATUS: dict[int, Code] = {
    400: Codes.INVALID_BODY,
    404: Codes.API_NOT_FOUND,
    405: Codes.METHOD_NOT_ALLOWED,
    413: Codes.ENTITY_TOO_LARGE,
    415: Codes.BODY_NOT_JSON,
}


def _request_id(scope: Scope) -> str:
    state: dict[str, Any] = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
    return str(state["request_id"])


def _answer(request: ConnexionRequest, error: ApiError) -> ConnexionResponse:
    """connexion's error handlers answer its own response type; the body is still `render`'s."""
    scope = request.scope
    scope.setdefault("state", {})["error_code"] = error.code.code
    response = render(error, _request_id(scope))
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return ConnexionResponse(
        status_code=response.status_code,
        mimetype="application/json",
        body=response.body,
        headers=headers,
    )


def _on_api_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ApiError)
    return _answer(request, exc)


def _on_http_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    status = exc.status if isinstance(exc, ProblemException) else getattr(exc, "status_code", 500)
    code = _BY_STATUS.get(status)
    if code is None:
        return _on_unexpected(request, exc)
    detail = _detail(exc) if code is not Codes.API_NOT_FOUND else None
    headers = {}
    if code is Codes.METHOD_NOT_ALLOWED:
        detail = f"{request.method} is not allowed on {request.url.path}"
        headers["Allow"] = ", ".join(_allowed_methods(request.url.path))
    return _answer(request, ApiError(code, detail, headers=headers))


def _on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(request, ApiError(Codes.INTERNAL))


@functools.cache
def spec_document() -> dict[str, Any]:
    """openapi.yaml, parsed once per process (libyaml's C loader when present: 10x faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: dict[str, Any] = yaml.load(spec_path().read_text(encoding="utf-8"), Loader=loader)
    return document


@functools.cache
def _spec_routes() -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """(path pattern, {METHOD: operationId}) per path of the spec. A 405's Allow lists every
    method (the framework's router names only the first route it tried), and faults and the
    journal name requests by operation."""
    spec = spec_document()
    routes = []
    for template, item in spec["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        operations = {
            method.upper(): op["operationId"]
            for method, op in item.items()
            if method != "parameters"
        }
        routes.append((re.compile(pattern + "$"), operations))
    return routes


def _allowed_methods(path: str) -> list[str]:
    for pattern, operations in _spec_routes():
        if pattern.match(path):
            return sorted(operations)
    return []


def operation_for(method: str, path: str) -> str | None:
    for pattern, operations in _spec_routes():
        if pattern.match(path):
            return operations.get(method)
    return None


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


def create_app(settings: Settings, generation: str | None = None) -> ASGIApp:
    service = Service(settings, generation or uuid.uuid4().hex)

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
        middlewares=[
            ServerErrorMiddleware,
            ExceptionMiddleware,
            RoutingMiddleware,
            GatewayMiddleware.factory(settings),
            RequestValidationMiddleware,
            ResponseValidationMiddleware,
            RequestIdHeader,
            LifespanMiddleware,
            ContextMiddleware,
        ],
    )
    api._middleware_app.api_cls = _Api  # decorate handlers once, not per request
    api.add_api(
        copy.deepcopy(spec_document()),  # a copy: connexion fills in the dict it is given
        resolver=Resolver(lambda operation_id: getattr(service, operation_id)),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=_VALIDATORS,
    )
    # connexion's validated, $ref-resolved spec: the fast lane compiles from the same one
    resolved = api.middleware.apis[-1].specification
    if settings.control:
        api.add_api(
            control_spec_path(),
            base_path=CONTROL_PREFIX.rstrip("/"),
            resolver=Resolver(lambda operation_id: getattr(Control(service), operation_id)),
            strict_validation=True,
            validate_responses=settings.validate_responses,
            validator_map=_VALIDATORS,
        )
    api.add_error_handler(ApiError, _on_api_error)
    api.add_error_handler(ProblemException, _on_http_error)
    api.add_error_handler(HTTPException, _on_http_error)
    api.add_error_handler(Exception, _on_unexpected)
    uploads = UploadEndpoint(settings, service.store, service.uploads)
    gateway = GatewayMiddleware(api, settings)
    fast = FastLane(resolved, service, gateway, settings.validate_responses)
    frontdoor = Frontdoor(api, uploads, settings, fast)
    frontdoor.service = service
    frontdoor.pages = Pages(settings, service)
    return frontdoor


class RequestIdHeader:
    """Puts the request id on the handlers' answers inside connexion, so that response
    validation sees the header the spec requires (the front door adds it to every other
    answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = (b"x-request-id", _request_id(scope).encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)


class Frontdoor:
    """Every request's first stop: gives it an id, routes it, and logs one line when it ends."""

    def __init__(
        self, api: ASGIApp, uploads: ASGIApp, settings: Settings, fast: FastLane | None = None
    ) -> None:
        self.api = api
        self.fast = fast
        self.uploads = uploads
        self.settings = settings
        self.service: Service | None = None
        self.pages: Pages | None = None  # the docs and the dashboard (pages.py)
        self._upload_prefix = f"/{BUCKET}/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)  # lifespan
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        operation = self._operation(scope) if self.settings.control else None
        try:
            if not await self._inject_fault(operation, scope, receive, send_with_id):
                await self._route(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if status:
                raise  # the answer has begun; the server closes the connection
            scope["state"]["error_code"] = Codes.INTERNAL.code
            await render(ApiError(Codes.INTERNAL), request_id)(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.settings.log_requests:
                self._log(scope, status, seconds)
            if operation is not None:
                self._store().journal_append(journal_entry(scope, operation, status, seconds))

    def _operation(self, scope: Scope) -> str | None:
        """The emulated operation a request is for (`upload` for uploads), or None; notes the
        job it names, for the journal."""
        path: str = scope["path"]
        if path.startswith(self._upload_prefix):
            scope["state"]["job_id"] = job_id_from_key(path[len(self._upload_prefix) :])
            return "upload"
        operation = operation_for(scope["method"], path)
        if operation in ("commit_short_job", "show_short_job"):
            scope["state"]["job_id"] = path.rsplit("/", 1)[-1]
        return operation

    def _store(self) -> Store:
        assert self.service is not None
        return self.service.store

    async def _inject_fault(
        self, operation: str | None, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        if operation is None:
            return False
        fault = self._store().take_fault(operation)
        return fault is not None and await apply_fault(fault, operation, scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path == "/" and scope["method"] in ("GET", "HEAD"):
            await JSONResponse({"status": "ready", "service": "short-jobs-mock"})(
                scope, receive, send
            )
        elif path.startswith(self._upload_prefix):
            await self.uploads(scope, receive, send)
        elif self.pages is not None and self.pages.handles(scope["method"], path):
            await self.pages(scope, receive, send)
        else:
            if self.fast is not None:
                declined = await self.fast(scope, receive, send)
                if declined is None:
                    return  # answered
                receive = declined  # connexion gets the body the fast lane read, replayed
            await self.api(scope, receive, send)

    def _log(self, scope: Scope, status: int, seconds: float) -> None:
        state = scope.get("state", {})
        client = scope.get("client") or ("-", 0)
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope["path"] + (
            "?" + query if query and not scope["path"].startswith(self._upload_prefix) else ""
        )
        access_log.info(
            '%s "%s %s" %d %s %.1fms rid=%s',
            client[0],
            scope["method"],
            target,
            status,
            state.get("error_code", "-"),
            seconds * 1000,
            state.get("request_id", "-"),
        )


def app_from_environ() -> ASGIApp:
    """uvicorn's factory: settings from the environment (see `cli.run`)."""
    return create_app(Settings.from_environ(), os.environ.get("SHORT_JOBS_MOCK_GENERATION"))
