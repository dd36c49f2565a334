"""The request id: made here, and only here (the API, the upload endpoint, IAM's trace id).

Every answer carries it as `X-Request-Id` (IAM's also as `X-IAM-Trace-Id`); error bodies of the
gateway repeat it as `request_id`; the journal and the access log record it.
"""

from __future__ import annotations

import random
from typing import Any

from starlette.types import Message, Scope, Send

from mock_server.errors import REQUEST_ID_HEADER

__all__ = ["request_id", "with_request_id"]


def request_id(scope: Scope) -> str:
    """The request's id (32 hex digits), made on first ask and kept in `state`. Unique, not
    secret: the process's PRNG (no system call per request, unlike uuid4)."""
    state: dict[str, Any] = scope.setdefault("state", {})
    made = state.get("request_id")
    if made is None:
        made = state["request_id"] = f"{random.getrandbits(128):032x}"
    return str(made)


def with_request_id(scope: Scope, send: Send) -> Send:
    """`send`, adding X-Request-Id to the answer unless it is there already."""
    header = (REQUEST_ID_HEADER.lower().encode(), request_id(scope).encode())

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == header[0] for name, _ in headers):
                headers.append(header)
            message = {**message, "headers": headers}
        await send(message)

    return send_with_id
