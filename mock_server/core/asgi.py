"""ASGI, the interface between the server and every layer: its types, and one answer type.

The layers below the HTTP layer (`mock_server.http`, the only one that imports a framework) speak
plain ASGI (the ASGI specification, "HTTP connection scope"): these aliases are the ones starlette
declares, written here so that a domain package needs no framework to name them. `Answer` is a
complete answer (status, headers, body) that is itself an ASGI app; it sends the very bytes
starlette's `Response` would (the same header order: the given headers, then Content-Length, then
Content-Type), so moving an answer here from starlette changes nothing on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """One whole HTTP answer. `headers` are sent as given (names lower-cased), then
    Content-Length (unless given, or the status has no body) and Content-Type (`media_type`,
    with `; charset=utf-8` for text/*) unless given."""

    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, content: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """`content` as compact UTF-8 JSON (no NaN), as starlette's JSONResponse renders it."""
        body = json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode("utf-8")
        return cls(status, body, JSON, headers or {})

    @classmethod
    def html(cls, text: str, headers: Mapping[str, str] | None = None) -> Answer:
        return cls(200, text.encode("utf-8"), "text/html", headers or {})

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        names = {name for name, _ in raw}
        if b"content-length" not in names and not (self.status < 200 or self.status in (204, 304)):
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        if self.media_type is not None and b"content-type" not in names:
            media_type = self.media_type
            if media_type.startswith("text/") and "charset=" not in media_type.lower():
                media_type += "; charset=utf-8"
            raw.append((b"content-type", media_type.encode("latin-1")))
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body})


def query_params(scope: Scope) -> dict[str, str]:
    """The query string's parameters, the last value of a repeated name winning (as starlette's
    `Request.query_params.get`); the string is read as latin-1, as starlette reads it."""
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
