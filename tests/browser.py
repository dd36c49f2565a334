"""Headless Chromium (Debian's `chromium` package) for tests that check pages as a person sees them.

`render(url)` runs one Chromium process with a fresh, empty profile, lets the page's scripts run
(a virtual-time budget, so no real waiting for timers), and answers the DOM after they ran
(`--dump-dom`). Every switch that makes Chromium call home or update itself is off, so it sends
nothing anywhere but the URL it is given (127.0.0.1 in the tests).

Tests that need it take the `chromium` fixture (tests/conftest.py), which skips them with the
reason when Chromium is not installed; `.ci/run` installs it, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

# Debian's package installs /usr/bin/chromium; other distributions name it otherwise.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MISSING = (
    "Chromium is not installed (Debian: apt-get install chromium); "
    "the browser tests need it and .ci/run installs it"
)


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM if set, else the first of CANDIDATES on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if shutil.which(configured) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    def __init__(self, executable: str) -> None:
        self.executable = executable

    def _command(self, profile: Path, *extra: str) -> list[str]:
        return [
            self.executable,
            "--headless",
            "--no-sandbox",  # tests run as root in CI
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-features=Translate,MediaRouter,OptimizationHints",
            "--metrics-recording-only",
            f"--user-data-dir={profile}",
            *extra,
        ]

    def _run(self, *args: str, timeout: float = 60) -> str:
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            result = subprocess.run(
                self._command(Path(profile), *args),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
        return result.stdout

    def dump_dom(self, url: str, *, budget_ms: int = 5000) -> str:
        """The page's DOM, serialised after its scripts had `budget_ms` of virtual time."""
        return self._run(f"--virtual-time-budget={budget_ms}", "--dump-dom", url)


# -- reading the dumped DOM ----------------------------------------------------------------------

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


@dataclass
class Node:
    """An element of a parsed DOM: tag, attributes, children (elements and text)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(
        self, tag: str | None = None, *, cls: str | None = None, **attrs: str
    ) -> list[Node]:
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and (cls is None or cls in node.classes)
            and all(node.attrs.get(k) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls=cls, **attrs)
        if not found:
            raise LookupError(f"no <{tag or '*'}> with class={cls!r} {attrs} in the page")
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    """A tree of `Node`s from serialised HTML (what `Chromium.dump_dom` answers)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
