"""Canaries for the private framework hooks listed in `mock_server.http.hooks`.

Each hook the mock takes outside a documented extension point has a test here (or, for the one
that needs the whole app, in tests/mock/http/test_pipeline.py) that fails with the hook's name
when an upgrade moves what it relies on; and the list itself is checked: every hook names a test
that exists and a pin that pyproject.toml holds.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import inspect
import logging
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import plain_http
import pytest
import uvicorn
from connexion.validators import (
    AbstractRequestBodyValidator,
    JSONResponseBodyValidator,
    ParameterValidator,
)
from helpers import ROOT, free_port
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker

from mock_server.control.faults import UNFINISHED_ANSWER
from mock_server.core.asgi import Receive, Scope, Send
from mock_server.faces.inprocess import RunningMock
from mock_server.faces.protocol import PROTOCOL, CoalescedWrites, CoalescingTransport
from mock_server.faces.supervisor import MockWorker
from mock_server.http.hooks import HOOKS, Hook
from mock_server.http.validation import VALIDATOR_MAP_OVERRIDES

BY_NAME = {hook.name: hook for hook in HOOKS}


@functools.cache
def _test_functions() -> frozenset[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        names.update(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        )
    return frozenset(names)


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.name)
def test_every_hook_has_a_canary_and_a_pin(hook: Hook) -> None:
    assert hook.canary in _test_functions(), f"{hook.name}: no test named {hook.canary}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    requirements = [
        requirement
        for group in (
            pyproject["project"]["dependencies"],
            *pyproject["project"]["optional-dependencies"].values(),
        )
        for requirement in group
    ]
    package, _, bounds = hook.pin.partition(">=")
    assert any(
        requirement.startswith(package) and f">={bounds}" in requirement
        for requirement in requirements
    ), f"{hook.name}: pyproject.toml does not pin {hook.pin}"
    # a minor version: >=X.Y,<X.(Y+1) (the developers' guide: a private hook needs one)
    lower, _, upper = bounds.partition(",<")
    major, minor = (int(part) for part in lower.split(".")[:2])
    assert upper == f"{major}.{minor + 1}", f"{hook.name}: {hook.pin} is not a minor-version pin"


def _overridden(name: str) -> type[Any]:
    validator = VALIDATOR_MAP_OVERRIDES[name]
    assert isinstance(validator, type)
    return validator


@pytest.mark.slow
def test_validator_internals_are_where_validation_reads_them() -> None:
    hook = BY_NAME["validator-internals"].name
    # our validators still subclass connexion's, and override methods connexion still calls
    parameter = _overridden("parameter")
    assert issubclass(parameter, ParameterValidator), hook
    for method in ("validate", "validate_parameter", "validate_header_parameter"):
        assert callable(getattr(ParameterValidator, method, None)), f"{hook}: {method} gone"
    source = inspect.getsource(ParameterValidator)
    for call in ("self.validate_header_parameter(", "self.validate_parameter("):
        assert call in source, f"{hook}: connexion no longer calls {call[5:-1]}"
    assert callable(getattr(AbstractRequestBodyValidator, "wrap_receive", None)), hook
    init = inspect.signature(AbstractRequestBodyValidator.__init__).parameters
    for argument in ("schema", "required", "nullable"):
        assert argument in init, f"{hook}: the body validator takes no {argument!r} any more"
    made = AbstractRequestBodyValidator.__new__(AbstractRequestBodyValidator)
    AbstractRequestBodyValidator.__init__(
        made,
        schema={"type": "object"},
        required=True,
        nullable=False,
        encoding="utf-8",
        strict_validation=False,
    )
    assert made._schema == {"type": "object"}, f"{hook}: _schema gone"
    assert made._required is True and made._nullable is False, f"{hook}: _required/_nullable"
    assert hasattr(JSONResponseBodyValidator, "validator"), f"{hook}: response validator moved"


def test_validation_through_the_hook_answers_the_services_codes(mock: RunningMock) -> None:
    """The same hook seen from outside: a bad body and a bad header get the service's codes."""
    collection = f"{mock.url}/v1/{mock.settings.project_id}/voice-training-manage/user/short-jobs"
    headers = {"X-Auth-Token": mock.settings.token, "Content-Type": "application/json"}
    with plain_http.client() as client:
        body = client.post(collection, headers=headers, content=b'{"job_type": 7}')
        header = client.post(collection, headers={**headers, "X-App-UserId": "x" * 500}, json={})
    assert (body.status_code, body.json()["error_code"]) == (400, "MSS.00000002"), body.text
    assert (header.status_code, header.json()["error_code"]) == (400, "MSS.10000003"), header.text


def test_the_swagger_ui_middleware_serves_the_page_alone(mock: RunningMock) -> None:
    hook = BY_NAME["swagger-ui-middleware"].name
    with plain_http.client(base_url=mock.url) as client:
        page = client.get("/ui/")
        script = client.get("/ui/swagger-ui-bundle.js")
    assert page.status_code == 200, f"{hook}: {page.status_code} {page.text[:200]}"
    assert "swagger-ui" in page.text and "/openapi.json" in page.text, hook
    assert script.status_code == 200 and len(script.content) > 10_000, hook


def test_the_uvicorn_worker_still_calls_callback_notify() -> None:
    hook = BY_NAME["uvicorn-worker-notify"].name
    assert issubclass(MockWorker, UvicornWorker)
    assert "callback_notify" in inspect.getsource(UvicornWorker), f"{hook}: not handed to uvicorn"
    parameters = inspect.signature(uvicorn.Config.__init__).parameters
    assert {"callback_notify", "timeout_notify"} <= set(parameters), hook
    for name in ("ppid", "alive", "notify"):
        assert name in inspect.getsource(UvicornWorker.__mro__[1]), f"{hook}: gunicorn's {name}"
    called = threading.Event()

    async def notify() -> None:
        called.set()

    with _serving(_hello, callback_notify=notify, timeout_notify=0.05):
        assert called.wait(20), f"{hook}: uvicorn never called callback_notify"


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def _unfinished(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})


@contextmanager
def _serving(app: Any, **config: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, **config)
    )
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        for _ in range(2000):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


class _H11(CoalescedWrites, H11Protocol):
    """The protocol as the mock builds it where httptools is not installed."""


class _Counted:
    """Records the writes that reach the real transport under a CoalescingTransport."""

    def __init__(self, transport: Any, writes: list[bytes]) -> None:
        self.transport = transport
        self.writes = writes

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


@pytest.mark.parametrize("protocol", [PROTOCOL, _H11], ids=["auto", "h11"])
def test_uvicorns_protocol_writes_each_answer_once_through_the_coalescing_transport(
    protocol: type[asyncio.Protocol], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = BY_NAME["coalesced-writes"].name
    writes: list[bytes] = []
    made = CoalescingTransport.__init__

    def counted(self: CoalescingTransport, transport: asyncio.Transport) -> None:
        made(self, _Counted(transport, writes))  # type: ignore[arg-type]

    monkeypatch.setattr(CoalescingTransport, "__init__", counted)
    with _serving(_hello, http=protocol) as url, httpx.Client() as client:
        answers = [client.get(url).text for _ in range(3)]
    assert answers == ["hello"] * 3
    assert len(writes) == 3, f"{hook}: {len(writes)} writes reached the socket for 3 answers"
    for write in writes:
        assert write.startswith(b"HTTP/1.1 200 "), f"{hook}: a write was no whole answer"
        assert b"hello" in write, f"{hook}: an answer's body went out in a write of its own"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_uvicorn_still_logs_an_unfinished_answer_as_the_cut_filter_expects() -> None:
    hook = BY_NAME["unfinished-answer-message"].name
    records = _Records()
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(records)
    try:
        with _serving(_unfinished) as url:
            with pytest.raises(httpx.HTTPError), plain_http.client() as client:
                client.get(url).read()
            for _ in range(2000):
                if UNFINISHED_ANSWER in records.messages:
                    break
                threading.Event().wait(0.01)
    finally:
        server_log.removeHandler(records)
    assert UNFINISHED_ANSWER in records.messages, f"{hook}: uvicorn now logs {records.messages}"
