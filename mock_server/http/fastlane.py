"""The fast lane: an accelerator of the pipeline for create and show, off with `fast_lane=False`.

connexion rebuilds its URI parser and per-request objects for every request; for the two calls a
client makes most (create, and show while polling) that is most of the mock's CPU. The fast lane
sits after the gateway (so the route table has placed the request, the body is read and the
caller authenticated: it repeats none of that) and in front of connexion. It judges the request
with the pipeline's own functions - `validation.check_parameter` and `validation.check_json_body`
on the spec's own (connexion-resolved) schemas, the route table's path parameters, the media
type the gateway parsed - and answers only a request that passes every check, exactly as
connexion would. Anything else (a refused check, a query string, an unusual operation) goes on to
connexion untouched, so every refusal is connexion's. `tests/mock/http/test_fast_lane.py` sends
the whole corpus through both and requires the same answers.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connexion.jsonifier import Jsonifier
from connexion.spec import Specification
from jsonschema import ValidationError

from mock_server.core.asgi import ASGIApp, Receive, Scope, Send
from mock_server.core.errors import ApiError, Codes
from mock_server.core.media import JSON
from mock_server.core.spec import spec_document
from mock_server.core.state import state_of
from mock_server.http.routing import Route
from mock_server.http.validation import (
    check_json_body,
    check_parameter,
    header_value,
    response_validator,
)
from mock_server.service.handlers import Service

log = logging.getLogger("mock_server")

# The operations worth a fast lane: what clients call most. Commit and the rest go to connexion.
FAST_OPERATIONS = ("create_short_job", "show_short_job")


@dataclass(frozen=True, slots=True)
class _Operation:
    parameters: tuple[dict[str, Any], ...]  # the spec's path and header parameters
    body: dict[str, Any] | None  # the JSON request body's schema, if the operation takes one
    body_required: bool
    response: dict[str, Any] | None  # the 200 body's schema, when responses are validated


def resolved_spec() -> Specification:
    """openapi.yaml validated and $ref-resolved as connexion loads it (its public loader)."""
    resolved: Specification = Specification.load(copy.deepcopy(spec_document()))
    return resolved


class FastLane:
    """ASGI middleware: answers what it can, hands the rest to `app` (connexion)."""

    def __init__(
        self,
        app: ASGIApp,
        spec: Callable[[], Specification],
        service: Service,
        jsonifier: Jsonifier,
        validate_responses: bool,
    ) -> None:
        """`spec` loads the resolved specification (its `$ref`s followed), on first use: a
        server's cold start does not wait for it."""
        self.app = app
        self.service = service
        self.jsonifier = jsonifier
        self._spec = spec
        self._validate_responses = validate_responses
        self.handlers: dict[str, Callable[[Scope, Route, Any], Any]] = {
            "create_short_job": self._create,
            "show_short_job": self._show,
        }
        self.answered = 0  # how many requests the fast lane answered (for tests and profiling)

    @functools.cached_property
    def operations(self) -> dict[str, _Operation]:
        spec = self._spec()
        compiled = {
            name: _compile(spec, name, self._validate_responses) for name in FAST_OPERATIONS
        }
        return {name: operation for name, operation in compiled.items() if operation is not None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Route = state_of(scope).route
        operation = self.operations.get(route.operation_id)
        document = None if operation is None else self._accepted(operation, route, scope)
        if document is None:
            await self.app(scope, receive, send)
            return
        result = self.handlers[route.operation_id](scope, route, document)
        if inspect.isawaitable(result):  # show may wait for an assessment (polls:N)
            result = await result
        if operation is not None and operation.response is not None:
            try:
                response_validator(operation.response).validate(result)
            except ValidationError:
                log.exception("the fast lane's answer to %s breaks the spec", route.operation_id)
                raise ApiError(Codes.INTERNAL) from None
        payload = self.jsonifier.dumps(result).encode()
        self.answered += 1
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _accepted(self, operation: _Operation, route: Route, scope: Scope) -> Any | None:
        """The body's document ({} when the operation has none) if connexion would accept the
        request as it is, else None."""
        if scope.get("query_string"):
            return None  # strict validation: the fast operations take no query parameter
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        for param in operation.parameters:
            if param["in"] == "path":
                value: str | None = route.path_params.get(param["name"])
            else:
                value = header_value(headers, param["name"])
            if check_parameter(param["in"], value, param) is not None:
                return None
        if operation.body is None:
            return {}
        if header_value(headers, "content-type") not in (None, JSON):
            return None  # the gateway reduced it to its essence; connexion refuses others
        try:
            document = check_json_body(
                operation.body,
                state_of(scope).body or b"",
                required=operation.body_required,
                nullable=False,
            )
        except ApiError:
            return None
        state_of(scope).document = document
        return document

    def _create(self, scope: Scope, route: Route, body: Any) -> Any:
        return self.service.create(route.path_params["project_id"], body, scope)

    def _show(self, scope: Scope, route: Route, body: Any) -> Any:
        return self.service.show(route.path_params["project_id"], route.path_params["job_id"])


def _compile(spec: Specification, operation_id: str, validate: bool) -> _Operation | None:
    for item in spec["paths"].values():
        for definition in item.values():
            if not isinstance(definition, dict) or definition.get("operationId") != operation_id:
                continue
            merged = {(p["in"], p["name"]): p for p in item.get("parameters", [])}
            merged.update({(p["in"], p["name"]): p for p in definition.get("parameters", [])})
            for (where, _name), param in merged.items():
                if (
                    where not in ("path", "header")
                    or param.get("schema", {}).get("type") != "string"
                ):
                    return None  # only what needs no coercion; the rest stays connexion's
            body = None
            required = False
            if "requestBody" in definition:
                content = definition["requestBody"].get("content", {})
                if list(content) != [JSON]:
                    return None
                body = content[JSON]["schema"]
                required = bool(definition["requestBody"].get("required"))
            response = None
            if validate:
                response = (
                    definition["responses"]["200"].get("content", {}).get(JSON, {}).get("schema")
                )
                if response is None:
                    return None
            return _Operation(tuple(merged.values()), body, required, response)
    return None
