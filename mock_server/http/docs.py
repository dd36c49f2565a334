"""The contract and its docs page, from the same `openapi.yaml`.

    GET /openapi.json    the contract as JSON
    GET /openapi.yaml    the contract as YAML
    GET /ui/             Swagger UI (connexion's support for it, from the `swagger-ui-bundle`
                         package: `connexion[swagger-ui]`), with its static files under /ui/

Like `GET /`, these need no credentials and are not journaled. They are exact paths of the route
table (routing.py), GET and HEAD only: any other method or path near them is no API, 404
APIGW.0101 (no redirects: `/ui` is no page).

The served document is `openapi.yaml` with one change: the `servers` list starts with the URL
the request reached (the mock itself, on whatever host and port it runs), so the docs page's
"Try it out" calls this mock; the contract's own servers follow. Authorize with the `Token`
scheme (`--token`, default `mock-token`) to try calls from the page.
"""

from __future__ import annotations

import copy
import functools
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from starlette.requests import Request
from starlette.responses import Response

from mock_server.core.asgi import Receive, Scope, Send

SPEC_JSON = "/openapi.json"
SPEC_YAML = "/openapi.yaml"
UI_PATH = "/ui/"


def swagger_ui_dir() -> Path | None:
    """Where `swagger-ui-bundle` keeps Swagger UI's files; None when it is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(swagger_ui_path)


class Docs:
    """The ASGI app of the docs paths; `handles` says which requests are its own."""

    def __init__(self, spec: dict[str, Any]) -> None:
        """`spec`: the parsed `openapi.yaml` (not modified)."""
        self._spec = spec
        ui_dir = swagger_ui_dir()
        # The UI's own files: index.html/index.j2 are answered by the template route instead.
        self._ui_files = (
            frozenset(p.name for p in ui_dir.iterdir() if p.is_file()) if ui_dir else frozenset()
        )

    @property
    def has_ui(self) -> bool:
        return bool(self._ui_files)

    def paths(self) -> frozenset[str]:
        """The exact paths served: the contract, and the docs page with its files when
        `swagger-ui-bundle` is installed (its template, index.j2, is no page)."""
        ui = {UI_PATH + name for name in ("", "index.html", *self._ui_files) if name != "index.j2"}
        return frozenset({SPEC_JSON, SPEC_YAML, *(ui if self.has_ui else ())})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path in (SPEC_JSON, SPEC_YAML):
            body, media_type = self._serialised(path, _base_url(scope))
            await Response(body, media_type=media_type)(scope, receive, send)
        else:
            await self._swagger_ui(scope, receive, send)

    def document(self, base_url: str) -> dict[str, Any]:
        """The contract, with `base_url` (this mock) as its first server."""
        document = copy.deepcopy(self._spec)
        servers = [s for s in document.get("servers", []) if s.get("url") != base_url]
        document["servers"] = [{"url": base_url, "description": "This mock"}, *servers]
        return document

    @functools.lru_cache(maxsize=8)  # noqa: B019 (one Docs per app; the Host header varies little)
    def _serialised(self, path: str, base_url: str) -> tuple[bytes, str]:
        document = self.document(base_url)
        if path == SPEC_JSON:
            return json.dumps(document, ensure_ascii=False, indent=2).encode(), "application/json"
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's when present
        text = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True)
        return text.encode(), "application/yaml"

    @cached_property
    def _swagger_ui(self) -> ConnexionMiddleware:
        """connexion's Swagger UI, built on first use (it validates the spec once more).

        Only the UI is connexion's: the documents above are served by `__call__`, so they keep
        the contract's servers (connexion would replace them with a relative one). The UI loads
        `/openapi.json`, the path connexion's template points at for an OpenAPI 3 spec.
        """
        ui = ConnexionMiddleware(_never_reached, middlewares=[SwaggerUIMiddleware])
        ui.add_api(
            copy.deepcopy(self._spec),
            base_path="",
            swagger_ui_options=SwaggerUIOptions(serve_spec=False, swagger_ui_path=UI_PATH[:-1]),
        )
        return ui


def _base_url(scope: Scope) -> str:
    return str(Request(scope).base_url).rstrip("/")


async def _never_reached(scope: Scope, receive: Receive, send: Send) -> None:
    """The route table lets through only paths connexion's Swagger UI answers (`Docs.paths`)."""
    raise RuntimeError(f"the docs page has no {scope['path']}")
