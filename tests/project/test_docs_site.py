"""The docs site as `make docs` builds it (`mkdocs build --strict`), and as a person sees it.

The site is built once per session into a temporary folder. The generated tables must be there,
made from their one source: the mock's options (`mock_server.core.config`) and the control plane's
routes and request bodies (`mock_server/control.yaml`). Headless Chromium renders the home page
and a page with a generated table, served over HTTP on 127.0.0.1, and every internal link on them
must lead to a page that exists, and to an anchor on it that exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import plain_http
import pytest
from browser import Chromium, Node, parse
from helpers import ROOT

from mock_server.core.config import env_names, option_name, setting_docs
from mock_server.core.spec import control_document

# every test here builds the site (mkdocs) or starts a browser
pytestmark = pytest.mark.slow

MKDOCS = Path(sys.executable).parent / "mkdocs"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures
        pass


@pytest.fixture(scope="session")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on a free 127.0.0.1 port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _page(site: Path, name: str) -> Node:
    return parse((site / name).read_text("utf-8"))


def _cells(page: Node) -> list[list[str]]:
    return [
        [cell.text.strip() for cell in row.find_all("td")]
        for table in page.find_all("table")
        for row in table.find_all("tr")
        if row.find_all("td")
    ]


def test_the_mock_page_has_every_option_from_the_settings(site: Path) -> None:
    rows = {row[0]: row for row in _cells(_page(site, "mock.html")) if row[0].startswith("--")}
    names = list(setting_docs())
    assert len(names) >= 20
    for name in names:
        option = option_name(name)
        [row] = [row for key, row in rows.items() if key.split("/")[0] == option]
        assert row[1] == ", ".join(env_names(name)), row
        assert row[3] == setting_docs()[name].help.replace("`", ""), row


def test_the_control_plane_page_has_every_route_and_body_field(site: Path) -> None:
    page = _page(site, "control-plane.html")
    headings = {h.text.strip().rstrip("¶").strip() for h in page.find_all("h3")}
    document = control_document()
    fields = {row[0] for row in _cells(page) if len(row) == 5}
    routes = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            routes += 1
            assert f"{method.upper()} /_mock{path}" in headings, (method, path)
            body = op.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                if "$ref" in schema:
                    name = schema["$ref"].rsplit("/", 1)[-1]
                    schema = document["components"]["schemas"][name]
                assert set(schema.get("properties", {})) <= fields, (path, method)
    assert routes >= 13


def _internal_links(page: Node, base: str) -> set[str]:
    found = set()
    for anchor in page.find_all("a"):
        href = anchor.attrs.get("href", "")
        if not href or href.startswith(("mailto:", "javascript:")):
            continue
        url = urljoin(base, href)
        if urlsplit(url).netloc == urlsplit(base).netloc:
            found.add(url)
    return found


@pytest.mark.parametrize("name", ["index.html", "mock.html", "getting-started.html"])
def test_a_rendered_page_has_no_broken_internal_link(
    name: str, served: str, chromium: Chromium
) -> None:
    url = urljoin(served, name)
    page = parse(chromium.dump_dom(url, budget_ms=3000))
    assert page.find("title").text.strip().endswith("short-jobs toolkit")
    nav = page.find("nav", cls="md-nav--primary")
    assert "Testing with the fixture" in nav.text  # the theme's navigation was rendered
    links = _internal_links(page, url)
    assert len(links) >= 10, links
    broken = []
    for link in sorted(links):
        target, _, fragment = link.partition("#")
        answer = plain_http.get(target, timeout=10)
        if answer.status_code != 200:
            broken.append(f"{link}: {answer.status_code}")
        elif fragment and not parse(answer.text).find_all(id=fragment):
            broken.append(f"{link}: no element with id {fragment!r}")
    assert not broken, broken


def test_no_page_loads_anything_from_another_host(site: Path) -> None:
    """Scripts, styles, fonts and images all come with the site (it works offline, and the
    browser test sends nothing beyond 127.0.0.1)."""
    loaded = []
    for html in sorted(site.glob("*.html")):
        page = parse(html.read_text("utf-8"))
        for node in page.iter():
            source = node.attrs.get("src") if node.tag in ("script", "img", "iframe") else None
            if node.tag == "link" and node.attrs.get("rel") != "canonical":
                source = node.attrs.get("href")
            if source and urlsplit(source).netloc:
                loaded.append(f"{html.name}: <{node.tag}> {source}")
    assert not loaded, loaded


def test_the_getting_started_page_is_the_readme(site: Path) -> None:
    page = _page(site, "getting-started.html")
    headings = {h.text.strip().rstrip("¶").strip() for h in page.find_all("h2")}
    readme = (ROOT / "README.md").read_text("utf-8")
    assert headings == {line[3:] for line in readme.splitlines() if line.startswith("## ")}
