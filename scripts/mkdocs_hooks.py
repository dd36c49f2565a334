"""mkdocs hooks (mkdocs.yml `hooks:`): the docs' tables made from their one source, at build time.

A page writes a marker on a line of its own and the built page has the table in its place:

- ``<!-- generated: mock-options -->``: the mock's options, environment variables, defaults and
  meanings, from the settings' one declaration (`mock_server.core.config.options_table()`, the table
  `short-jobs-mock --help` is made from too);
- ``<!-- generated: control-plane -->``: every route of the control plane (`control.yaml`, read by
  `mock_server.core.spec.control_document()`), with its summary, description, parameters and the
  fields of its request body (type, required, default, allowed values, bounds).

The site's "Getting started" page, `getting-started.md`, is README.md itself (`on_files`), its links
made to work inside the site: `docs/PAGE.md` becomes `PAGE.md`, and a link to a file outside
`docs/` (CHANGELOG.md, LICENSE, ARCHITECTURE.md...) becomes its path as code, since the site holds
no copy of it. README.md stays the one text of the install and quick-start steps.

`generated(marker)` answers the Markdown for a marker; tests/project/test_docs_site.py checks
the built pages against it. A marker the hooks do not know fails the build (`mkdocs build
--strict` is `make docs`), and so does a page whose marker is misspelt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "MARKER",
    "control_plane_routes",
    "generated",
    "mock_options",
    "on_files",
    "on_page_markdown",
    "readme_page",
]

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)
METHODS = ("get", "put", "post", "delete", "patch")
# The control plane's routes live under this prefix of the mock (control.yaml's server URL).
CONTROL_PREFIX = "/_mock"
README = Path(__file__).resolve().parent.parent / "README.md"
README_PAGE = "getting-started.md"
# A Markdown link whose target is not a URL, not an anchor: [text](target)
_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def mock_options() -> str:
    """The mock's options table (Markdown)."""
    from mock_server.core.config import options_table

    return options_table()


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = document
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part]
        node = target
    return node


def _type(document: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    schema = _resolve(document, schema)
    for part in schema.get("allOf", []):
        return _type(document, part)
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type(document, schema.get('items', {}))}"
    if schema.get("nullable"):
        kind += " or null"
    return kind


def _allowed(document: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    """Allowed values and bounds of a field, in words."""
    schema = _resolve(document, schema)
    for part in schema.get("allOf", []):
        inner = _allowed(document, part)
        if inner:
            return inner
    said = []
    if "enum" in schema:
        said.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    if "pattern" in schema:
        said.append(f"matches `{schema['pattern']}`")
    for key, words in (
        ("minimum", ">="),
        ("maximum", "<="),
        ("minLength", "length >="),
        ("maxLength", "length <="),
    ):
        if key in schema:
            said.append(f"{words} {schema[key]}")
    if "default" in schema:
        said.append(f"default `{schema['default']}`")
    return "; ".join(said)


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _fields_table(document: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    schema = _resolve(document, schema)
    properties = schema.get("properties") or {}
    if not properties:
        return [f"Body: a JSON {_type(document, schema)}."]
    required = set(schema.get("required") or [])
    lines = [
        "| field | type | required | allowed | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, field in properties.items():
        described = _resolve(document, field).get("description") or field.get("description")
        lines.append(
            f"| `{name}` | {_type(document, field)} | {'yes' if name in required else 'no'} | "
            f"{_allowed(document, field)} | {_one_line(described)} |"
        )
    if schema.get("additionalProperties") is False:
        lines.append("")
        lines.append("Any other field is refused (400).")
    return lines


def control_plane_routes() -> str:
    """Every control-plane route of control.yaml, with its request body's fields (Markdown)."""
    from mock_server.core.spec import control_document

    document = control_document()
    out: list[str] = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            out.append(f"### `{method.upper()} {CONTROL_PREFIX}{path}`")
            out.append("")
            out.append(f"{_one_line(op.get('summary'))} (operation `{op['operationId']}`).")
            if op.get("description"):
                out.append("")
                out.append(_one_line(op["description"]))
            params = [_resolve(document, p) for p in [*shared, *op.get("parameters", [])]]
            query = [p for p in params if p.get("in") == "query"]
            if query:
                out.append("")
                out.append(
                    "Query parameters: " + "; ".join(_param(document, p) for p in query) + "."
                )
            body = _resolve(document, op.get("requestBody"))
            if body:
                schema = body["content"]["application/json"]["schema"]
                out.append("")
                out.append(
                    "Request body (JSON, "
                    + ("required" if body.get("required") else "optional: it may be left out")
                    + "):"
                )
                out.append("")
                out.extend(_fields_table(document, schema))
            statuses = ", ".join(str(s) for s in op.get("responses", {}))
            out.append("")
            out.append(f"Answers: {statuses}.")
            out.append("")
    return "\n".join(out)


def _param(document: Mapping[str, Any], param: Mapping[str, Any]) -> str:
    allowed = _allowed(document, param.get("schema", {}))
    said = f"`{param['name']}` ({_type(document, param.get('schema', {}))}"
    return said + (f", {allowed})" if allowed else ")")


GENERATORS: dict[str, Callable[[], str]] = {
    "mock-options": mock_options,
    "control-plane": control_plane_routes,
}


def generated(marker: str) -> str:
    """The Markdown a marker stands for; KeyError for a marker no generator makes."""
    return GENERATORS[marker]()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs' hook: each marker replaced by its generated Markdown."""

    def replace(match: re.Match[str]) -> str:
        if match[1] not in GENERATORS:
            raise ValueError(f"{page.file.src_path}: no generator for marker {match[0]!r}")
        return generated(match[1])

    return MARKER.sub(replace, markdown)


def readme_page(text: str) -> str:
    """README.md's Markdown with its links rewritten for a page at the root of the site."""

    def link(match: re.Match[str]) -> str:
        label, target = match[1], match[2]
        if target.startswith("docs/"):
            return f"[{label}]({target.removeprefix('docs/')})"
        return label if label.startswith("`") else f"`{label}`"

    return _LINK.sub(link, text)


def on_files(files: Any, config: Any) -> Any:
    """mkdocs' hook: README.md joins the site as its getting-started page."""
    from mkdocs.structure.files import File

    files.append(
        File.generated(config, README_PAGE, content=readme_page(README.read_text("utf-8")))
    )
    return files
