"""The route table: which API a request is, read once from the spec.

The API gateway routes on method and path, exactly: an API is one method on one path template of
`openapi.yaml` (or, with `--control`, of `control.yaml` under `/_mock`). Anything else - a
trailing or doubled slash, a dot segment, a method the path does not have - is no API: the
caller gets 404 APIGW.0101, never a redirect and never a 405 (the reference, section 5).

The pages people look at (the docs at `/openapi.json`, `/openapi.yaml`, `/ui/` and, with
`--control`, the dashboard at `/_mock/ui/`; see pages.py) are routes of this table too, on exact
paths and GET/HEAD only: anything near them (`/ui`, `/ui/x`, `POST /openapi.json`) is no API.

Every part of the pipeline that needs to know the operation (the gateway, the fast lane, faults
and the journal) asks this table; connexion's own router only ever sees requests it has placed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

CONTROL_PREFIX = "/_mock"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PAGE_METHODS = ("GET", "HEAD")
# A path parameter is one whole segment, never a dot segment (RFC 3986, section 3.3), and holds
# no control character (a decoded %0A, %00...): no API has such a path.
_SEGMENT = r"(?!\.{1,2}(?:/|$))[^/\x00-\x1f\x7f]+"
# The path parameters of a route on a path without any (one shared, read-only mapping).
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Route:
    """A placed request: the operation, the path's parameters (decoded, as ASGI gives the path),
    whether it is the test-only control plane (not behind the gateway's authentication) and
    whether it is a page (pages.py: no API, no credentials, not journaled; `operation_id` is
    then the page's path)."""

    operation_id: str
    path_params: Mapping[str, str]
    control: bool = False
    page: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    method: str
    pattern: re.Pattern[str]
    operation_id: str
    control: bool
    page: bool = False
    literal: str | None = None  # the one path it matches, when the template has no parameter


class RouteTable:
    """(method, path template) -> operation, for one or more specs."""

    def __init__(self, entries: Iterable[_Entry]) -> None:
        # A path without parameters is looked up, not matched: the pages and collections, so a
        # request meets no regular expression of theirs. Only a literal that no earlier entry of
        # its method matches is looked up, so the first match still wins, as in a list.
        self._exact: dict[tuple[str, str], Route] = {}
        self._by_method: dict[str, list[_Entry]] = {}  # the rest, matched in order
        seen: dict[str, list[_Entry]] = {}
        for entry in entries:
            earlier = seen.setdefault(entry.method, [])
            literal = entry.literal
            if literal is not None and not any(e.pattern.fullmatch(literal) for e in earlier):
                route = Route(entry.operation_id, _NO_PARAMS, entry.control, entry.page)
                self._exact[entry.method, literal] = route
            else:
                self._by_method.setdefault(entry.method, []).append(entry)
            earlier.append(entry)
        self._all = [entry for placed in seen.values() for entry in placed]

    @classmethod
    def from_specs(
        cls,
        api: Mapping[str, Any],
        control: Mapping[str, Any] | None,
        pages: Collection[str] = (),
    ) -> RouteTable:
        """`api`: the parsed `openapi.yaml`; `control`: the parsed `control.yaml`, or None when
        the control plane is off (its paths then do not exist); `pages`: the exact paths of the
        pages served (`Pages.paths()`), each answering GET and HEAD."""
        entries = [
            _Entry(
                method, re.compile(re.escape(path)), path, control=False, page=True, literal=path
            )
            for path in sorted(pages)
            for method in _PAGE_METHODS
        ]
        entries += _entries(api, "", control=False)
        if control is not None:
            entries += _entries(control, CONTROL_PREFIX, control=True)
        return cls(entries)

    def match(self, method: str, path: str) -> Route | None:
        """The route of `method` on `path` (the ASGI `path`, percent-decoded), or None."""
        exact = self._exact.get((method, path))
        if exact is not None:
            return exact
        for entry in self._by_method.get(method, ()):
            found = entry.pattern.fullmatch(path)
            if found is not None:
                return Route(entry.operation_id, found.groupdict(), entry.control, entry.page)
        return None

    def operations(self) -> set[str]:
        """The operationIds of the specs (pages are no operations)."""
        return {entry.operation_id for entry in self._all if not entry.page}


def _entries(spec: Mapping[str, Any], prefix: str, *, control: bool) -> Iterable[_Entry]:
    for template, item in spec["paths"].items():
        path = prefix + template
        pattern = re.compile(_pattern(path))
        literal = None if pattern.groupindex else path
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield _Entry(
                    method.upper(), pattern, operation["operationId"], control, literal=literal
                )


def _pattern(template: str) -> str:
    """A path template as a regular expression; `{name}` is one segment, captured as `name`."""
    parts = re.split(r"\{([^}]+)\}", template)
    out = []
    for index, part in enumerate(parts):
        out.append(f"(?P<{part}>{_SEGMENT})" if index % 2 else re.escape(part))
    return "".join(out)
