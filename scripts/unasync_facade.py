#!/usr/bin/env python3
"""Write the sync facade from the async one, or check that they have not drifted apart.

``short_jobs/_async/facade.py`` is the only hand-written facade; this script turns it into
``short_jobs/_sync/facade.py`` with the ``unasync`` tool (the one httpcore uses: a token rewrite
that drops ``async``/``await`` and renames the async names below), then formats the result with
the project's ruff settings so it passes ``make lint`` as written.

    scripts/unasync_facade.py           rewrite short_jobs/_sync/facade.py
    scripts/unasync_facade.py --check   exit 1 with the diff if it is not what this makes
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync  # type: ignore[import-untyped]  # no type hints shipped

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "short_jobs" / "_async" / "facade.py"
TARGET = ROOT / "short_jobs" / "_sync" / "facade.py"
RUFF = Path(sys.executable).parent / "ruff"
HEADER = "# Generated from short_jobs/_async/facade.py by `make unasync`: do not edit.\n"

REPLACEMENTS = {
    # ours
    "AsyncShortJobs": "ShortJobs",
    "AsyncCall": "Call",
    "AsyncSleep": "Sleep",
    "aremember": "remember",
    "aretry_call": "retry_call",
    "afile_chunks": "file_chunks",
    "aprepared_zip": "prepared_zip",
    # the generated client's
    "asyncio_detailed": "sync_detailed",
    "set_async_httpx_client": "set_httpx_client",
    # httpx's and the standard library's
    "AsyncClient": "Client",
    "aclose": "close",
    "asyncio": "time",  # only asyncio.sleep is used: time.sleep
}


def render() -> str:
    """The sync facade's text, as the rules and ruff make it."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "_async" / "facade.py"
        source.parent.mkdir()
        source.write_text(SOURCE.read_text("utf-8"), "utf-8")
        rule = unasync.Rule("/_async/", "/_sync/", additional_replacements=REPLACEMENTS)
        unasync.unasync_files([str(source)], [rule])
        text = HEADER + (Path(tmp) / "_sync" / "facade.py").read_text("utf-8")
    name = str(TARGET.relative_to(ROOT))
    for command in (["check", "--fix-only", "--select", "I"], ["format"]):
        text = subprocess.run(
            [str(RUFF), *command, "--stdin-filename", name, "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def main(argv: list[str]) -> int:
    text = render()
    if "--check" not in argv:
        TARGET.write_text(text, "utf-8")
        return 0
    current = TARGET.read_text("utf-8") if TARGET.exists() else ""
    if current == text:
        print(f"{TARGET.relative_to(ROOT)} matches {SOURCE.relative_to(ROOT)}")
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        text.splitlines(keepends=True),
        str(TARGET.relative_to(ROOT)),
        "generated from " + str(SOURCE.relative_to(ROOT)),
    )
    sys.stdout.writelines(diff)
    print(
        "the sync facade is stale or hand-edited: run 'make unasync' and commit it", file=sys.stderr
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
