"""The fast lane: create and show answered without connexion's per-request machinery.

connexion rebuilds its validators, URI parsers and handler decorators on every request; for the
two calls a client makes most (create, and show while polling) that is most of the mock's CPU.
The fast lane checks the same things with objects compiled once from the same `openapi.yaml`:
the path template, the parameters' schemas (connexion's `Draft4Validator`), the request body's
schema with its defaults (connexion's own defaults-filling `Draft4RequestValidator`) and, with
`--validate-responses`, the response body's schema (`Draft4ResponseValidator`).

It only ever answers a request that passes every check: the gateway's (auth, project), the
spec's (no query string, parameters, a JSON body of the schema). Anything else - a failed or
unusual check, a body over 64 KiB, an operation with non-string parameters - is handed to
connexion untouched (the body replayed), so every error answer is still connexion's and the
gateway's, word for word. What the handler itself refuses (an unknown job) is rendered by
`errors.render`, as the connexion path renders it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.jsonifier import Jsonifier
from connexion.spec import Specification
from connexion.validators.json import DefaultsJSONRequestBodyValidator
from jsonschema import Draft4Validator
from starlette.types import Message, Receive, Scope, Send

from mock_server.errors import ApiError, render
from mock_server.gateway import MAX_BODY_BYTES, GatewayMiddleware
from mock_server.service import Service

log = logging.getLogger("mock_server")

# The operations worth a fast lane: what clients call most. Commit and the rest go to connexion.
FAST_OPERATIONS = ("create_short_job", "show_short_job")
_MAX_FAST_BODY = 64 * 1024
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
_DefaultsValidator = DefaultsJSONRequestBodyValidator.extend_with_set_default(
    Draft4RequestValidator
)
_jsonifier = Jsonifier()


@dataclass(frozen=True)
class _Parameter:
    name: str
    header: bytes | None  # lower-case header name, or None for a path parameter
    required: bool
    validator: Any


@dataclass(frozen=True)
class _Operation:
    operation_id: str
    method: str
    path: re.Pattern[str]
    parameters: tuple[_Parameter, ...]
    body: Any | None  # the request body's validator, None when the operation takes none
    response: Any | None  # the 200 body's validator, when responses are validated


class FastLane:
    def __init__(
        self, spec: Specification, service: Service, gateway: GatewayMiddleware, validate: bool
    ) -> None:
        """`spec`: connexion's resolved specification (its `$ref`s followed)."""
        self.service = service
        self.gateway = gateway
        self.operations = [
            op
            for op in (_compile(spec, operation_id, validate) for operation_id in FAST_OPERATIONS)
            if op is not None
        ]
        self.handlers: dict[str, Callable[[Scope, dict[str, str], Any], Any]] = {
            "create_short_job": self._create,
            "show_short_job": self._show,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer the request and return None, or return the `receive` connexion must use."""
        operation, params = self._match(scope)
        if operation is None:
            return receive
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        body = b""
        if operation.body is not None:
            read, receive = await _read_small_body(headers, receive)
            if read is None:
                return receive
            body = read
        elif _content_length(headers) not in (None, 0):
            return receive
        try:
            self.gateway.authenticate({**scope, "path_params": params}, body)
        except ApiError:
            return receive
        if not _valid_parameters(operation, params, headers):
            return receive
        document = None
        if operation.body is not None:
            document = _valid_body(operation.body, headers, body)
            if document is None:
                return receive
        try:
            result = self.handlers[operation.operation_id](scope, params, document)
        except ApiError as error:
            scope["state"]["error_code"] = error.code.code
            await render(error, scope["state"]["request_id"])(scope, receive, send)
            return None
        if operation.response is not None:
            operation.response.validate(result)  # a failure answers 500, as connexion's does
        payload = _jsonifier.dumps(result).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return None

    def _match(self, scope: Scope) -> tuple[_Operation | None, dict[str, str]]:
        if scope.get("query_string"):
            return None, {}  # strict validation: the fast operations take no query parameter
        method, path = scope["method"], scope["path"]
        for operation in self.operations:
            if operation.method == method and (found := operation.path.fullmatch(path)):
                return operation, found.groupdict()
        return None, {}

    def _create(self, scope: Scope, params: dict[str, str], body: Any) -> Any:
        return self.service.create(params["project_id"], body, scope)

    def _show(self, scope: Scope, params: dict[str, str], body: Any) -> Any:
        return self.service.show(params["project_id"], params["job_id"])


def _compile(spec: Specification, operation_id: str, validate: bool) -> _Operation | None:
    for template, item in spec["paths"].items():
        for method, definition in item.items():
            if not isinstance(definition, dict) or definition.get("operationId") != operation_id:
                continue
            merged = {(p["in"], p["name"]): p for p in item.get("parameters", [])}
            merged.update({(p["in"], p["name"]): p for p in definition.get("parameters", [])})
            parameters = []
            for (where, name), param in merged.items():
                schema = param.get("schema", {})
                if where not in ("path", "header") or schema.get("type") != "string":
                    return None  # only what needs no coercion; the rest stays connexion's
                parameters.append(
                    _Parameter(
                        name=name,
                        header=name.lower().encode() if where == "header" else None,
                        required=bool(param.get("required")),
                        validator=Draft4Validator(
                            schema, format_checker=Draft4Validator.FORMAT_CHECKER
                        ),
                    )
                )
            body = None
            if "requestBody" in definition:
                content = definition["requestBody"].get("content", {})
                if list(content) != ["application/json"]:
                    return None
                body = _DefaultsValidator(
                    {**content["application/json"]["schema"], "components": spec["components"]},
                    format_checker=Draft4Validator.FORMAT_CHECKER,
                )
            response = None
            if validate:
                ok = definition["responses"]["200"].get("content", {}).get("application/json")
                if ok is None:
                    return None
                response = Draft4ResponseValidator(
                    {**ok["schema"], "components": spec["components"]},
                    format_checker=Draft4Validator.FORMAT_CHECKER,
                )
            pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            return _Operation(
                operation_id=operation_id,
                method=method.upper(),
                path=re.compile(pattern),
                parameters=tuple(parameters),
                body=body,
                response=response,
            )
    return None


def _valid_parameters(
    operation: _Operation, params: dict[str, str], headers: list[tuple[bytes, bytes]]
) -> bool:
    for parameter in operation.parameters:
        if parameter.header is None:
            value: str | None = params.get(parameter.name)
        else:
            value = _header(headers, parameter.header)
        if value is None:
            if parameter.required:
                return False
            continue
        if value.strip() in ("null", "None") or not parameter.validator.is_valid(value):
            return False  # connexion's null handling and messages: let it decide
    return True


def _valid_body(validator: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> Any | None:
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), None)
    if content_type is None or content_type.lower() not in _JSON_TYPES or not body:
        return None
    try:
        document = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    # The validator fills the spec's defaults into `document` as it goes, as connexion's does.
    if not isinstance(document, dict) or next(validator.iter_errors(document), None) is not None:
        return None
    return document


async def _read_small_body(
    headers: list[tuple[bytes, bytes]], receive: Receive
) -> tuple[bytes | None, Receive]:
    """The whole body (None if the declared length is large or the client left before its end),
    and a `receive` that replays what was read, for connexion."""
    length = _content_length(headers)
    if length is None or length > min(_MAX_FAST_BODY, MAX_BODY_BYTES):
        return None, receive
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # gone before the end: connexion sees it too
            partial = {"type": "http.request", "body": b"".join(chunks), "more_body": True}
            return None, _replay([partial, message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    value = _header(headers, b"content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None
