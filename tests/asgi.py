"""Calling the mock's ASGI app in-process with raw requests: any method, raw path, header bytes
and body framing, as a server would hand them over (uvicorn's decoding of the path)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    log_lines: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)


class AccessLines(logging.Handler):
    """Collects access-log lines (from any thread: a live server logs in its own)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._changed:
            self.lines.append(self.format(record))
            self._changed.notify_all()

    def about(self, request_id: str, timeout: float = 10) -> list[str]:
        """The lines naming `request_id`, once there is one (a server logs after it answers)."""
        with self._changed:
            self._changed.wait_for(lambda: any(request_id in line for line in self.lines), timeout)
            return [line for line in self.lines if request_id in line]


@contextmanager
def access_lines() -> Iterator[AccessLines]:
    """The access-log lines written while the block runs."""
    logger = logging.getLogger("mock_server.access")
    handler = AccessLines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def call_async(
    app: ASGIApp,
    method: str,
    raw_target: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    chunks: Sequence[bytes] = (),
) -> Answer:
    """One request. `raw_target` is the request target as sent (`/path?query`, percent-encoded);
    `chunks` are the body's `http.request` messages (several: as a chunked body arrives)."""
    raw_path, _, query = raw_target.partition(b"?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # as a live connection: nothing more until it closes
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with access_lines() as log:
        await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], list(start.get("headers", [])), body, list(log.lines))


def call(app: ASGIApp, *args: Any, **kwargs: Any) -> Answer:
    return asyncio.run(call_async(app, *args, **kwargs))
