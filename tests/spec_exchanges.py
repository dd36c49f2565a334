"""Every exchange of the suite's own mock runs, checked against the spec it came from.

The mock serves three specs: `openapi.yaml` (the API), `control.yaml` (under `/_mock`) and
`iam.yaml` (on IAM's port). An exchange is one of a spec when its method and path are an
operation of it; its answer must then be declared there: the status (or its `NXX`, or
`default`), the media type, and a JSON body valid against the declared schema (OpenAPI 3.0
semantics, `nullable` included, by openapi-schema-validator). Answers of an armed fault are the
test's choice, not the spec's, and are left out (`RequestState.fault`).

`Watcher` is ASGI middleware for `mock_server.faces.inprocess.WATCHERS`; it keeps what it finds
in `VIOLATIONS`, which conftest.py checks after every test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from openapi_schema_validator import OAS30Validator

from mock_server.core.asgi import ASGIApp, Message, Receive, Scope, Send
from mock_server.core.config import Settings
from mock_server.core.spec import control_document, iam_spec_document, spec_document
from mock_server.core.state import state_of

VIOLATIONS: list[str] = []


def _resolve(node: Any, root: Mapping[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by what it points at (the specs have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, root)
        return {key: _resolve(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, root) for value in node]
    return node


class SpecOperations:
    """The operations of one spec, mounted under `prefix`, resolved."""

    def __init__(self, document: Mapping[str, Any], prefix: str = "") -> None:
        self.name = document["info"]["title"]
        resolved = _resolve(dict(document), document)
        self.operations: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in resolved["paths"].items():
            pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(prefix + template)))
            for method, operation in item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    self.operations.append((pattern, method.upper(), operation))

    def problem(
        self, method: str, path: str, status: int, content_type: str | None, body: bytes
    ) -> str | None:
        """Why this answer is not one the spec declares, or None (also when the request is
        no operation of this spec)."""
        found = [
            operation
            for pattern, op_method, operation in self.operations
            if op_method == method and pattern.fullmatch(path)
        ]
        if not found:
            return None
        operation = found[0]
        where = f"{self.name}: {operation['operationId']} ({method} {path}) answered {status}"
        responses = operation["responses"]
        declared = (
            responses.get(str(status))
            or responses.get(f"{status // 100}XX")
            or responses.get("default")
        )
        if declared is None:
            return f"{where}, which is not declared (declared: {', '.join(sorted(responses))})"
        content = declared.get("content") or {}
        if not content:
            return (
                None
                if not body or method == "HEAD"
                else f"{where} with a body none is declared for"
            )
        essence = (content_type or "").split(";")[0].strip().lower()
        if essence not in content:
            return f"{where} as {content_type!r}, declared: {', '.join(content)}"
        schema = content[essence].get("schema")
        if schema is None or "json" not in essence or method == "HEAD":
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return f"{where} with a body that is not JSON: {body[:80]!r}"
        errors = sorted(OAS30Validator(schema).iter_errors(document), key=str)
        if errors:
            return f"{where} with a body not of its schema: {errors[0].message[:200]}"
        return None


@cache
def the_specs() -> tuple[SpecOperations, SpecOperations, SpecOperations]:
    return (
        SpecOperations(spec_document()),
        SpecOperations(control_document(), "/_mock"),
        SpecOperations(iam_spec_document()),
    )


class Watcher:
    """Records each answer of `app` and checks it against its spec (module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.iam_port = settings.iam_listen_port
        self.control = settings.control  # without it, /_mock/... is no API (404 APIGW.0101)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        content_type: str | None = None
        body = bytearray()

        async def watched(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, watched)
        if not status or state_of(scope).fault:
            return
        server = scope.get("server")
        api, control, iam = the_specs()
        if server is not None and server[1] == self.iam_port:
            specs: tuple[SpecOperations, ...] = (iam,)
        else:
            specs = (api, control) if self.control else (api,)
        for spec in specs:
            problem = spec.problem(
                scope["method"], scope["path"], status, content_type, bytes(body)
            )
            if problem is not None:
                VIOLATIONS.append(problem)
