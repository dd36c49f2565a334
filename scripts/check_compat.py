"""`make check-compat`: does `openapi.yaml` break what the last release promised?

Usage: ``python scripts/check_compat.py OLD.yaml NEW.yaml``. Exit 0 when every change is additive
(printed as such), 1 with one line per breaking change, 2 when a file cannot be read.

What breaks a client built from OLD, or a service judged by it (docs/compatibility.md, "The
contract"), direction by direction:

- an operation (path and method) removed, or its ``operationId`` renamed (the generated client's
  function names come from it);
- a security scheme removed;
- a parameter removed, a new required one, an optional one made required, its schema narrowed;
- a request media type removed, a request body made required;
- request schemas (what a client sends) *narrowed*: a property removed, a new required property,
  an optional property made required, an enum value removed, a type removed (``number`` to
  ``integer``, ``null`` no longer allowed), a bound tightened (``maxLength`` smaller, ``minimum``
  larger, a new ``pattern``), ``additionalProperties`` closed;
- a response status, response header or response media type removed;
- response schemas (what a client reads) *widened or emptied*: a property removed, a required
  property made optional, an enum value removed, the type changed to one OLD did not have.

Additive, and so allowed in a minor release: a new operation, parameter (optional), property,
media type, response status, or enum value (generated enums keep values they do not know), and a
request schema that accepts more than before.

Only local references (``#/...``) are followed; each is followed once per path through the
schema, so a recursive schema ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = ["additive_changes", "breaking_changes", "main"]

Direction = Literal["request", "response"]
Schema = Mapping[str, Any]
# An operation and the parameters of its path item.
Operation = tuple[dict[str, Any], list[Any]]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Bounds that, made larger (upper) or smaller (lower), accept less.
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")


class _Spec:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any, seen: frozenset[str] = frozenset()) -> tuple[Any, frozenset[str]]:
        """`node` with its `$ref` chain followed, and the refs followed so far."""
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return {}, seen
            seen = seen | {ref}
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node, seen

    def operations(self) -> dict[tuple[str, str], Operation]:
        """{(METHOD, path): (operation, path-level parameters)}."""
        found = {}
        for path, item in (self.document.get("paths") or {}).items():
            item, _ = self.resolve(item)
            for method in METHODS:
                if method in item:
                    found[(method.upper(), path)] = (item[method], item.get("parameters", []))
        return found


def _types(schema: Schema) -> set[str] | None:
    """The JSON types a schema allows (None: any); OpenAPI 3.0's `nullable` adds "null"."""
    declared = schema.get("type")
    if declared is None:
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if schema.get("nullable"):
        types.add("null")
    if "number" in types:
        types.add("integer")
    return types


def _flatten(
    spec: _Spec, schema: Any, seen: frozenset[str]
) -> tuple[dict[str, Any], frozenset[str]]:
    """One schema from `schema` and its `allOf` parts (properties and required merged)."""
    schema, seen = spec.resolve(schema, seen)
    if not isinstance(schema, Mapping):
        return {}, seen
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf", []):
        flat, seen = _flatten(spec, part, seen)
        for key, value in flat.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", []), *value})
            else:
                merged.setdefault(key, value)
    return merged, seen


class _Comparison:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = _Spec(old), _Spec(new)
        self.breaking: list[str] = []
        self.additive: list[str] = []

    def run(self) -> None:
        old_ops, new_ops = self.old.operations(), self.new.operations()
        for key in old_ops.keys() - new_ops.keys():
            self.breaking.append(f"{key[0]} {key[1]}: operation removed")
        for key in sorted(new_ops.keys() - old_ops.keys()):
            self.additive.append(f"{key[0]} {key[1]}: new operation")
        for key in sorted(old_ops.keys() & new_ops.keys()):
            self._operation(f"{key[0]} {key[1]}", old_ops[key], new_ops[key])
        old_schemes = ((self.old.document.get("components") or {}).get("securitySchemes")) or {}
        new_schemes = ((self.new.document.get("components") or {}).get("securitySchemes")) or {}
        for name in sorted(old_schemes.keys() - new_schemes.keys()):
            self.breaking.append(f"security scheme {name}: removed")

    # -- operations ------------------------------------------------------------------------------

    def _operation(
        self,
        where: str,
        old: Operation,
        new: Operation,
    ) -> None:
        old_op, new_op = old[0], new[0]
        if old_op.get("operationId") != new_op.get("operationId"):
            self.breaking.append(
                f"{where}: operationId {old_op.get('operationId')!r} became"
                f" {new_op.get('operationId')!r}"
            )
        self._parameters(where, self._params(self.old, old), self._params(self.new, new))
        self._request_body(where, old_op.get("requestBody"), new_op.get("requestBody"))
        old_responses = old_op.get("responses") or {}
        new_responses = new_op.get("responses") or {}
        for status in sorted(map(str, old_responses)):
            if status not in map(str, new_responses):
                self.breaking.append(f"{where}: response {status} removed")
                continue
            self._response(
                f"{where} response {status}",
                self.old.resolve(old_responses[_key(old_responses, status)])[0],
                self.new.resolve(new_responses[_key(new_responses, status)])[0],
            )
        for status in sorted(set(map(str, new_responses)) - set(map(str, old_responses))):
            self.additive.append(f"{where}: new response {status}")

    @staticmethod
    def _params(spec: _Spec, op: Operation) -> dict[tuple[str, str], Any]:
        found = {}
        for raw in [*op[1], *op[0].get("parameters", [])]:  # the operation's win
            param, _ = spec.resolve(raw)
            name = param["name"].lower() if param.get("in") == "header" else param["name"]
            found[(param.get("in", ""), name)] = param
        return found

    def _parameters(
        self, where: str, old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]
    ) -> None:
        for key in sorted(old.keys() - new.keys()):
            self.breaking.append(f"{where}: {key[0]} parameter {key[1]} removed")
        for key in sorted(new.keys() - old.keys()):
            if new[key].get("required"):
                self.breaking.append(f"{where}: new required {key[0]} parameter {key[1]}")
            else:
                self.additive.append(f"{where}: new optional {key[0]} parameter {key[1]}")
        for key in sorted(old.keys() & new.keys()):
            label = f"{where} {key[0]} parameter {key[1]}"
            if new[key].get("required") and not old[key].get("required"):
                self.breaking.append(f"{label}: made required")
            self._schema(label, old[key].get("schema", {}), new[key].get("schema", {}), "request")

    def _request_body(self, where: str, old: Any, new: Any) -> None:
        old, _ = self.old.resolve(old)
        new, _ = self.new.resolve(new)
        if not old:
            if new and new.get("required"):
                self.breaking.append(f"{where}: a required request body where there was none")
            return
        if not new:
            self.breaking.append(f"{where}: request body removed")
            return
        if new.get("required") and not old.get("required"):
            self.breaking.append(f"{where}: request body made required")
        self._content(f"{where} request", old.get("content"), new.get("content"), "request")

    def _response(self, where: str, old: Schema, new: Schema) -> None:
        old_headers = {k.lower(): v for k, v in (old.get("headers") or {}).items()}
        new_headers = {k.lower(): v for k, v in (new.get("headers") or {}).items()}
        for name in sorted(old_headers.keys() - new_headers.keys()):
            self.breaking.append(f"{where}: header {name} removed")
        self._content(where, old.get("content"), new.get("content"), "response")

    def _content(self, where: str, old: Any, new: Any, direction: Direction) -> None:
        old, new = old or {}, new or {}
        for media in sorted(old.keys() - new.keys()):
            self.breaking.append(f"{where}: media type {media} removed")
        for media in sorted(old.keys() & new.keys()):
            self._schema(
                f"{where} {media}",
                (old[media] or {}).get("schema", {}),
                (new[media] or {}).get("schema", {}),
                direction,
            )

    # -- schemas ---------------------------------------------------------------------------------

    def _schema(
        self,
        where: str,
        old_raw: Any,
        new_raw: Any,
        direction: Direction,
        seen: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset()),
    ) -> None:
        # A reference already followed on this path resolves to {} (see _Spec.resolve): a
        # recursive schema ends there.
        old, old_seen = _flatten(self.old, old_raw, seen[0])
        new, new_seen = _flatten(self.new, new_raw, seen[1])
        self._types(where, old, new, direction)
        self._enum(where, old, new, direction)
        if direction == "request":
            self._bounds(where, old, new)
        old_props = old.get("properties") or {}
        new_props = new.get("properties") or {}
        old_req, new_req = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(old_props.keys() - new_props.keys()):
            self.breaking.append(f"{where}: property {name} removed")
        for name in sorted(new_props.keys() - old_props.keys()):
            if direction == "request" and name in new_req:
                self.breaking.append(f"{where}: new required property {name}")
            else:
                self.additive.append(f"{where}: new property {name}")
        for name in sorted(old_props.keys() & new_props.keys()):
            if direction == "request" and name in new_req and name not in old_req:
                self.breaking.append(f"{where}: property {name} made required")
            if direction == "response" and name in old_req and name not in new_req:
                self.breaking.append(f"{where}: property {name} no longer required")
            self._schema(
                f"{where}.{name}", old_props[name], new_props[name], direction, (old_seen, new_seen)
            )
        if (
            direction == "request"
            and old.get("additionalProperties", True) is not False
            and new.get("additionalProperties", True) is False
        ):
            self.breaking.append(f"{where}: additionalProperties closed")
        if "items" in old and "items" in new:
            self._schema(f"{where}[]", old["items"], new["items"], direction, (old_seen, new_seen))

    def _types(self, where: str, old: Schema, new: Schema, direction: Direction) -> None:
        old_types, new_types = _types(old), _types(new)
        if direction == "request":
            # what a client may send must still be accepted
            if new_types is None:
                return
            if old_types is None or old_types - new_types:
                self.breaking.append(
                    f"{where}: type narrowed from {_show(old_types)} to {_show(new_types)}"
                )
        # what a client reads must be of a type it knew
        elif old_types is not None and (new_types is None or new_types - old_types):
            self.breaking.append(
                f"{where}: type changed from {_show(old_types)} to {_show(new_types)}"
            )

    def _enum(self, where: str, old: Schema, new: Schema, direction: Direction) -> None:
        if "enum" not in old:
            if "enum" in new and direction == "request":
                self.breaking.append(f"{where}: an enum where any value was accepted")
            return
        new_values = new.get("enum")
        if new_values is None:
            if direction == "response":
                self.breaking.append(f"{where}: enum dropped, any value may come back")
            return
        for value in old["enum"]:
            if value not in new_values:
                self.breaking.append(f"{where}: enum value {value!r} removed")
        for value in new_values:
            if value not in old["enum"]:
                self.additive.append(f"{where}: new enum value {value!r}")

    def _bounds(self, where: str, old: Schema, new: Schema) -> None:
        for bound in UPPER_BOUNDS:
            if bound in new and (bound not in old or _num(new[bound]) < _num(old[bound])):
                self.breaking.append(f"{where}: {bound} tightened to {new[bound]}")
        for bound in LOWER_BOUNDS:
            if bound in new and (bound not in old or _num(new[bound]) > _num(old[bound])):
                self.breaking.append(f"{where}: {bound} tightened to {new[bound]}")
        if new.get("pattern") is not None and new.get("pattern") != old.get("pattern"):
            self.breaking.append(f"{where}: pattern {new['pattern']!r} where it was not")
        if new.get("format") is not None and new.get("format") != old.get("format"):
            self.breaking.append(f"{where}: format {new['format']!r} where it was not")


def _key(responses: Mapping[Any, Any], status: str) -> Any:
    """The key of `status` in a responses map (YAML may have read 200 as an int)."""
    return next(k for k in responses if str(k) == status)


def _num(value: Any) -> float:
    return float(value) if not isinstance(value, bool) else float("inf")


def _show(types: set[str] | None) -> str:
    if types is None:
        return "any"
    return "/".join(sorted(types - {"integer"} if "number" in types else types))


def _compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> _Comparison:
    comparison = _Comparison(old, new)
    comparison.run()
    return comparison


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One line per change of `new` that breaks what `old` (a parsed OpenAPI 3 document) allowed."""
    return _compare(old, new).breaking


def additive_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One line per change that a minor release may make."""
    return _compare(old, new).additive


def _load(path: Path) -> Mapping[str, Any]:
    document = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(document, Mapping):
        raise ValueError(f"{path}: not a YAML mapping")
    return document


def _lines(prefix: str, items: list[str]) -> Iterator[str]:
    for item in items:
        yield f"{prefix}{item}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: check_compat.py OLD.yaml NEW.yaml", file=sys.stderr)
        return 2
    try:
        old, new = _load(Path(args[0])), _load(Path(args[1]))
    except (OSError, ValueError, yaml.YAMLError) as problem:
        print(f"check-compat: {problem}", file=sys.stderr)
        return 2
    comparison = _compare(old, new)
    for line in _lines("additive: ", comparison.additive):
        print(line)
    if comparison.breaking:
        for line in _lines("BREAKING: ", comparison.breaking):
            print(line, file=sys.stderr)
        print(
            f"check-compat: {len(comparison.breaking)} breaking change(s) of {args[1]} against"
            f" {args[0]}: keep them out, or make them in a major release (docs/compatibility.md)",
            file=sys.stderr,
        )
        return 1
    print(f"check-compat: {args[1]} keeps every promise of {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
