"""Checking an answer against ``openapi.yaml``: the statements the spec itself can make.

For an operation's answer: the status is one the operation declares (``status-declared``); every
header the declared response marks ``required`` is present (``required-headers``, e.g.
``X-Request-Id``); the Content-Type is a declared media type (``media-type``); the body is valid
against the declared schema (``body-schema``, JSON Schema draft 4, the dialect OpenAPI 3.0's
schemas are based on; unknown properties are allowed, as the spec does not forbid them).

Needs the ``conformance`` extra (PyYAML to read the spec, jsonschema to validate): the base
install stays free of both.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from short_jobs.conformance.exchange import Exchange, Finding

__all__ = ["Contract", "default_spec_path"]

_JSON = "application/json"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def default_spec_path() -> Path:
    """``openapi.yaml``: shipped inside this package in a wheel, beside it in a checkout."""
    shipped = importlib.resources.files("short_jobs.conformance") / "openapi.yaml"
    if shipped.is_file():
        return Path(str(shipped))
    checkout = Path(__file__).resolve().parents[2] / "openapi.yaml"
    if checkout.is_file():
        return checkout
    raise FileNotFoundError("openapi.yaml is neither in the package nor in the checkout")


class Contract:
    """The parsed spec, answering which responses each operation declares."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._operations: dict[str, Mapping[str, Any]] = {}
        for path_item in document.get("paths", {}).values():
            for method in _METHODS:
                operation = path_item.get(method)
                if isinstance(operation, Mapping) and "operationId" in operation:
                    self._operations[operation["operationId"]] = operation

    @classmethod
    def load(cls, path: Path | None = None) -> Contract:
        """Read the spec at ``path`` (default: :func:`default_spec_path`)."""
        source = path or default_spec_path()
        stat = source.stat()
        return cls(_parse(str(source), stat.st_size, stat.st_mtime_ns))

    @property
    def operation_ids(self) -> frozenset[str]:
        return frozenset(self._operations)

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a local ``$ref`` (``#/components/...``) to what it names."""
        while "$ref" in node:
            target: Any = self.document
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def declared_statuses(self, operation_id: str) -> list[str]:
        """The response keys of the operation: ``"200"``, ``"400"``..., maybe ``"default"``."""
        return list(self._operations[operation_id].get("responses", {}))

    def response(self, operation_id: str, status: int) -> Mapping[str, Any] | None:
        """The declared response for ``status`` (or ``default``), resolved; ``None`` if none."""
        responses = self._operations[operation_id].get("responses", {})
        declared = responses.get(str(status), responses.get("default"))
        return None if declared is None else self._resolve(declared)

    def check(self, operation_id: str, exchange: Exchange) -> list[Finding]:
        """What the spec says about this answer that it does not keep (empty: all kept)."""
        declared = self.response(operation_id, exchange.status)
        if declared is None:
            statuses = ", ".join(self.declared_statuses(operation_id))
            return [
                Finding(
                    "status-declared",
                    f"a status {operation_id} declares ({statuses})",
                    str(exchange.status),
                )
            ]
        found = self._check_headers(declared, exchange)
        content = declared.get("content")
        if isinstance(content, Mapping) and content:
            found += self._check_content(content, exchange)
        return found

    def _check_headers(self, declared: Mapping[str, Any], exchange: Exchange) -> list[Finding]:
        found = []
        for name, header in declared.get("headers", {}).items():
            if self._resolve(header).get("required") and name not in exchange.headers:
                found.append(Finding("required-headers", f"a {name} header", "none"))
        return found

    def _check_content(self, content: Mapping[str, Any], exchange: Exchange) -> list[Finding]:
        media = exchange.media_type
        if media not in content:
            declared = ", ".join(content)
            return [Finding("media-type", f"Content-Type {declared}", media or "none")]
        schema = content[media].get("schema")
        if media != _JSON or schema is None:
            return []
        if exchange.parsed is None:
            return [Finding("body-schema", "a JSON body", _snippet(exchange.body))]
        return self.validate(schema, exchange.parsed)

    def validate(self, schema: Mapping[str, Any], value: Any) -> list[Finding]:
        """Validate ``value`` against ``schema`` (may ``$ref`` the spec's components)."""
        wrapper = {"components": self.document.get("components", {}), "allOf": [schema]}
        validator = jsonschema.Draft4Validator(wrapper)
        name = str(schema.get("$ref", "the schema")).rsplit("/", 1)[-1]
        return [
            Finding("body-schema", f"a body valid as {name}", f"{error.message} at {_where(error)}")
            for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        ]


def _where(error: jsonschema.ValidationError) -> str:
    parts = (f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path)
    return "$" + "".join(parts)


def _snippet(body: bytes) -> str:
    text = body[:80].decode("utf-8", "replace")
    return repr(text) if body else "an empty body"


@functools.lru_cache(maxsize=8)
def _parse(source: str, _size: int, _mtime_ns: int) -> Mapping[str, Any]:
    """The spec at ``source``, parsed once per version of the file (a run only reads it)."""
    document = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{source} is not an OpenAPI document")
    return document
