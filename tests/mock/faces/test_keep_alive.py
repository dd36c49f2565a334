"""The mock keeps idle connections open longer than its clients' pools do (the keep-alive race).

An httpx pool reuses an idle connection for up to `keepalive_expiry` (5 s); uvicorn closed idle
connections after 5 s as well, so a poll sent at that moment met a closing socket: httpx.ReadError
in a test of 40 concurrent lifecycles, about 1 run in 10. Every way of serving the mock takes
`KEEP_ALIVE_SECONDS`.
"""

from __future__ import annotations

import inspect

import httpx

from mock_server.core.config import KEEP_ALIVE_SECONDS
from mock_server.faces import cli, inprocess, supervisor


def test_the_mock_outlives_the_idle_expiry_of_httpx_pools() -> None:
    expiry = httpx.Limits().keepalive_expiry
    assert expiry is not None and 2 * expiry < KEEP_ALIVE_SECONDS


def test_every_way_of_serving_takes_the_setting() -> None:
    uses = {
        cli: '"timeout_keep_alive": KEEP_ALIVE_SECONDS',
        inprocess: "timeout_keep_alive=KEEP_ALIVE_SECONDS",
        supervisor: '"keepalive": KEEP_ALIVE_SECONDS',
    }
    for module, use in uses.items():
        assert use in inspect.getsource(module), module.__name__
