"""The one connexion app factory: the emulated API with its control plane, and IAM, are built here.

Each app is connexion over one or more specs, with the same middleware stack and the same
validators (`validation.VALIDATOR_MAP_OVERRIDES`); handlers are plain domain objects found by
operationId (`validation.handler_from` adapts them), and every error is rendered by the caller's
error handlers in its service's shape. Handlers are decorated once per operation through the
private hook `_Api` (see `hooks.py`, which lists every private framework hook and its canary).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import Lifespan, LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.resolver import Resolver

from mock_server.core.asgi import ASGIApp, Receive, Scope, Send
from mock_server.core.requestid import request_id, with_header
from mock_server.http.validation import VALIDATOR_MAP_OVERRIDES, handler_from

JSONIFIER = Jsonifier()

ErrorHandler = Callable[[ConnexionRequest, Exception], ConnexionResponse]


@dataclass(frozen=True)
class SpecApi:
    """One spec served by an app: the document (a dict, copied before connexion fills it in, or
    a path), the object whose attributes are its handlers, and where it is mounted."""

    document: dict[str, Any] | Path
    handlers: object
    base_path: str | None = None


class IdHeader:
    """A middleware that puts the request id on every answer under `name`, unless it is there."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, with_header(send, self.name, request_id(scope)))


def connexion_app(
    apis: Sequence[SpecApi],
    *,
    id_header: str,
    error_handlers: Mapping[type[Exception], ErrorHandler],
    validate_responses: bool,
    lifespan: Lifespan | None = None,
) -> AsyncApp:
    """connexion over `apis`. Every answer carries the request id under `id_header`
    (`X-Request-Id` for the API, `X-IAM-Trace-Id` for IAM), added inside connexion so that
    response validation sees the header the spec requires; `error_handlers` render each
    exception type (the most general last)."""
    app = AsyncApp(
        __name__,
        lifespan=lifespan,
        jsonifier=JSONIFIER,
        middlewares=[
            ServerErrorMiddleware,
            ExceptionMiddleware,
            RoutingMiddleware,
            RequestValidationMiddleware,
            ResponseValidationMiddleware,
            functools.partial(IdHeader, name=id_header),
            LifespanMiddleware,
            ContextMiddleware,
        ],
    )
    app._middleware_app.api_cls = _Api  # the private hook: hooks.DECORATED_ONCE
    for api in apis:
        document = api.document
        handlers = api.handlers
        app.add_api(
            copy.deepcopy(document) if isinstance(document, dict) else document,
            base_path=api.base_path,
            resolver=Resolver(_resolver(handlers)),
            strict_validation=True,
            validate_responses=validate_responses,
            validator_map=VALIDATOR_MAP_OVERRIDES,
        )
    for exception, handler in error_handlers.items():
        app.add_error_handler(exception, handler)
    return app


def _resolver(handlers: object) -> Callable[[str], Any]:
    return lambda operation_id: handler_from(getattr(handlers, operation_id))


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
