"""The short-jobs mock server: a faithful, stateful stand-in for MetaStudio's voice short jobs."""

import warnings

# connexion imports starlette.testclient at import time, which warns about httpx on every start
# of the mock; the mock never uses the test client.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
