"""The short-jobs mock server: a faithful, stateful stand-in for MetaStudio's voice short jobs.

Needs the toolkit's `mock` extra (`pip install 'short-jobs-toolkit[mock]'`). This package's own
import is free of side effects and of the server stack, so the pytest plugin in it costs nothing
until used (see `mock_server.faces.extra`).
"""
