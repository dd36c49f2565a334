"""Validation from the spec, compiled once, answering the service's codes.

connexion stays the framework and calls these through its documented `validator_map`; the fast
lane calls the very same functions, so a request is judged by one set of rules either way:

- parameters: `check_parameter` (one jsonschema validator per parameter schema, built on first
  use; header values read as UTF-8 text by `text.header_text`, so a message echoes what was sent)
  -> 400 MSS.10000003;
- the JSON body: `check_json_body` (`body.parse_json`, then the schema with its defaults filled
  in, as connexion's `DefaultsJSONRequestBodyValidator` does) -> 400 MSS.10000002 / MSS.00000002;
- no body where the spec declares none: `check_no_body` (an openapi.yaml POST without a
  `requestBody`, i.e. commit, takes an empty body of any media type and framing)
  -> 400 MSS.00000002.

The parsed body is kept in the request's state (`RequestState.document`); handlers get it from there
(`handler_from`), so a body is parsed once and never by a laxer parser.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from connexion import request as current_request
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.json_schema import (
    Draft4RequestValidator,
    Draft4ResponseValidator,
    format_error_with_path,
)
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, AbstractRequestBodyValidator, ParameterValidator
from connexion.validators.json import DefaultsJSONRequestBodyValidator, JSONResponseBodyValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.responses import Response

from mock_server.core.asgi import Answer, Receive, Scope
from mock_server.core.body import parse_json
from mock_server.core.errors import ApiError, Codes
from mock_server.core.spec import spec_document
from mock_server.core.state import state_of
from mock_server.core.text import header_text


class _Compiled:
    """One jsonschema validator per schema dict of the (resolved, unchanging) spec."""

    def __init__(self, build: Callable[[dict[str, Any]], Any]) -> None:
        self._build = build
        self._by_id: dict[int, tuple[dict[str, Any], Any]] = {}

    def get(self, schema: dict[str, Any]) -> Any:
        entry = self._by_id.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, self._build(schema))
            self._by_id[id(schema)] = entry
        return entry[1]


_PARAMETERS = _Compiled(
    lambda param: Draft4Validator(
        param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
    )
)
_BODY_WITH_DEFAULTS = DefaultsJSONRequestBodyValidator.extend_with_set_default(
    Draft4RequestValidator
)
_BODIES = _Compiled(
    lambda schema: _BODY_WITH_DEFAULTS(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
)


_RESPONSES = _Compiled(
    lambda schema: Draft4ResponseValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
)


def response_validator(schema: dict[str, Any]) -> Any:
    """The compiled validator of a response body schema (`--validate-responses`)."""
    return _RESPONSES.get(schema)


class _Memo:
    """Results of a pure check, keyed by the spec object checked against (kept, so that a
    recycled `id` can never match) and the input; bounded: emptied when full. Clients repeat
    themselves (a poll shows the same job, creates send the same body), and jsonschema is the
    largest cost of a request."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._results: dict[tuple[Any, ...], tuple[object, Any]] = {}

    def get(self, spec_object: object, key: tuple[Any, ...]) -> tuple[bool, Any]:
        found = self._results.get((id(spec_object), *key))
        if found is None or found[0] is not spec_object:
            return False, None
        return True, found[1]

    def put(self, spec_object: object, key: tuple[Any, ...], result: Any) -> None:
        if len(self._results) >= self.size:
            self._results.clear()
        self._results[(id(spec_object), *key)] = (spec_object, result)


_PARAMETER_RESULTS = _Memo()
_BODY_RESULTS = _Memo()
_MEMO_BODY_BYTES = 1024


def check_parameter(kind: str, value: Any, param: dict[str, Any]) -> str | None:
    """None if `value` (None when absent) satisfies the spec's parameter `param`, else why."""
    if value is None or (is_nullable(param) and is_null(value)):
        # missing or null: connexion's own rules (required, nullable)
        result: str | None = ParameterValidator.validate_parameter(kind, value, param)
        return result
    memo = isinstance(value, str)
    if memo:
        known, remembered = _PARAMETER_RESULTS.get(param, (kind, value))
        if known:
            return str(remembered) if remembered is not None else None
    try:
        _PARAMETERS.get(param).validate(value)
        result = None
    except ValidationError as error:
        result = f"{kind} parameter {param['name']}: {error.message}"
    if memo:
        _PARAMETER_RESULTS.put(param, (kind, value), result)
    return result


def header_value(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    """The first value of header `name`, as text (what connexion's Headers.get picks)."""
    wanted = name.lower().encode("latin-1")
    for key, value in headers:
        if key.lower() == wanted:
            return header_text(value)
    return None


def check_json_body(schema: dict[str, Any], body: bytes, *, required: bool, nullable: bool) -> Any:
    """The body's document, parsed (RFC 8259) and valid against `schema` with its defaults
    filled in; None for an absent optional body. Raises 400 MSS.10000002 (not JSON) or
    MSS.00000002 (missing, or not the schema)."""
    if not body:
        document = schema.get("default")
        if document is None:
            if required:
                raise ApiError(Codes.INVALID_BODY, "RequestBody is required")
            return None
    else:
        if len(body) <= _MEMO_BODY_BYTES:
            known, remembered = _BODY_RESULTS.get(schema, (body, required, nullable))
            if known:
                return dict(remembered)
        document = parse_json(body)
    if document is None:
        if nullable:
            return None
        raise ApiError(Codes.INVALID_BODY, "Request body must not be empty")
    try:
        _BODIES.get(schema).validate(document)
    except ValidationError as error:
        raise ApiError(
            Codes.INVALID_BODY, f"{error.message}{format_error_with_path(exception=error)}"
        ) from None
    if body and len(body) <= _MEMO_BODY_BYTES and _flat(document):
        _BODY_RESULTS.put(schema, (body, required, nullable), dict(document))
    return document


# Methods whose content has no defined meaning (RFC 9110, sections 9.3.1, 9.3.2): a body sent
# with them is ignored, as before, not refused.
_CONTENT_MEANINGLESS = ("get", "head")


@functools.cache
def bodiless_operations() -> frozenset[str]:
    """The operationIds of openapi.yaml whose method carries content (not GET or HEAD) and that
    declare no `requestBody`: today CommitShortJob alone."""
    return frozenset(
        operation["operationId"]
        for item in spec_document()["paths"].values()
        for method, operation in item.items()
        if method not in _CONTENT_MEANINGLESS
        and isinstance(operation, dict)
        and "operationId" in operation
        and "requestBody" not in operation
    )


def check_no_body(operation_id: str, body: bytes) -> None:
    """Refuse a body sent to an API operation whose contract declares none (and whose method
    gives content a meaning: `bodiless_operations`): 400 MSS.00000002
    (the service's invalid-body code). An empty body passes whatever its Content-Type and
    framing (`Content-Length: 0`, or chunked with no data), as the official SDK sends the
    commit: `Content-Type: application/json`, `Content-Length: 0` (reference, section 1).

    The public material is silent on a commit with a body; the project's decision (issue 21,
    item 5) is that the contract's "none" means none, so a client that sends one learns it.
    """
    if body and operation_id in bodiless_operations():
        raise ApiError(
            Codes.INVALID_BODY,
            f"{operation_id} takes no request body (got {len(body)} bytes); send none",
        )


def _flat(document: Any) -> bool:
    """An object of scalars: remembered, and handed out as a fresh shallow copy each time."""
    return isinstance(document, dict) and all(
        value is None or isinstance(value, str | int | float) for value in document.values()
    )


class _ParameterValidator(ParameterValidator):  # type: ignore[misc]
    def validate(self, scope: Scope) -> None:
        try:
            super().validate(scope)
        except BadRequestProblem as problem:
            raise ApiError(Codes.PARAMETER_VALIDATION, str(problem.detail)) from None
        # connexion validates a body only where the spec declares one; this validator runs for
        # every operation, after the gateway read the body and authenticated the caller
        route = state_of(scope).route
        if route is None or route.control or route.page:
            return
        check_no_body(route.operation_id, state_of(scope).body or b"")
        if route.operation_id in bodiless_operations():
            # the Content-Type of an absent body describes nothing: dropped, or connexion would
            # parse "the form" of a multipart/form-data or urlencoded commit and refuse it
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-type"]

    def validate_header_parameter(self, param: dict[str, Any], request: Any) -> str | None:
        return check_parameter(
            "header", header_value(request.scope["headers"], param["name"]), param
        )

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        return check_parameter(parameter_type, value, param)


class _JsonBody(AbstractRequestBodyValidator):  # type: ignore[misc]
    """connexion's body validator slot, filled by `check_json_body` on the body the gateway read."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        state = state_of(scope)
        document = check_json_body(
            self._schema, state.body or b"", required=self._required, nullable=self._nullable
        )
        state.document = document
        return receive, scope


class _JsonResponse(JSONResponseBodyValidator):  # type: ignore[misc]
    @property
    def validator(self) -> Any:
        return response_validator(self._schema)


VALIDATOR_MAP_OVERRIDES: dict[str, Any] = {
    **VALIDATOR_MAP,
    "parameter": _ParameterValidator,
    "body": MediaTypeDict({"*/*json": _JsonBody}),
    "response": MediaTypeDict({**VALIDATOR_MAP["response"], "*/*json": _JsonResponse}),
}


# What a handler may ask for besides its spec's parameters: the request, framework-free.
_CONTEXT: dict[str, Callable[[], Any]] = {
    "scope": lambda: current_request.scope,  # the ASGI scope (core.asgi.Scope)
    "url": lambda: str(current_request.url),  # the URL the request was sent to
}


def handler_from(function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A domain handler as connexion calls it. The handler knows no framework:

    - `body` is the validated document (`RequestState.document`) instead of connexion parsing
      the body again (its parser is not RFC 8259's: it chokes on big numbers);
    - a parameter named `scope` or `url` gets the request's ASGI scope or URL (`_CONTEXT`);
    - an `Answer` it returns (core.asgi) is answered as it is, byte for byte.
    """
    signature = inspect.signature(function)
    injected = [name for name in _CONTEXT if name in signature.parameters]
    takes_body = "body" in signature.parameters

    async def handler(**kwargs: Any) -> Any:
        if takes_body:
            document = state_of(current_request.scope).document
            if document is not None:
                kwargs["body"] = document
        for name in injected:
            kwargs[name] = _CONTEXT[name]()
        result = await function(**kwargs)
        if isinstance(result, Answer):
            return Response(
                result.body,
                status_code=result.status,
                headers=dict(result.headers),
                media_type=result.media_type,
            )
        return result

    hidden = {"body", *injected}
    handler.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for name, p in signature.parameters.items() if name not in hidden]
    )
    handler.__name__ = getattr(function, "__name__", "handler")
    return handler
