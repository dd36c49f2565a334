"""Run the real mock in-process, on a free loopback port, for tests (ours and our users')."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.core.asgi import ASGIApp
from mock_server.core.config import KEEP_ALIVE_SECONDS, Settings
from mock_server.faces.extra import quiet_imports

with quiet_imports():  # whoever imports this module first also imports connexion
    # scipy.special and scipy.sparse add warning filters when first imported. The mock preloads
    # the assessment on a thread at its first job (service.handlers), which would change the
    # filters of the user's process while a test runs: they are imported here instead, where
    # quiet_imports puts the filters back as they were.
    import scipy.sparse
    import scipy.special  # noqa: F401
    import uvicorn

    from mock_server.app import Frontdoor, create_app
    from mock_server.faces.protocol import PROTOCOL


# ASGI middleware every mock started here is wrapped in, outermost last: for a test suite that
# watches every exchange (this project's checks each against its spec: tests/spec_exchanges.py).
WATCHERS: list[Callable[[ASGIApp, Settings], ASGIApp]] = []


@dataclass(frozen=True)
class RunningMock:
    url: str
    settings: Settings
    app: Frontdoor

    iam_url: str = ""

    @property
    def ak(self) -> str:
        return self.settings.ak

    @property
    def sk(self) -> str:
        return self.settings.sk

    @property
    def project_id(self) -> str:
        return self.settings.project_id

    @property
    def token(self) -> str:
        return self.settings.token

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def iam_user(self) -> str:
        return self.settings.iam_user

    @property
    def iam_password(self) -> str:
        return self.settings.iam_password


@contextmanager
def running_mock(data_dir: Path, **overrides: Any) -> Iterator[RunningMock]:
    """Serve the mock on 127.0.0.1 in a background thread until the block ends, with its IAM
    endpoint on a second free port (`iam_url`).

    Responses are validated against the spec unless `validate_responses=False` is passed, so a
    test run also proves the server keeps the contract.
    """
    overrides.setdefault("validate_responses", True)
    settings = Settings(data_dir=data_dir, port=0).with_overrides(**overrides)
    listener, iam_listener = _listen(settings.host), _listen(settings.host)
    port = listener.getsockname()[1]
    iam_port = iam_listener.getsockname()[1]
    settings = settings.with_overrides(iam_port=iam_port)
    app = create_app(settings)
    assert isinstance(app, Frontdoor)
    served: ASGIApp = app
    for watcher in WATCHERS:
        served = watcher(served, settings)
    config = uvicorn.Config(
        served,
        lifespan="on",
        log_level="warning",
        access_log=False,
        http=PROTOCOL,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [listener, iam_listener]},
        name="short-jobs-mock",
        daemon=True,
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield RunningMock(
            url=f"http://{settings.host}:{port}",
            settings=settings,
            app=app,
            iam_url=f"http://{settings.host}:{iam_port}",
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        iam_listener.close()


def _listen(host: str) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(128)
    return listener


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the mock server did not start")
        time.sleep(0.01)
