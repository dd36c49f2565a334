"""A stand-in that drifts the way a vendor's service might: a proxy in front of the mock.

It forwards every request to the mock unchanged (the Host header too, so AK/SK signatures made
for the proxy's address still verify) and hands each answer to a ``drift`` function that may
change it: drop a header, change a status, rename a field. It also keeps what crossed the wire,
for tests that must know every secret that was sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import plain_http
from helpers import StubServer

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)


@dataclass
class Answer:
    """One forwarded exchange; a drift changes ``status``, ``headers`` or ``body``."""

    method: str
    path: str
    request_headers: dict[str, str]
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()


Drift = Callable[[Answer], None]


@dataclass
class Proxy:
    url: str
    seen: list[Answer] = field(default_factory=list)


def _handler(upstream: httpx.Client, drift: Drift, proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            response = upstream.request(self.command, self.path, headers=headers, content=body)
            answer = Answer(
                self.command,
                self.path,
                headers,
                response.status_code,
                {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP},
                response.content,
            )
            drift(answer)
            proxy.seen.append(answer)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() not in ("server", "date"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = forward

    return Handler


@contextmanager
def drifting_proxy(upstream_url: str, drift: Drift = lambda answer: None) -> Iterator[Proxy]:
    """Serve a proxy to ``upstream_url`` on 127.0.0.1 (a free port) until the block ends."""
    with plain_http.client(base_url=upstream_url, timeout=30) as upstream:
        proxy = Proxy("")
        server = StubServer(("127.0.0.1", 0), _handler(upstream, drift, proxy))
        server.daemon_threads = True
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, name="drift-proxy", daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
