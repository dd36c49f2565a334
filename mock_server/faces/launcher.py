"""`short-jobs-mock` and `python -m mock_server`: start the mock's command line
(`mock_server.faces.cli`).

Imports the server stack quietly (`mock_server.faces.extra`) before the command line runs, and
without the toolkit's `mock` extra exits 1 with one line saying what to install.
"""

from __future__ import annotations

import sys

from mock_server.faces.extra import MockExtraMissing, import_server_module

COMMAND = "short-jobs-mock"


def main() -> None:
    try:
        # The app first: its import brings connexion in, and uvicorn then finds it already loaded.
        import_server_module("mock_server.app", needed_by=COMMAND)
        cli = import_server_module("mock_server.faces.cli", needed_by=COMMAND)
    except MockExtraMissing as missing:
        sys.exit(f"error: {missing}")
    cli.main()
